#include "data/idx_file.h"

#include "common/error.h"
#include "common/file_error.h"
#include "data/byte_stream.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>

namespace distill {
namespace {

// The element types of the IDX format, by their code in the magic's third byte.
const char * idx_type_name(uint8_t code) {
    switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return nullptr;
    }
}

std::string hex_byte(uint8_t value) {
    char text[8];
    std::snprintf(text, sizeof text, "0x%02X", value);
    return text;
}

std::string dims_text(const std::vector<int64_t> & dims) {
    std::string text = "[";
    for (size_t i = 0; i < dims.size(); ++i) {
        if (i > 0) text += ", ";
        text += std::to_string(dims[i]);
    }
    return text + "]";
}

// Byte counts are of the decompressed stream for a gzip'ed file: say so.
std::string bytes_of(const file_byte_stream & in) {
    return in.gzipped() ? " bytes (after gzip decompression)" : " bytes";
}

[[noreturn]] void fail_size(const file_byte_stream & in, const std::string & what,
                            uint64_t expected, const std::string & got) {
    fail_corrupt(in.path().string() + ": " + what + ": expected " + std::to_string(expected) +
                 bytes_of(in) + ", got " + got);
}

// Counts the bytes left in the stream, up to a cap: trailing bytes are an
// error either way, and a huge gzip'ed tail is not worth inflating to count.
std::string count_trailing_bytes(file_byte_stream & in, uint64_t already) {
    constexpr uint64_t cap = uint64_t(16) << 20;
    std::vector<uint8_t> scratch(size_t(1) << 16);
    uint64_t extra = 0;
    while (extra < cap) {
        const size_t got = in.read(scratch.data(), scratch.size());
        if (got == 0) return std::to_string(already + extra);
        extra += got;
    }
    return "more than " + std::to_string(already + extra);
}

}  // namespace

idx_file read_idx_file(const std::filesystem::path & path) {
    file_byte_stream in(path);
    const std::string name = path.string();

    uint8_t magic[4];
    const size_t magic_got = in.read(magic, sizeof magic);
    if (magic_got < sizeof magic) {
        fail_corrupt(name + ": not an IDX file: expected at least 4" + bytes_of(in) + ", got " +
                     std::to_string(magic_got));
    }
    if (magic[0] != 0 || magic[1] != 0) {
        fail_corrupt(name + ": not an IDX file: expected a magic starting 0x00 0x00, got " +
                     hex_byte(magic[0]) + " " + hex_byte(magic[1]));
    }
    const char * type_name = idx_type_name(magic[2]);
    if (type_name == nullptr) {
        fail_corrupt(name + ": not an IDX file: expected an element type code among 0x08, 0x09, " +
                     "0x0B, 0x0C, 0x0D, 0x0E, got " + hex_byte(magic[2]));
    }
    if (magic[2] != 0x08) {
        fail_unsupported(name + ": expected IDX elements of type 0x08 (unsigned byte), got " +
                         hex_byte(magic[2]) + " (" + type_name + "), which is not supported");
    }
    const int ndims = magic[3];
    if (ndims == 0) fail_corrupt(name + ": expected an IDX file with at least 1 dimension, got 0");

    const uint64_t header_bytes = 4 + 4 * uint64_t(ndims);
    std::vector<uint8_t> dim_bytes(4 * size_t(ndims));
    const size_t dims_got = in.read(dim_bytes.data(), dim_bytes.size());
    if (dims_got < dim_bytes.size()) {
        fail_size(in, "truncated IDX header", header_bytes, std::to_string(4 + dims_got));
    }
    idx_file result;
    // The payload must fit a vector and an int64 count: cap at PTRDIFF_MAX.
    constexpr uint64_t max_elements = uint64_t(std::numeric_limits<std::ptrdiff_t>::max());
    uint64_t elements = 1;
    for (int d = 0; d < ndims; ++d) {
        const uint8_t * b = dim_bytes.data() + 4 * d;
        const uint32_t dim =
            uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
        result.dims.push_back(dim);
        if (dim == 0) {
            fail_corrupt(name + ": expected every IDX dimension > 0, got dims " +
                         dims_text(result.dims) + (d + 1 < ndims ? "..." : ""));
        }
        if (__builtin_mul_overflow(elements, uint64_t(dim), &elements) || elements > max_elements) {
            fail_corrupt(name + ": IDX dims " + dims_text(result.dims) +
                         (d + 1 < ndims ? "..." : "") + " hold more elements than fit in memory");
        }
    }

    // Grown as the bytes arrive, so a lying header cannot make us allocate
    // far more than the file really holds.
    const uint64_t expected_total = header_bytes + elements;
    constexpr size_t chunk = size_t(4) << 20;
    result.bytes.reserve(size_t(std::min<uint64_t>(elements, uint64_t(64) << 20)));
    while (result.bytes.size() < elements) {
        const size_t filled = result.bytes.size();
        const size_t want = size_t(std::min<uint64_t>(chunk, elements - filled));
        result.bytes.resize(filled + want);
        const size_t got = in.read(result.bytes.data() + filled, want);
        if (got < want) {
            fail_size(in, "truncated IDX file for dims " + dims_text(result.dims), expected_total,
                      std::to_string(header_bytes + filled + got));
        }
    }
    uint8_t probe;
    if (in.read(&probe, 1) == 1) {
        fail_size(in, "trailing bytes after the IDX data for dims " + dims_text(result.dims),
                  expected_total, count_trailing_bytes(in, expected_total + 1));
    }
    return result;
}

}  // namespace distill
