// Helpers of the IDX reader tests: a temporary directory, and IDX files
// written raw or gzip'ed (with zlib's gz* functions), whole or damaged.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../temp_dir.h"

namespace idx_test {

using bytes = std::vector<uint8_t>;

using ::test::temp_dir;

// The bytes of an IDX file of type `type` with `dims` and `payload`.
inline bytes idx_bytes(const std::vector<uint32_t> & dims, const bytes & payload,
                       uint8_t type = 0x08) {
    bytes out = {0x00, 0x00, type, uint8_t(dims.size())};
    for (uint32_t d : dims) {
        for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(d >> shift));
    }
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

// 0, 1, 2, ... (mod 256): a payload whose every byte is checkable.
inline bytes counting(size_t size) {
    bytes out(size);
    for (size_t i = 0; i < size; ++i) out[i] = uint8_t(i);
    return out;
}

inline void write_raw(const std::filesystem::path & path, const bytes & content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char *>(content.data()), std::streamsize(content.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

inline bytes read_raw(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// One gzip member holding `content`.
inline void write_gzip(const std::filesystem::path & path, const bytes & content) {
    gzFile out = gzopen(path.c_str(), "wb9");
    if (out == nullptr) throw std::runtime_error("gzopen failed for " + path.string());
    const int written =
        content.empty() ? 0 : gzwrite(out, content.data(), unsigned(content.size()));
    if (gzclose(out) != Z_OK || written != int(content.size())) {
        throw std::runtime_error("gzwrite failed for " + path.string());
    }
}

}  // namespace idx_test
