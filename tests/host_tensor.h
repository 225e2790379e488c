// Test helper: a DLTensor that owns its host memory, made from doubles and
// stored as fp32, bf16, fp16, int32 or int64; and read back as doubles.
#pragma once

#include <dlpack/dlpack.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

namespace test {

enum class storage { f32, bf16, f16, i32, i64 };

inline DLDataType dl_type(storage s) {
    switch (s) {
    case storage::f32: return {kDLFloat, 32, 1};
    case storage::bf16: return {kDLBfloat, 16, 1};
    case storage::f16: return {kDLFloat, 16, 1};
    case storage::i32: return {kDLInt, 32, 1};
    case storage::i64: return {kDLInt, 64, 1};
    }
    return {kDLFloat, 32, 1};
}

inline uint16_t to_bf16(float v) {  // round to nearest even (finite and ±inf)
    const uint32_t bits = std::bit_cast<uint32_t>(v);
    return static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}
inline float from_bf16(uint16_t v) { return std::bit_cast<float>(static_cast<uint32_t>(v) << 16); }

class host_tensor {
public:
    host_tensor(storage kind, std::vector<int64_t> shape, const std::vector<double> & values = {})
        : kind_(kind), shape_(std::move(shape)) {
        int64_t count = 1;
        for (int64_t extent : shape_) count *= extent;
        bytes_.assign(static_cast<size_t>(count) * element_size(), 0);
        for (size_t i = 0; i < values.size() && i < static_cast<size_t>(count); ++i)
            set(i, values[i]);
    }

    // A fresh DLTensor view (pointers stay valid while *this lives).
    DLTensor * dl() {
        tensor_ = DLTensor{};
        tensor_.data = bytes_.empty() ? nullptr : bytes_.data();
        tensor_.device = {kDLCPU, 0};
        tensor_.ndim = static_cast<int32_t>(shape_.size());
        tensor_.dtype = dl_type(kind_);
        tensor_.shape = shape_.data();
        tensor_.strides = nullptr;
        tensor_.byte_offset = 0;
        return &tensor_;
    }

    size_t size() const { return bytes_.size() / element_size(); }

    void set(size_t i, double v) {
        unsigned char * at = bytes_.data() + i * element_size();
        switch (kind_) {
        case storage::f32: {
            const float f = static_cast<float>(v);
            std::memcpy(at, &f, 4);
            break;
        }
        case storage::bf16: {
            const uint16_t b = to_bf16(static_cast<float>(v));
            std::memcpy(at, &b, 2);
            break;
        }
        case storage::f16: {
            const _Float16 h = static_cast<_Float16>(static_cast<float>(v));
            std::memcpy(at, &h, 2);
            break;
        }
        case storage::i32: {
            const int32_t n = static_cast<int32_t>(v);
            std::memcpy(at, &n, 4);
            break;
        }
        case storage::i64: {
            const int64_t n = static_cast<int64_t>(v);
            std::memcpy(at, &n, 8);
            break;
        }
        }
    }

    double get(size_t i) const {
        const unsigned char * at = bytes_.data() + i * element_size();
        switch (kind_) {
        case storage::f32: {
            float f;
            std::memcpy(&f, at, 4);
            return f;
        }
        case storage::bf16: {
            uint16_t b;
            std::memcpy(&b, at, 2);
            return from_bf16(b);
        }
        case storage::f16: {
            _Float16 h;
            std::memcpy(&h, at, 2);
            return static_cast<float>(h);
        }
        case storage::i32: {
            int32_t n;
            std::memcpy(&n, at, 4);
            return n;
        }
        case storage::i64: {
            int64_t n;
            std::memcpy(&n, at, 8);
            return static_cast<double>(n);
        }
        }
        return 0.0;
    }

    // Every element as stored, as doubles (what the reference must see).
    std::vector<double> values() const {
        std::vector<double> out(size());
        for (size_t i = 0; i < out.size(); ++i) out[i] = get(i);
        return out;
    }

    std::vector<int64_t> & shape() { return shape_; }
    void * data() { return bytes_.data(); }

private:
    size_t element_size() const {
        switch (kind_) {
        case storage::bf16:
        case storage::f16: return 2;
        case storage::i64: return 8;
        default: return 4;
        }
    }

    storage kind_;
    std::vector<int64_t> shape_;
    std::vector<unsigned char> bytes_;
    DLTensor tensor_{};
};

}  // namespace test
