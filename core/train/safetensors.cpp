// safetensors: dtypes, the writer and the fp32 conversions. The validating
// reader is in safetensors_reader.cpp.
#include "train/safetensors.h"

#include "common/atomic_file.h"
#include "common/error.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

namespace distill {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

namespace {

struct dtype_info {
    safetensors_dtype dtype;
    std::string_view name;
    size_t size;
};

constexpr dtype_info dtype_table[] = {
    {safetensors_dtype::BOOL, "BOOL", 1},       {safetensors_dtype::U8, "U8", 1},
    {safetensors_dtype::I8, "I8", 1},           {safetensors_dtype::F8_E5M2, "F8_E5M2", 1},
    {safetensors_dtype::F8_E4M3, "F8_E4M3", 1}, {safetensors_dtype::I16, "I16", 2},
    {safetensors_dtype::U16, "U16", 2},         {safetensors_dtype::F16, "F16", 2},
    {safetensors_dtype::BF16, "BF16", 2},       {safetensors_dtype::I32, "I32", 4},
    {safetensors_dtype::U32, "U32", 4},         {safetensors_dtype::F32, "F32", 4},
    {safetensors_dtype::I64, "I64", 8},         {safetensors_dtype::U64, "U64", 8},
    {safetensors_dtype::F64, "F64", 8},
};

const dtype_info & info_of(safetensors_dtype dtype) {
    for (const dtype_info & info : dtype_table)
        if (info.dtype == dtype) return info;
    fail_invalid("dtype: expected a safetensors dtype, got enum value " +
                 std::to_string(int(dtype)));
}

std::string shape_text(std::span<const int64_t> shape) {
    std::string text = "[";
    for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

// IEEE binary16 to binary32, exactly (every half is a float).
float half_to_float(uint16_t half) {
    const uint32_t sign = uint32_t(half >> 15) << 31;
    const uint32_t exponent = (half >> 10) & 0x1f;
    const uint32_t mantissa = half & 0x3ff;
    if (exponent == 0x1f)  // infinity or NaN
        return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
    if (exponent == 0) {  // zero or subnormal: mantissa × 2^-24
        const float magnitude = std::ldexp(float(mantissa), -24);
        return sign ? -magnitude : magnitude;
    }
    return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

}  // namespace

std::string_view safetensors_dtype_name(safetensors_dtype dtype) { return info_of(dtype).name; }

size_t safetensors_dtype_size(safetensors_dtype dtype) { return info_of(dtype).size; }

std::optional<safetensors_dtype> safetensors_dtype_from_name(std::string_view name) {
    for (const dtype_info & info : dtype_table)
        if (info.name == name) return info.dtype;
    return std::nullopt;
}

uint64_t safetensors_element_count(std::span<const int64_t> shape, const std::string & what) {
    uint64_t count = 1;
    for (int64_t dim : shape) {
        if (dim < 0)
            fail_invalid(what + ": expected a shape of non-negative dimensions, got " +
                         shape_text(shape));
        if (dim != 0 && count > uint64_t(std::numeric_limits<int64_t>::max()) / uint64_t(dim))
            fail_invalid(what + ": expected a shape whose element count fits in 63 bits, got " +
                         shape_text(shape));
        count *= uint64_t(dim);
    }
    return count;
}

std::string serialize_safetensors(std::span<const safetensors_tensor> tensors,
                                  const safetensors_metadata & metadata) {
    std::vector<const safetensors_tensor *> order;
    std::set<std::string_view> names;
    for (const safetensors_tensor & tensor : tensors) {
        const std::string what = "tensor '" + tensor.name + "'";
        if (tensor.name.empty()) fail_invalid("tensor name: expected a non-empty name, got ''");
        if (tensor.name == "__metadata__")
            fail_invalid("tensor name: expected a name other than the reserved '__metadata__'");
        if (!names.insert(tensor.name).second)
            fail_invalid("tensor name: expected unique names, got '" + tensor.name + "' twice");
        const uint64_t count = safetensors_element_count(tensor.shape, what);
        const size_t element = safetensors_dtype_size(tensor.dtype);
        if (count > std::numeric_limits<uint64_t>::max() / element ||
            count * element != tensor.data.size())
            fail_invalid(what + ": expected " + std::to_string(count) + " elements of " +
                         std::to_string(element) + " bytes for shape " + shape_text(tensor.shape) +
                         ", got " + std::to_string(tensor.data.size()) + " bytes");
        order.push_back(&tensor);
    }
    std::stable_sort(order.begin(), order.end(), [](const auto * a, const auto * b) {
        return safetensors_dtype_size(a->dtype) > safetensors_dtype_size(b->dtype);
    });

    nlohmann::json header = nlohmann::json::object();
    uint64_t offset = 0;
    for (const safetensors_tensor * tensor : order) {
        const uint64_t end = offset + tensor->data.size();
        header[tensor->name] = {{"dtype", safetensors_dtype_name(tensor->dtype)},
                                {"shape", tensor->shape},
                                {"data_offsets", {offset, end}}};
        offset = end;
    }
    if (!metadata.empty()) header["__metadata__"] = metadata;

    // Strict UTF-8 (throws on an invalid name or metadata string): the
    // Python package refuses a header that is not valid UTF-8.
    std::string text;
    try {
        text = header.dump();
    } catch (const nlohmann::json::exception & e) {
        fail_invalid(std::string("safetensors header: expected UTF-8 names and metadata, got ") +
                     e.what());
    }
    text.append((8 - text.size() % 8) % 8, ' ');

    std::string file;
    file.reserve(8 + text.size() + offset);
    const uint64_t header_size = text.size();
    for (int i = 0; i < 8; ++i) file.push_back(char((header_size >> (8 * i)) & 0xff));
    file += text;
    for (const safetensors_tensor * tensor : order)
        file.append(reinterpret_cast<const char *>(tensor->data.data()), tensor->data.size());
    return file;
}

void write_safetensors(const std::filesystem::path & path,
                       std::span<const safetensors_tensor> tensors,
                       const safetensors_metadata & metadata) {
    write_file_atomically(path, serialize_safetensors(tensors, metadata));
}

std::vector<float> safetensors_to_float32(const safetensors_tensor & tensor,
                                          const std::string & source) {
    const size_t element = safetensors_dtype_size(tensor.dtype);
    const size_t count = tensor.data.size() / element;
    std::vector<float> values(count);
    const std::byte * bytes = tensor.data.data();
    switch (tensor.dtype) {
    case safetensors_dtype::F32:
        if (count) std::memcpy(values.data(), bytes, count * sizeof(float));
        break;
    case safetensors_dtype::F64:
        for (size_t i = 0; i < count; ++i) {
            double value;
            std::memcpy(&value, bytes + 8 * i, 8);
            values[i] = float(value);
        }
        break;
    case safetensors_dtype::F16:
    case safetensors_dtype::BF16:
        for (size_t i = 0; i < count; ++i) {
            uint16_t half;
            std::memcpy(&half, bytes + 2 * i, 2);
            values[i] = tensor.dtype == safetensors_dtype::F16
                            ? half_to_float(half)
                            : std::bit_cast<float>(uint32_t(half) << 16);
        }
        break;
    default:
        fail_invalid("'" + source + "': tensor '" + tensor.name +
                     "': expected a floating-point dtype (F32, F64, F16, BF16), got " +
                     std::string(safetensors_dtype_name(tensor.dtype)));
    }
    return values;
}

}  // namespace distill
