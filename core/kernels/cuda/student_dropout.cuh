// The dropout mask of core/students/layers/dropout.h, callable from device
// code: that header is the reference (its functions are host-only inline
// functions, and the layers are not the CUDA backend's to change), and the
// arithmetic below must stay identical to it, so that the GPU drops exactly
// the elements the CPU drops for the same seed. The test
// tests/core/test_cuda_student_primitives.cpp compares the two masks.
#pragma once

#include <cstdint>

namespace distill::kernels::cuda {

// dropout.h's mix64: the splitmix64 finaliser.
__host__ __device__ inline uint64_t dropout_mix64(uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// dropout.h's dropout_keeps: element `index` is kept when the top 32 bits
// of its hash are at least p · 2³².
__host__ __device__ inline bool dropout_keeps_element(uint64_t seed, int64_t index,
                                                      uint64_t drop_threshold) {
    const uint64_t h =
        dropout_mix64(dropout_mix64(seed) + 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(index));
    return (h >> 32) >= drop_threshold;
}

// dropout.h's dropout_threshold: p · 2³² for p in [0, 1).
__host__ __device__ inline uint64_t dropout_drop_threshold(double p) {
    return static_cast<uint64_t>(p * 4294967296.0);
}

}  // namespace distill::kernels::cuda
