// The one reader and writer of the caller's versioned structs (distill.h,
// "Versioned structs"): a struct whose first field is uint32_t struct_size.
//
// A struct_size is accepted when it is the size of a prefix of the struct
// that ends at a field: the end of a field after struct_size, or that end
// rounded up to the prefix's alignment (sizeof of a struct that stops
// there, as an older header declared it). So an older caller's smaller
// struct is read or written as far as it reaches, and nothing else: a size
// inside a field (12 for an int64 at offset 8), 0, or larger than the
// library's sizeof is refused with INVALID_ARGUMENT, naming the struct,
// the accepted sizes and the size given.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "versioned_layouts.h"

namespace distill::capi {

// The struct_size values accepted for T, ascending, the last = sizeof(T).
template <class T>
std::vector<uint32_t> versioned_accepted_sizes() {
    std::vector<uint32_t> sizes;
    size_t align = alignof(uint32_t);
    auto add = [&](size_t size) {
        if (sizes.empty() || sizes.back() < size) sizes.push_back(uint32_t(size));
    };
    for (const field_end & f : versioned_layout<T>::fields) {
        if (f.align > align) align = f.align;
        add(f.end);
        add((f.end + align - 1) / align * align);
    }
    return sizes;
}

// Whether `size` is one of versioned_accepted_sizes<T>().
template <class T>
bool versioned_size_accepted(uint32_t size) {
    for (const uint32_t s : versioned_accepted_sizes<T>())
        if (s == size) return true;
    return false;
}

// Throws INVALID_ARGUMENT unless `size` is accepted for T. `what` names the
// argument's struct_size as the caller wrote it ("options.struct_size",
// "out->struct_size"); `hint` says how to set it right.
template <class T>
void check_versioned_size(uint32_t size, const std::string & what, const char * hint) {
    if (versioned_size_accepted<T>(size)) return;
    std::string sizes;
    const std::vector<uint32_t> accepted = versioned_accepted_sizes<T>();
    for (size_t i = 0; i + 1 < accepted.size(); ++i)
        sizes += (i ? ", " : "") + std::to_string(accepted[i]);
    std::string message = what + ": expected sizeof(" + versioned_layout<T>::name + ") (" +
                          std::to_string(sizeof(T)) + ") or the size of an older version of it (" +
                          sizes + "), got " + std::to_string(size);
    if (size > sizeof(T))
        message += " (the header is newer than the library; upgrade libdistill)";
    else
        message += hint;
    fail_invalid(message);
}

// Options the caller fills: the caller's prefix over `defaults` (a struct of
// the library's own size, filled by its *_init). NULL = the defaults.
// `name` is the argument's name ("options").
template <class T>
T read_versioned(const T * given, const T & defaults, const char * name) {
    if (given == nullptr) return defaults;
    const uint32_t size = given->struct_size;
    check_versioned_size<T>(size, std::string(name) + ".struct_size",
                            " (initialise the struct with its _init function)");
    T result = defaults;
    std::memcpy(static_cast<void *>(&result), given, size);
    return result;
}

// A result the library fills: constructed before the work (so a bad
// struct_size fails the call before anything is done), written after.
// Only the caller's prefix is written; struct_size keeps the caller's value.
// An optional result may be NULL: write() then does nothing.
template <class T>
class versioned_result {
public:
    versioned_result(T * out, const char * name) : out_(out) {
        if (out_ == nullptr) return;
        size_ = out_->struct_size;
        check_versioned_size<T>(size_, std::string(name) + "->struct_size",
                                " (set it to sizeof the struct before the call)");
    }

    void write(T value) const {
        if (out_ == nullptr) return;
        value.struct_size = size_;
        std::memcpy(static_cast<void *>(out_), &value, size_);
    }

private:
    T * out_;
    uint32_t size_ = 0;
};

}  // namespace distill::capi
