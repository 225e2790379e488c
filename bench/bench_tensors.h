// Benchmark inputs: random student and teacher logits [N, V] (fp32 or
// bf16), the teacher's top-k (ids int64, log-probs fp32) [N, K], and the
// outputs, each with a DLTensor describing it.
#pragma once

#include <dlpack/dlpack.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace bench {

struct shape_nv {
    int64_t rows;
    int64_t vocab;
};

struct buffer {
    std::vector<unsigned char> bytes;
    std::vector<int64_t> shape;
    DLTensor dl{};

    buffer(std::vector<int64_t> extents, DLDataType dtype) : shape(std::move(extents)) {
        int64_t count = 1;
        for (int64_t e : shape) count *= e;
        bytes.assign(static_cast<size_t>(count) * dtype.bits / 8, 0);
        dl.data = bytes.data();
        dl.device = {kDLCPU, 0};
        dl.ndim = static_cast<int32_t>(shape.size());
        dl.dtype = dtype;
        dl.shape = shape.data();
    }
    buffer(const buffer &) = delete;
    buffer & operator=(const buffer &) = delete;
};

inline uint16_t to_bf16(float v) {
    const uint32_t bits = std::bit_cast<uint32_t>(v);
    return static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

struct problem {
    int64_t rows, vocab, k;
    bool bf16;
    std::vector<float> student_values, teacher_values;  // fp32 copies
    buffer student, teacher, grad, loss, topk_ids, topk_logprobs;
    std::vector<float> reference_grad;

    problem(int64_t n, int64_t v, int64_t top, bool use_bf16)
        : rows(n),
          vocab(v),
          k(top),
          bf16(use_bf16),
          student({n, v}, use_bf16 ? DLDataType{kDLBfloat, 16, 1} : DLDataType{kDLFloat, 32, 1}),
          teacher({n, v}, use_bf16 ? DLDataType{kDLBfloat, 16, 1} : DLDataType{kDLFloat, 32, 1}),
          grad({n, v}, use_bf16 ? DLDataType{kDLBfloat, 16, 1} : DLDataType{kDLFloat, 32, 1}),
          loss({}, DLDataType{kDLFloat, 32, 1}),
          topk_ids({n, top}, DLDataType{kDLInt, 64, 1}),
          topk_logprobs({n, top}, DLDataType{kDLFloat, 32, 1}) {
        std::mt19937 rng(42);
        std::normal_distribution<float> normal(0.0f, 3.0f);
        student_values.resize(n * v);
        teacher_values.resize(n * v);
        for (auto & x : student_values) x = normal(rng);
        for (auto & x : teacher_values) x = normal(rng);
        store(student, student_values);
        store(teacher, teacher_values);
        // Top-k of each teacher row, as log-probabilities.
        auto * ids = reinterpret_cast<int64_t *>(topk_ids.bytes.data());
        auto * logprobs = reinterpret_cast<float *>(topk_logprobs.bytes.data());
        std::vector<int64_t> order(v);
        for (int64_t row = 0; row < n; ++row) {
            const float * t = teacher_values.data() + row * v;
            for (int64_t i = 0; i < v; ++i) order[i] = i;
            std::partial_sort(order.begin(), order.begin() + top, order.end(),
                              [&](int64_t a, int64_t b) { return t[a] > t[b]; });
            const float max = t[order[0]];
            double sum = 0.0;
            for (int64_t i = 0; i < v; ++i) sum += std::exp(double(t[i] - max));
            const float lse = max + static_cast<float>(std::log(sum));
            for (int64_t j = 0; j < top; ++j) {
                ids[row * top + j] = order[j];
                logprobs[row * top + j] = t[order[j]] - lse;
            }
        }
        reference_grad.resize(n * v);
    }

    const float * student_f32() const { return student_values.data(); }
    const float * teacher_f32() const { return teacher_values.data(); }
    const int64_t * topk_id_values() const {
        return reinterpret_cast<const int64_t *>(topk_ids.bytes.data());
    }
    const float * topk_logprob_values() const {
        return reinterpret_cast<const float *>(topk_logprobs.bytes.data());
    }

private:
    void store(buffer & b, const std::vector<float> & values) {
        if (!bf16) {
            std::memcpy(b.bytes.data(), values.data(), values.size() * sizeof(float));
            return;
        }
        auto * out = reinterpret_cast<uint16_t *>(b.bytes.data());
        for (size_t i = 0; i < values.size(); ++i) out[i] = to_bf16(values[i]);
    }
};

// GPU half of the benchmark (kd_loss_bench_cuda.cpp): prints the same JSON
// lines with device "cuda:0" when a GPU is present, adding 4096×V_max.
void run_cuda_if_present(const std::vector<shape_nv> & shapes, int64_t k, int repeats);

}  // namespace bench
