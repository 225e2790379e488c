// Device building blocks of the CUDA kernels: loads and stores of the three
// storage types, the online log-sum-exp state and its merge rule, and
// deterministic warp/block reductions (a fixed combination order for a
// fixed block size, so the same input gives the same bits on every run).
//
// Block reductions assume blockDim.x is a multiple of 32 and at most 1024.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>

#include "backend/kd_loss_params.h"

namespace distill::kernels::cuda {

inline constexpr int warp_size = 32;
inline constexpr int max_block_warps = 32;  // 1024 threads

__device__ __forceinline__ float negative_infinity() { return -INFINITY; }
__device__ __forceinline__ float quiet_nan() { return __int_as_float(0x7fc00000); }

// ---- storage types -------------------------------------------------------

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }

// Round to nearest even, as the CPU's conversions do.
template <class Storage>
__device__ __forceinline__ Storage from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) {
    return v;
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
    return __float2bfloat16_rn(v);
}
template <>
__device__ __forceinline__ __half from_float<__half>(float v) {
    return __float2half_rn(v);
}

// Element i of an int32 or int64 index array.
__device__ __forceinline__ int64_t load_index(const void * data, index_type type, int64_t i) {
    return type == index_type::i64 ? static_cast<const int64_t *>(data)[i]
                                   : static_cast<int64_t>(static_cast<const int32_t *>(data)[i]);
}

// The log used by the JSD terms of kd_divergence_terms.h (host-callable so
// that the __host__ __device__ template instantiates cleanly).
struct fp32_log {
    __host__ __device__ float operator()(float x) const { return logf(x); }
};

// ---- online log-sum-exp --------------------------------------------------

// log Σ exp(x) = max + log(sum), with sum taken relative to max.
// Plain data (no initialisers) so that it can live in __shared__ memory.
struct lse_state {
    float max;
    float sum;
};

__device__ __forceinline__ lse_state lse_empty() { return {negative_infinity(), 0.0f}; }

// Adds one value. −inf adds nothing; NaN poisons the sum (never the max),
// so a NaN logit gives a NaN log-sum-exp as on the CPU.
__device__ __forceinline__ void lse_add(lse_state & state, float x) {
    if (x > state.max) {
        state.sum = state.sum * expf(state.max - x) + 1.0f;
        state.max = x;
    } else if (x != negative_infinity()) {
        state.sum += expf(x - state.max);
    }
}

__device__ __forceinline__ float lse_value(lse_state state) { return state.max + logf(state.sum); }

// The merge rule: rescale both sums to the larger max.
struct lse_merge {
    __device__ __forceinline__ lse_state operator()(lse_state a, lse_state b) const {
        const float max = fmaxf(a.max, b.max);
        // Both hold only −inf so far: their sums are 0 (or NaN, kept).
        if (max == negative_infinity()) return {max, a.sum + b.sum};
        return {max, a.sum * expf(a.max - max) + b.sum * expf(b.max - max)};
    }
};

// ---- reductions ----------------------------------------------------------

// A fixed-size tuple, reduced element by element (one block reduction for
// several quantities: one pair of barriers instead of several).
template <class T, int N>
struct tuple_of {
    T v[N];
};

__device__ __forceinline__ float shuffle_xor(float v, int mask) {
    return __shfl_xor_sync(0xffffffffu, v, mask);
}
__device__ __forceinline__ double shuffle_xor(double v, int mask) {
    return __shfl_xor_sync(0xffffffffu, v, mask);
}
__device__ __forceinline__ long long shuffle_xor(long long v, int mask) {
    return __shfl_xor_sync(0xffffffffu, v, mask);
}
__device__ __forceinline__ lse_state shuffle_xor(lse_state v, int mask) {
    return {shuffle_xor(v.max, mask), shuffle_xor(v.sum, mask)};
}
template <class T, int N>
__device__ __forceinline__ tuple_of<T, N> shuffle_xor(tuple_of<T, N> v, int mask) {
#pragma unroll
    for (int i = 0; i < N; ++i) v.v[i] = shuffle_xor(v.v[i], mask);
    return v;
}

struct sum_op {
    template <class T>
    __device__ __forceinline__ T operator()(T a, T b) const {
        return a + b;
    }
};

// Applies Op to each element of two tuples.
template <class Op>
struct elementwise {
    Op op;
    template <class T, int N>
    __device__ __forceinline__ tuple_of<T, N> operator()(tuple_of<T, N> a, tuple_of<T, N> b) const {
#pragma unroll
        for (int i = 0; i < N; ++i) a.v[i] = op(a.v[i], b.v[i]);
        return a;
    }
};

// Xor butterfly: every lane ends with the warp's total (lanes may differ
// in the last bit where Op rounds differently with its arguments swapped,
// e.g. a contracted multiply-add; block_reduce takes lane 0's).
template <class T, class Op>
__device__ __forceinline__ T warp_reduce(T value, Op op) {
#pragma unroll
    for (int mask = warp_size / 2; mask > 0; mask /= 2) value = op(value, shuffle_xor(value, mask));
    return value;
}

// The block's total, returned to every thread. Every thread must call it
// (it has barriers). Lane 0's warp totals are combined in warp order by
// every thread, so the result is the same in all threads (which keeps
// branches on it uniform) and on every run.
template <class T, class Op>
__device__ __forceinline__ T block_reduce(T value, Op op) {
    __shared__ T warp_totals[max_block_warps];
    const int lane = static_cast<int>(threadIdx.x) % warp_size;
    const int warp = static_cast<int>(threadIdx.x) / warp_size;
    const int warps = static_cast<int>(blockDim.x) / warp_size;
    value = warp_reduce(value, op);
    __syncthreads();  // the previous call's readers are done with warp_totals
    if (lane == 0) warp_totals[warp] = value;
    __syncthreads();
    T total = warp_totals[0];
    for (int w = 1; w < warps; ++w) total = op(total, warp_totals[w]);
    return total;
}

// ---- row helpers ---------------------------------------------------------

// Writes `value` to every entry of one row. row: [n]
template <class Storage>
__device__ __forceinline__ void fill_row(Storage * row, int64_t n, float value) {
    const Storage stored = from_float<Storage>(value);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) row[i] = stored;
}

}  // namespace distill::kernels::cuda
