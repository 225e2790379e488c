// Reading a caller's versioned options struct: the caller's struct_size
// says how many leading bytes it knows; the rest keep the defaults.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "common/error.h"

namespace distill::capi {

// `defaults` is a struct of the library's own size filled by *_options_init.
template <class Options>
Options read_versioned(const Options * given, const Options & defaults, const char * name) {
    if (given == nullptr) return defaults;
    const uint32_t size = given->struct_size;
    if (size < sizeof(uint32_t))
        fail_invalid(std::string(name) + ".struct_size: expected sizeof the struct (" +
                     std::to_string(sizeof(Options)) + "), got " + std::to_string(size) +
                     " (initialise it with its _options_init function)");
    if (size > sizeof(Options))
        fail_invalid(std::string(name) + ".struct_size: expected at most " +
                     std::to_string(sizeof(Options)) + ", got " + std::to_string(size) +
                     " (the header is newer than the library; upgrade libdistill)");
    Options result = defaults;
    std::memcpy(static_cast<void *>(&result), given, size);
    return result;
}

}  // namespace distill::capi
