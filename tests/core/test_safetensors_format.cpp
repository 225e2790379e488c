// safetensors written and read back, the layout the writer chooses, the
// dtype conversions, and a file written by the real Python package.
#include <doctest/doctest.h>

#include "common/error.h"
#include "test_train_support.h"
#include "train/safetensors.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

using distill::safetensors_dtype;

namespace {

template <class T>
std::span<const std::byte> bytes_of(const std::vector<T> & values) {
    return std::as_bytes(std::span(values));
}

template <class T>
std::vector<T> values_of(const distill::safetensors_tensor & tensor) {
    std::vector<T> values(tensor.data.size() / sizeof(T));
    if (!values.empty()) std::memcpy(values.data(), tensor.data.data(), tensor.data.size());
    return values;
}

uint64_t header_size(const std::string & file) {
    uint64_t size = 0;
    std::memcpy(&size, file.data(), 8);
    return size;
}

}  // namespace

TEST_CASE("safetensors round trip of several dtypes, a scalar and an empty tensor") {
    const std::vector<float> weight = {1.5f,  -2.0f, 3.25f, std::numeric_limits<float>::infinity(),
                                       -0.0f, 1e-40f};
    const std::vector<int64_t> ids = {-1, std::numeric_limits<int64_t>::max()};
    const std::vector<uint8_t> flags = {0, 1, 255};
    const std::vector<double> scalar = {3.141592653589793};
    const std::vector<float> empty;
    // The U8 tensor first: the writer must still put it last so the others stay aligned.
    const std::vector<distill::safetensors_tensor> tensors = {
        {"flags", safetensors_dtype::U8, {3}, bytes_of(flags)},
        {"layer.weight", safetensors_dtype::F32, {2, 3}, bytes_of(weight)},
        {"ids", safetensors_dtype::I64, {2}, bytes_of(ids)},
        {"pi", safetensors_dtype::F64, {}, bytes_of(scalar)},
        {"nothing", safetensors_dtype::F32, {0, 4}, bytes_of(empty)},
    };
    const std::string file =
        distill::serialize_safetensors(tensors, {{"format", "pt"}, {"über", "ünïcode"}});
    CHECK(header_size(file) % 8 == 0);
    CHECK(file.size() == 8 + header_size(file) + 6 * 4 + 2 * 8 + 3 + 8);

    const distill::safetensors_file read = distill::safetensors_file::from_bytes(file, "memory");
    CHECK(read.metadata().at("format") == "pt");
    CHECK(read.metadata().at("über") == "ünïcode");
    REQUIRE(read.tensors().size() == 5);
    // Data order: 8-byte types, then 4-byte, then 1-byte; each aligned to its size.
    for (const auto & tensor : read.tensors()) {
        const size_t offset = size_t(tensor.data.data() - reinterpret_cast<const std::byte *>(
                                                              read.tensors()[0].data.data()));
        CHECK(offset % distill::safetensors_dtype_size(tensor.dtype) == 0);
    }
    CHECK(read.tensors().back().name == "flags");

    const auto & w = read.at("layer.weight");
    CHECK(w.dtype == safetensors_dtype::F32);
    CHECK(w.shape == std::vector<int64_t>{2, 3});
    const std::vector<float> w_values = values_of<float>(w);
    CHECK(std::memcmp(w_values.data(), weight.data(), weight.size() * 4) == 0);
    CHECK(values_of<int64_t>(read.at("ids")) == ids);
    CHECK(values_of<uint8_t>(read.at("flags")) == flags);
    CHECK(read.at("pi").shape.empty());
    CHECK(values_of<double>(read.at("pi")) == scalar);
    CHECK(read.at("nothing").shape == std::vector<int64_t>{0, 4});
    CHECK(read.at("nothing").data.empty());
    CHECK(read.find("missing") == nullptr);
    CHECK_THROWS_WITH(read.at("missing"),
                      "safetensors file 'memory': expected a tensor named 'missing', found none");
}

TEST_CASE("safetensors writer refuses what the format cannot hold") {
    const std::vector<float> three = {1, 2, 3};
    auto refusal = [](std::vector<distill::safetensors_tensor> tensors) {
        try {
            distill::serialize_safetensors(tensors, {});
        } catch (const distill::error & e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK(refusal({{"a", safetensors_dtype::F32, {2, 2}, bytes_of(three)}}) ==
          "tensor 'a': expected 4 elements of 4 bytes for shape [2, 2], got 12 bytes");
    CHECK(refusal({{"a", safetensors_dtype::F32, {3}, bytes_of(three)},
                   {"a", safetensors_dtype::F32, {3}, bytes_of(three)}}) ==
          "tensor name: expected unique names, got 'a' twice");
    CHECK(refusal({{"__metadata__", safetensors_dtype::F32, {3}, bytes_of(three)}}) ==
          "tensor name: expected a name other than the reserved '__metadata__'");
    CHECK(refusal({{"a", safetensors_dtype::F32, {-3}, bytes_of(three)}}) ==
          "tensor 'a': expected a shape of non-negative dimensions, got [-3]");
}

TEST_CASE("write_safetensors writes a file that read() validates") {
    distill::test::scratch_dir dir;
    const std::vector<float> values = {0.5f, 0.25f};
    const std::vector<distill::safetensors_tensor> tensors = {
        {"w", safetensors_dtype::F32, {2}, bytes_of(values)}};
    distill::write_safetensors(dir.path() / "w.safetensors", tensors, {});
    const auto file = distill::safetensors_file::read(dir.path() / "w.safetensors");
    CHECK(distill::safetensors_to_float32(file.at("w"), file.source()) == values);
    CHECK(file.metadata().empty());
    CHECK_THROWS_WITH(distill::safetensors_file::read(dir.path() / "absent.safetensors"),
                      doctest::Contains("failed: No such file or directory"));
}

TEST_CASE("a file written by the Python safetensors package (torch.save_file) reads back") {
    const auto path = distill::test::fixtures_dir() / "safetensors" / "torch_small.safetensors";
    const auto file = distill::safetensors_file::read(path);
    CHECK(file.metadata() ==
          distill::safetensors_metadata{{"format", "pt"}, {"note", "distill fixture"}});
    CHECK(file.tensors().size() == 6);

    const auto & weight = file.at("linear.weight");
    CHECK(weight.dtype == safetensors_dtype::F32);
    CHECK(weight.shape == std::vector<int64_t>{2, 3});
    CHECK(distill::safetensors_to_float32(weight, file.source()) ==
          std::vector<float>{0.5f, -1.25f, 3.0f, 1e-3f, -0.0f, 65504.0f});
    CHECK(std::signbit(distill::safetensors_to_float32(weight, file.source())[4]));

    const auto & bias = file.at("linear.bias");
    CHECK(bias.dtype == safetensors_dtype::F64);
    CHECK(values_of<double>(bias) == std::vector<double>{0.1, -0.2, 0.3});
    CHECK(distill::safetensors_to_float32(bias, file.source()) ==
          std::vector<float>{0.1f, -0.2f, 0.3f});

    CHECK(file.at("labels").dtype == safetensors_dtype::I64);
    CHECK(values_of<int64_t>(file.at("labels")) == std::vector<int64_t>{7, -3});
    CHECK(values_of<uint8_t>(file.at("flags")) == std::vector<uint8_t>{1, 0, 255});

    // 2^-14 is the smallest normal half; bf16 keeps fp32's exponent.
    CHECK(distill::safetensors_to_float32(file.at("half"), file.source()) ==
          std::vector<float>{1.5f, -2.0f, 6.103515625e-05f});
    CHECK(distill::safetensors_to_float32(file.at("brain"), file.source()) ==
          std::vector<float>{1.0f, -3.5f});
    CHECK_THROWS_WITH(distill::safetensors_to_float32(file.at("labels"), "fixture"),
                      "'fixture': tensor 'labels': expected a floating-point dtype (F32, F64, "
                      "F16, BF16), got I64");
}

TEST_CASE("half-precision conversion covers subnormals, infinities and NaN") {
    const std::vector<uint16_t> halves = {0x0001, 0x03ff, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3c00};
    const distill::safetensors_tensor tensor{"h", safetensors_dtype::F16, {7}, bytes_of(halves)};
    const std::vector<float> values = distill::safetensors_to_float32(tensor, "memory");
    CHECK(values[0] == std::ldexp(1.0f, -24));
    CHECK(values[1] == std::ldexp(1023.0f, -24));
    CHECK((values[2] == 0.0f && std::signbit(values[2])));
    CHECK(values[3] == std::numeric_limits<float>::infinity());
    CHECK(values[4] == -std::numeric_limits<float>::infinity());
    CHECK(std::isnan(values[5]));
    CHECK(values[6] == 1.0f);
}
