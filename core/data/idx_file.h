// The IDX file format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
// a 4-byte magic (0x00 0x00 <type> <ndims>), ndims big-endian uint32
// dimensions, then the elements in row-major order. Files are read raw or
// gzip'ed, told apart by the gzip magic bytes (0x1f 0x8b), not by the name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace distill {

// An IDX file of unsigned bytes (type 0x08), the only type the datasets use.
struct idx_file {
    std::vector<int64_t> dims;   // e.g. [60000, 28, 28] for images, [60000] for labels
    std::vector<uint8_t> bytes;  // [product of dims], row-major
};

// Reads and validates the whole file: the magic, the element type (0x08;
// other IDX types are refused as unsupported), dims > 0 whose product fits
// in memory, and exactly as many payload bytes as the dims say (a short file
// and trailing bytes are both errors naming the file, the expected and the
// actual byte counts). A corrupt or truncated gzip stream is an error too.
// Throws distill::error: corrupt_file for a damaged file, unsupported for
// another element type, not_found / io_error when it cannot be read.
idx_file read_idx_file(const std::filesystem::path & path);

}  // namespace distill
