// Byte-level building blocks of the store's blobs (position_codec.h):
// a little-endian writer and a bounds-checked reader (every count and
// index read from a blob is checked, so a damaged blob is an error naming
// it, never a crash or a huge allocation), and zstd frames around them.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"

namespace distill::blob_io {

static_assert(std::endian::native == std::endian::little,
              "the blob format is little-endian; add byte swaps for this host");

class writer {
public:
    template <class T>
    void put(T value) {
        const char * p = reinterpret_cast<const char *>(&value);
        bytes_.append(p, sizeof(T));
    }
    void put_varint(uint64_t value) {
        while (value >= 0x80) {
            bytes_.push_back(char(uint8_t(value) | 0x80));
            value >>= 7;
        }
        bytes_.push_back(char(value));
    }
    // Values of sizeof(T) bytes as byte planes: every value's byte 0, then
    // every byte 1, ...: the slowly-varying high bytes of numbers sit
    // together, where zstd finds their repeats.
    template <class T>
    void put_planes(const std::vector<T> & values) {
        for (size_t byte = 0; byte < sizeof(T); ++byte)
            for (const T & value : values)
                bytes_.push_back(reinterpret_cast<const char *>(&value)[byte]);
    }
    const std::string & bytes() const { return bytes_; }

private:
    std::string bytes_;
};

class reader {
public:
    reader(const std::string & bytes, const std::string & what) : bytes_(bytes), what_(what) {}
    template <class T>
    T get() {
        need(sizeof(T));
        T value;
        std::memcpy(&value, bytes_.data() + offset_, sizeof(T));
        offset_ += sizeof(T);
        return value;
    }
    uint64_t get_varint() {
        uint64_t value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            const uint8_t byte = get<uint8_t>();
            value |= uint64_t(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return value;
        }
        damaged("varint too long");
    }
    // `count` values written by writer::put_planes.
    template <class T>
    std::vector<T> get_planes(size_t count) {
        if (count > (bytes_.size() - offset_) / sizeof(T)) damaged("truncated");
        std::vector<T> values(count);
        for (size_t byte = 0; byte < sizeof(T); ++byte)
            for (T & value : values) reinterpret_cast<char *>(&value)[byte] = bytes_[offset_++];
        return values;
    }
    std::string get_short_string() {
        const uint64_t size = get_varint();
        need(size);
        std::string s = bytes_.substr(offset_, size);
        offset_ += size;
        return s;
    }
    // A varint count, refused as get_count below is.
    uint64_t get_varint_count(size_t min_size) {
        const uint64_t count = get_varint();
        if (count > (bytes_.size() - offset_) / min_size) damaged("count past the end");
        return count;
    }
    // A count read from the blob, refused when the rest of the blob could not
    // hold that many items of at least `min_size` bytes (no huge allocation
    // from a damaged count).
    uint32_t get_count(size_t min_size) {
        const uint32_t count = get<uint32_t>();
        if (uint64_t(count) * min_size > bytes_.size() - offset_) damaged("count past the end");
        return count;
    }
    size_t remaining() const { return bytes_.size() - offset_; }
    void expect_end() const {
        if (offset_ != bytes_.size()) damaged("trailing bytes");
    }
    [[noreturn]] void damaged(const char * why) const {
        throw error(status::corrupt_file, what_ + ": damaged blob (" + why + ")");
    }

private:
    void need(size_t size) const {
        if (bytes_.size() - offset_ < size) damaged("truncated");
    }
    const std::string & bytes_;
    const std::string & what_;
    size_t offset_ = 0;
};

// A zstd frame of `raw` at `level`.
std::string compress(const std::string & raw, int level);
// The bytes of a zstd frame; throws internal error naming `what` when the
// blob is not one (or declares more than 1 GiB).
std::string decompress(const std::string & blob, const std::string & what);

}  // namespace distill::blob_io
