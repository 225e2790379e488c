// The safetensors file format (huggingface/safetensors), read and written
// without the Python package so checkpoints and PyTorch-written weights load
// in C and C++ services:
//
//   [u64 little-endian N][N bytes of JSON header][data buffer]
//   header = {"<name>": {"dtype": "F32", "shape": [d0, d1, ...],
//                        "data_offsets": [begin, end]}, ...,
//             "__metadata__": {"<key>": "<string>", ...}}      (optional)
//
// Offsets are relative to the data buffer, which the tensors cover exactly,
// without gaps or overlaps. The header may end with spaces (the writer pads
// it so the buffer starts at a multiple of 8). Values are little-endian,
// row-major.
//
// The reader trusts nothing in the file: every field, size and offset is
// checked before a byte of data is looked at, and a bad file is refused with
// distill::error naming the file, what was expected and what was found.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace distill {

// The element types of the format, with the spellings of its header.
enum class safetensors_dtype {
    BOOL,
    U8,
    I8,
    F8_E5M2,
    F8_E4M3,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    I64,
    U64,
    F64,
};

// "F32" for F32; the inverse of safetensors_dtype_from_name.
std::string_view safetensors_dtype_name(safetensors_dtype dtype);
// std::nullopt for a name the format does not define.
std::optional<safetensors_dtype> safetensors_dtype_from_name(std::string_view name);
// Bytes per element (1 for BOOL and the 8-bit floats).
size_t safetensors_dtype_size(safetensors_dtype dtype);

// One tensor: its name, type, shape and bytes (product(shape) × dtype size).
// `data` is a view: into the caller's memory when writing, into the owning
// safetensors_file (or the parsed buffer) when reading.
struct safetensors_tensor {
    std::string name;
    safetensors_dtype dtype = safetensors_dtype::F32;
    std::vector<int64_t> shape;
    std::span<const std::byte> data;
};

using safetensors_metadata = std::map<std::string, std::string>;

// The serialised file, header and data. Tensors are laid out by decreasing
// element size (stable), so each starts at a multiple of its own element size
// (the buffer starts at a multiple of 8), as the Python package does.
// Refuses empty or duplicate names, the reserved name "__metadata__", and a
// byte size that does not match the shape.
std::string serialize_safetensors(std::span<const safetensors_tensor> tensors,
                                  const safetensors_metadata & metadata);

// serialize_safetensors, written with write_file_atomically.
void write_safetensors(const std::filesystem::path & path,
                       std::span<const safetensors_tensor> tensors,
                       const safetensors_metadata & metadata);

// What a validated file holds. Tensor views point into the parsed bytes;
// tensors are in the order of their data in the buffer.
struct safetensors_contents {
    std::vector<safetensors_tensor> tensors;
    safetensors_metadata metadata;
};

// Validates and indexes a whole file held in memory (`source` names it in
// errors; every refusal is corrupt_file). The views point into `file`,
// which must outlive the result. read() adds not_found / io_error.
safetensors_contents parse_safetensors(std::span<const std::byte> file, const std::string & source);

// A safetensors file read into memory and validated; owns its bytes, so it
// moves but does not copy (the views would point into the original).
class safetensors_file {
public:
    static safetensors_file read(const std::filesystem::path & path);
    static safetensors_file from_bytes(std::string bytes, const std::string & source);

    safetensors_file(safetensors_file &&) = default;
    safetensors_file & operator=(safetensors_file &&) = default;
    safetensors_file(const safetensors_file &) = delete;
    safetensors_file & operator=(const safetensors_file &) = delete;

    const std::string & source() const { return source_; }
    const std::vector<safetensors_tensor> & tensors() const { return contents_.tensors; }
    const safetensors_metadata & metadata() const { return contents_.metadata; }
    // nullptr when the file has no tensor of that name.
    const safetensors_tensor * find(std::string_view name) const;
    // Like find, but a missing tensor is an error naming the file.
    const safetensors_tensor & at(std::string_view name) const;

private:
    safetensors_file() = default;
    // On the heap so the views in contents_ survive a move of the file object.
    std::unique_ptr<const std::string> bytes_;
    std::string source_;
    safetensors_contents contents_;
};

// A floating-point tensor (F32, F64, F16 or BF16) as fp32 values; F64 is
// rounded to nearest. Other dtypes are refused, naming `source` and the tensor.
std::vector<float> safetensors_to_float32(const safetensors_tensor & tensor,
                                          const std::string & source);

// product(shape), with overflow and negative dimensions refused.
uint64_t safetensors_element_count(std::span<const int64_t> shape, const std::string & what);

}  // namespace distill
