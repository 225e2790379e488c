// Causal grouped-query attention, forward and backward, in the scheme of
// FlashAttention-2 (the CPU's core/lm/attention.cpp; shapes in
// core/backend/cuda_backend_api.h):
//
//   q, out, d_q, d_out [B, T, H, D];  k, v, d_k, d_v [B, T, KV, D];
//   lse, row_dot [B, H, T];  query head h reads key/value head g = h / (H / KV)
//
// forward   a block per (query tile of 16, head h, sequence b): 4 warps of 4
//           query rows each; the keys 0 … the tile's last query go through
//           shared memory 32 at a time, lane j scoring key j of the tile;
//           the online softmax keeps each row's running max and sum, and
//           lane l the output values l, l + 32, … of the row. lse is kept.
// backward  row_dot = Σ_d d_out · out by rows (a warp per row); then d_q as
//           the forward (a block per query tile, key tiles through shared
//           memory, P recomputed from lse); then d_k and d_v by a block per
//           (key tile of 16, key/value head g, b): 4 warps of 4 key rows,
//           the group's query heads and the queries i ≥ j 32 at a time
//           through shared memory, lane i scoring query i.
// Every value is summed by one thread in a fixed order (d_k and d_v over
// heads, then queries ascending, as the CPU): no atomics, the same bits on
// every run. No T × T matrix exists. D is a runtime size up to the
// template's DM = 32 · DV values a lane row holds (DV = 1, 2, 4, 8; D ≤ 256).
#include <cmath>

#include "cuda_math.cuh"
#include "lm_primitives.cuh"
#include "student_session.cuh"

namespace distill::kernels::cuda {
namespace {

constexpr int attention_warps = 4;
constexpr int attention_threads = attention_warps * warp_size;
constexpr int rows_per_warp = 4;
constexpr int query_tile = attention_warps * rows_per_warp;  // forward, d_q: queries per block
constexpr int key_tile = warp_size;                          // forward, d_q: keys per step
constexpr int dkv_key_tile = attention_warps * rows_per_warp;  // d_k, d_v: keys per block
constexpr int dkv_query_tile = warp_size;                      // d_k, d_v: queries per step
constexpr int64_t max_attention_head_dim = 256;
constexpr unsigned full_mask = 0xffffffffu;

struct attention_dims {
    int64_t T, H, KV, D;
    float scale;  // 1 / √D
};

struct max_op {
    __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

__device__ __forceinline__ int64_t smaller(int64_t a, int64_t b) { return a < b ? a : b; }

__device__ __forceinline__ float dot(const float * a, const float * b, int64_t D) {
    float sum = 0.0f;
    for (int64_t d = 0; d < D; ++d) sum += a[d] * b[d];
    return sum;
}

// Rows [first, first + rows) of head `head` of x[B, T, heads, D] into
// shared[rows][stride] (zeros past T and past D).
__device__ __forceinline__ void load_rows(float * shared, int stride, int rows, const float * x,
                                          int64_t b, int64_t first, int64_t head, int64_t heads,
                                          const attention_dims & dims, int DM) {
    for (int i = threadIdx.x; i < rows * DM; i += blockDim.x) {
        const int r = i / DM, d = i - r * DM;
        const int64_t t = first + r;
        shared[r * stride + d] =
            t < dims.T && d < dims.D ? x[((b * dims.T + t) * heads + head) * dims.D + d] : 0.0f;
    }
}

template <int DV>
__global__ void __launch_bounds__(attention_threads)
    attention_forward_kernel(float * out, float * lse, const float * q, const float * k,
                             const float * v, attention_dims dims) {
    constexpr int DM = warp_size * DV;
    extern __shared__ float shared[];
    float * qs = shared;                         // [query_tile][DM]
    float * ks = qs + query_tile * DM;           // [key_tile][DM + 1]: lane j reads row j
    float * vs = ks + key_tile * (DM + 1);       // [key_tile][DM]
    const int64_t T = dims.T, H = dims.H, D = dims.D;
    const int64_t b = blockIdx.z, h = blockIdx.y, t0 = int64_t(blockIdx.x) * query_tile;
    const int64_t g = h / (H / dims.KV);
    const int lane = int(threadIdx.x) % warp_size, warp = int(threadIdx.x) / warp_size;

    load_rows(qs, DM, query_tile, q, b, t0, h, H, dims, DM);
    float row_max[rows_per_warp], row_sum[rows_per_warp], acc[rows_per_warp][DV];
#pragma unroll
    for (int rr = 0; rr < rows_per_warp; ++rr) {
        row_max[rr] = -INFINITY;
        row_sum[rr] = 0.0f;
#pragma unroll
        for (int dv = 0; dv < DV; ++dv) acc[rr][dv] = 0.0f;
    }
    const int64_t last = smaller(t0 + query_tile, T) - 1;  // the tile's last query
    for (int64_t j0 = 0; j0 <= last; j0 += key_tile) {
        __syncthreads();  // the previous tile's readers are done (and qs is loaded)
        load_rows(ks, DM + 1, key_tile, k, b, j0, g, dims.KV, dims, DM);
        load_rows(vs, DM, key_tile, v, b, j0, g, dims.KV, dims, DM);
        __syncthreads();
#pragma unroll
        for (int rr = 0; rr < rows_per_warp; ++rr) {
            const int r = warp * rows_per_warp + rr;
            const int64_t t = t0 + r;
            if (t >= T || j0 > t) continue;  // warp-uniform
            const int64_t j = j0 + lane;
            const float score = j <= t ? dot(qs + r * DM, ks + lane * (DM + 1), D) * dims.scale
                                       : -INFINITY;
            // Key j0 ≤ t is seen, so the tile's max is finite.
            const float new_max = fmaxf(row_max[rr], warp_reduce(score, max_op{}));
            const float correction = expf(row_max[rr] - new_max);  // 0 on the first tile
            const float p = j <= t ? expf(score - new_max) : 0.0f;
            row_sum[rr] = row_sum[rr] * correction + warp_reduce(p, sum_op{});
            const int seen = int(smaller(key_tile, t - j0 + 1));
#pragma unroll
            for (int dv = 0; dv < DV; ++dv) acc[rr][dv] *= correction;
            for (int jj = 0; jj < seen; ++jj) {
                const float pj = __shfl_sync(full_mask, p, jj);
#pragma unroll
                for (int dv = 0; dv < DV; ++dv) acc[rr][dv] += pj * vs[jj * DM + lane + warp_size * dv];
            }
            row_max[rr] = new_max;
        }
    }
#pragma unroll
    for (int rr = 0; rr < rows_per_warp; ++rr) {
        const int64_t t = t0 + warp * rows_per_warp + rr;
        if (t >= T) continue;
        const float inv = 1.0f / row_sum[rr];
        float * o = out + ((b * T + t) * H + h) * D;
#pragma unroll
        for (int dv = 0; dv < DV; ++dv) {
            const int d = lane + warp_size * dv;
            if (d < D) o[d] = acc[rr][dv] * inv;
        }
        if (lane == 0) lse[(b * H + h) * T + t] = row_max[rr] + logf(row_sum[rr]);
    }
}

// row_dot[b, h, t] = Σ_d d_out · out: a warp per row, rows = B · H · T.
__global__ void attention_row_dot_kernel(float * row_dot, const float * d_out, const float * out,
                                         attention_dims dims, int64_t rows) {
    const int lane = int(threadIdx.x) % warp_size;
    const int64_t warps = int64_t(gridDim.x) * (blockDim.x / warp_size);
    for (int64_t row = int64_t(blockIdx.x) * (blockDim.x / warp_size) + threadIdx.x / warp_size;
         row < rows; row += warps) {
        const int64_t t = row % dims.T, h = (row / dims.T) % dims.H, b = row / (dims.T * dims.H);
        const int64_t at = ((b * dims.T + t) * dims.H + h) * dims.D;
        float sum = 0.0f;
        for (int64_t d = lane; d < dims.D; d += warp_size) sum += d_out[at + d] * out[at + d];
        sum = warp_reduce(sum, sum_op{});
        if (lane == 0) row_dot[row] = sum;
    }
}

// d_q_i = scale · Σ_{j ≤ i} P_ij (d_out_i · v_j − row_dot_i) k_j, P_ij =
// exp(q_i · k_j · scale − lse_i). The forward's blocks and tiles.
template <int DV>
__global__ void __launch_bounds__(attention_threads)
    attention_backward_query_kernel(float * d_q, const float * d_out, const float * lse,
                                    const float * row_dot, const float * q, const float * k,
                                    const float * v, attention_dims dims) {
    constexpr int DM = warp_size * DV;
    extern __shared__ float shared[];
    float * qs = shared;                    // [query_tile][DM]
    float * dos = qs + query_tile * DM;     // [query_tile][DM]
    float * ks = dos + query_tile * DM;     // [key_tile][DM + 1]
    float * vs = ks + key_tile * (DM + 1);  // [key_tile][DM + 1]
    const int64_t T = dims.T, H = dims.H, D = dims.D;
    const int64_t b = blockIdx.z, h = blockIdx.y, t0 = int64_t(blockIdx.x) * query_tile;
    const int64_t g = h / (H / dims.KV);
    const int lane = int(threadIdx.x) % warp_size, warp = int(threadIdx.x) / warp_size;

    load_rows(qs, DM, query_tile, q, b, t0, h, H, dims, DM);
    load_rows(dos, DM, query_tile, d_out, b, t0, h, H, dims, DM);
    float row_lse[rows_per_warp], delta[rows_per_warp], acc[rows_per_warp][DV];
#pragma unroll
    for (int rr = 0; rr < rows_per_warp; ++rr) {
        const int64_t t = t0 + warp * rows_per_warp + rr;
        row_lse[rr] = t < T ? lse[(b * H + h) * T + t] : 0.0f;
        delta[rr] = t < T ? row_dot[(b * H + h) * T + t] : 0.0f;
#pragma unroll
        for (int dv = 0; dv < DV; ++dv) acc[rr][dv] = 0.0f;
    }
    const int64_t last = smaller(t0 + query_tile, T) - 1;
    for (int64_t j0 = 0; j0 <= last; j0 += key_tile) {
        __syncthreads();
        load_rows(ks, DM + 1, key_tile, k, b, j0, g, dims.KV, dims, DM);
        load_rows(vs, DM + 1, key_tile, v, b, j0, g, dims.KV, dims, DM);
        __syncthreads();
#pragma unroll
        for (int rr = 0; rr < rows_per_warp; ++rr) {
            const int r = warp * rows_per_warp + rr;
            const int64_t t = t0 + r;
            if (t >= T || j0 > t) continue;  // warp-uniform
            const int64_t j = j0 + lane;
            float ds = 0.0f;
            if (j <= t) {
                const float p =
                    expf(dot(qs + r * DM, ks + lane * (DM + 1), D) * dims.scale - row_lse[rr]);
                ds = p * (dot(dos + r * DM, vs + lane * (DM + 1), D) - delta[rr]) * dims.scale;
            }
            const int seen = int(smaller(key_tile, t - j0 + 1));
            for (int jj = 0; jj < seen; ++jj) {
                const float dsj = __shfl_sync(full_mask, ds, jj);
#pragma unroll
                for (int dv = 0; dv < DV; ++dv)
                    acc[rr][dv] += dsj * ks[jj * (DM + 1) + lane + warp_size * dv];
            }
        }
    }
#pragma unroll
    for (int rr = 0; rr < rows_per_warp; ++rr) {
        const int64_t t = t0 + warp * rows_per_warp + rr;
        if (t >= T) continue;
        float * dq = d_q + ((b * T + t) * H + h) * D;
#pragma unroll
        for (int dv = 0; dv < DV; ++dv) {
            const int d = lane + warp_size * dv;
            if (d < D) dq[d] = acc[rr][dv];
        }
    }
}

// d_v_j = Σ_h Σ_{i ≥ j} P_ij d_out_i and d_k_j = Σ_h Σ_{i ≥ j} dS_ij q_i
// (dS_ij = P_ij (d_out_i · v_j − row_dot_i) · scale) over the group's
// query heads h, the queries ascending.
template <int DV>
__global__ void __launch_bounds__(attention_threads)
    attention_backward_key_kernel(float * d_k, float * d_v, const float * d_out, const float * lse,
                                  const float * row_dot, const float * q, const float * k,
                                  const float * v, attention_dims dims) {
    constexpr int DM = warp_size * DV;
    extern __shared__ float shared[];
    float * ks = shared;                           // [dkv_key_tile][DM]: broadcast reads
    float * vs = ks + dkv_key_tile * DM;           // [dkv_key_tile][DM]
    float * qs = vs + dkv_key_tile * DM;           // [dkv_query_tile][DM + 1]: lane i reads row i
    float * dos = qs + dkv_query_tile * (DM + 1);  // [dkv_query_tile][DM + 1]
    float * lses = dos + dkv_query_tile * (DM + 1);  // [dkv_query_tile]
    float * deltas = lses + dkv_query_tile;          // [dkv_query_tile]
    const int64_t T = dims.T, H = dims.H, KV = dims.KV, D = dims.D;
    const int64_t b = blockIdx.z, g = blockIdx.y, j0 = int64_t(blockIdx.x) * dkv_key_tile;
    const int64_t group = H / KV;
    const int lane = int(threadIdx.x) % warp_size, warp = int(threadIdx.x) / warp_size;

    load_rows(ks, DM, dkv_key_tile, k, b, j0, g, KV, dims, DM);
    load_rows(vs, DM, dkv_key_tile, v, b, j0, g, KV, dims, DM);
    float acc_k[rows_per_warp][DV], acc_v[rows_per_warp][DV];
#pragma unroll
    for (int rr = 0; rr < rows_per_warp; ++rr)
#pragma unroll
        for (int dv = 0; dv < DV; ++dv) acc_k[rr][dv] = acc_v[rr][dv] = 0.0f;
    for (int64_t h = g * group; h < (g + 1) * group; ++h)
        for (int64_t i0 = j0; i0 < T; i0 += dkv_query_tile) {
            __syncthreads();  // the previous tile's readers are done (and ks, vs are loaded)
            load_rows(qs, DM + 1, dkv_query_tile, q, b, i0, h, H, dims, DM);
            load_rows(dos, DM + 1, dkv_query_tile, d_out, b, i0, h, H, dims, DM);
            for (int i = threadIdx.x; i < dkv_query_tile; i += blockDim.x) {
                const int64_t t = i0 + i;
                lses[i] = t < T ? lse[(b * H + h) * T + t] : 0.0f;
                deltas[i] = t < T ? row_dot[(b * H + h) * T + t] : 0.0f;
            }
            __syncthreads();
            const int64_t i = i0 + lane;
#pragma unroll
            for (int rr = 0; rr < rows_per_warp; ++rr) {
                const int jr = warp * rows_per_warp + rr;
                const int64_t j = j0 + jr;
                if (j >= T) continue;  // warp-uniform
                float p = 0.0f, ds = 0.0f;
                if (i >= j && i < T) {
                    p = expf(dot(qs + lane * (DM + 1), ks + jr * DM, D) * dims.scale - lses[lane]);
                    ds = p * (dot(dos + lane * (DM + 1), vs + jr * DM, D) - deltas[lane]) *
                         dims.scale;
                }
                // Queries i0 + ii for ii in [first, end) see key j.
                const int first = int(j > i0 ? j - i0 : 0);
                const int end = int(smaller(dkv_query_tile, T - i0));
                for (int ii = first; ii < end; ++ii) {
                    const float pi = __shfl_sync(full_mask, p, ii);
                    const float dsi = __shfl_sync(full_mask, ds, ii);
#pragma unroll
                    for (int dv = 0; dv < DV; ++dv) {
                        const int at = ii * (DM + 1) + lane + warp_size * dv;
                        acc_v[rr][dv] += pi * dos[at];
                        acc_k[rr][dv] += dsi * qs[at];
                    }
                }
            }
        }
#pragma unroll
    for (int rr = 0; rr < rows_per_warp; ++rr) {
        const int64_t j = j0 + warp * rows_per_warp + rr;
        if (j >= T) continue;
        const int64_t at = ((b * T + j) * KV + g) * D;
#pragma unroll
        for (int dv = 0; dv < DV; ++dv) {
            const int d = lane + warp_size * dv;
            if (d < D) {
                d_k[at + d] = acc_k[rr][dv];
                d_v[at + d] = acc_v[rr][dv];
            }
        }
    }
}

// Launches kernel<<<grid, attention_threads, bytes>>> after raising the
// kernel's dynamic shared memory limit when it needs more than the
// default 48 KiB (refused with UNSUPPORTED when the device has less).
template <class Kernel, class... Arguments>
int32_t launch_with_shared(Kernel kernel, dim3 grid, size_t bytes, cudaStream_t stream,
                           const char * what, char * error, size_t capacity,
                           Arguments... arguments) {
    if (bytes > 48 * 1024) {
        int device = 0, optin = 0;
        cudaError_t result = cudaGetDevice(&device);
        if (result == cudaSuccess)
            result = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
        if (result != cudaSuccess) return report_cuda(result, what, error, capacity);
        if (size_t(optin) < bytes)
            return report_format(status_unsupported, error, capacity,
                                 "CUDA backend: %s: needs %zu bytes of shared memory per block, "
                                 "the device allows %d (a smaller head_dim fits)",
                                 what, bytes, optin);
        result = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                      int(bytes));
        if (result != cudaSuccess) return report_cuda(result, what, error, capacity);
    }
    kernel<<<grid, attention_threads, bytes, stream>>>(arguments...);
    return report_launch(what, error, capacity);
}

template <int DV>
int32_t launch_forward(float * out, float * lse, const float * q, const float * k, const float * v,
                       int64_t B, const attention_dims & dims, cudaStream_t stream, char * error,
                       size_t capacity) {
    constexpr int DM = warp_size * DV;
    const size_t bytes = sizeof(float) * size_t(query_tile * DM + key_tile * (DM + 1) + key_tile * DM);
    const dim3 grid(unsigned((dims.T + query_tile - 1) / query_tile), unsigned(dims.H), unsigned(B));
    return launch_with_shared(attention_forward_kernel<DV>, grid, bytes, stream,
                              "the attention_forward kernel", error, capacity, out, lse, q, k, v,
                              dims);
}

template <int DV>
int32_t launch_backward(float * d_q, float * d_k, float * d_v, const float * row_dot,
                        const float * d_out, const float * lse, const float * q, const float * k,
                        const float * v, int64_t B, const attention_dims & dims,
                        cudaStream_t stream, char * error, size_t capacity) {
    constexpr int DM = warp_size * DV;
    const size_t query_bytes =
        sizeof(float) * size_t(2 * query_tile * DM + 2 * key_tile * (DM + 1));
    const dim3 query_grid(unsigned((dims.T + query_tile - 1) / query_tile), unsigned(dims.H),
                          unsigned(B));
    if (int32_t failed = launch_with_shared(
            attention_backward_query_kernel<DV>, query_grid, query_bytes, stream,
            "the attention_backward kernel (d_q)", error, capacity, d_q, d_out, lse, row_dot, q, k,
            v, dims))
        return failed;
    const size_t key_bytes = sizeof(float) * size_t(2 * dkv_key_tile * DM +
                                                    2 * dkv_query_tile * (DM + 1) +
                                                    2 * dkv_query_tile);
    const dim3 key_grid(unsigned((dims.T + dkv_key_tile - 1) / dkv_key_tile), unsigned(dims.KV),
                        unsigned(B));
    return launch_with_shared(attention_backward_key_kernel<DV>, key_grid, key_bytes, stream,
                              "the attention_backward kernel (d_k, d_v)", error, capacity, d_k,
                              d_v, d_out, lse, row_dot, q, k, v, dims);
}

// The values per lane the head needs: DM = 32 · DV ≥ D.
int lanes_values(int64_t D) { return D <= 32 ? 1 : D <= 64 ? 2 : D <= 128 ? 4 : 8; }

// The checks both entries share.
void check_shape(argument_checks & checks, int64_t B, int64_t T, int64_t H, int64_t KV, int64_t D,
                 int64_t * values, int64_t * kv_values, int64_t * rows) {
    constexpr int64_t grid_limit = 65535;  // gridDim.y and .z
    checks.non_negative("B", B)
        .non_negative("T", T)
        .positive("H", H)
        .positive("KV", KV)
        .positive("D", D)
        .at_most("B", B, grid_limit, "a grid dimension")
        .at_most("H", H, grid_limit, "a grid dimension")
        .require(H % KV == 0, "KV expected to divide H = %lld, got %lld",
                 static_cast<long long>(H), static_cast<long long>(KV))
        .require(D % 2 == 0, "D expected even, got %lld", static_cast<long long>(D))
        .at_most("D", D, max_attention_head_dim, "the kernels' widest head")
        .at_most("T", T, int64_t(INT32_MAX) * query_tile, "a grid dimension")
        .product("B * H * T", B, H, T, rows);
    int64_t kv_rows = 0;
    checks.product("B * T * KV", B, T, KV, &kv_rows);
    checks.product("B * T * H * D", *rows, D, 1, values);
    checks.product("B * T * KV * D", kv_rows, D, 1, kv_values);
}

}  // namespace

int32_t attention_forward(void * session, float * out, float * lse, const float * q,
                          const float * k, const float * v, int64_t B, int64_t T, int64_t H,
                          int64_t KV, int64_t D, char * error, size_t error_capacity) {
    argument_checks checks("attention_forward", error, error_capacity);
    int64_t values = 0, kv_values = 0, rows = 0;
    checks.session(session);
    check_shape(checks, B, T, H, KV, D, &values, &kv_values, &rows);
    checks.pointer("out", out, values > 0)
        .pointer("lse", lse, values > 0)
        .pointer("q", q, values > 0)
        .pointer("k", k, values > 0)
        .pointer("v", v, values > 0);
    if (checks.status() != status_ok) return checks.status();
    if (values == 0) return status_ok;
    const attention_dims dims{T, H, KV, D, float(1.0 / std::sqrt(double(D)))};
    return run_on_session(session, error, error_capacity, [&](student_session & s) {
        switch (lanes_values(D)) {
        case 1: return launch_forward<1>(out, lse, q, k, v, B, dims, s.stream, error, error_capacity);
        case 2: return launch_forward<2>(out, lse, q, k, v, B, dims, s.stream, error, error_capacity);
        case 4: return launch_forward<4>(out, lse, q, k, v, B, dims, s.stream, error, error_capacity);
        default: return launch_forward<8>(out, lse, q, k, v, B, dims, s.stream, error, error_capacity);
        }
    });
}

int32_t attention_backward(void * session, float * d_q, float * d_k, float * d_v, float * row_dot,
                           const float * d_out, const float * out, const float * lse,
                           const float * q, const float * k, const float * v, int64_t B,
                           int64_t T, int64_t H, int64_t KV, int64_t D, char * error,
                           size_t error_capacity) {
    argument_checks checks("attention_backward", error, error_capacity);
    int64_t values = 0, kv_values = 0, rows = 0;
    checks.session(session);
    check_shape(checks, B, T, H, KV, D, &values, &kv_values, &rows);
    const bool used = values > 0;
    checks.pointer("d_q", d_q, used)
        .pointer("d_k", d_k, used)
        .pointer("d_v", d_v, used)
        .pointer("row_dot", row_dot, used)
        .pointer("d_out", d_out, used)
        .pointer("out", out, used)
        .pointer("lse", lse, used)
        .pointer("q", q, used)
        .pointer("k", k, used)
        .pointer("v", v, used);
    if (checks.status() != status_ok) return checks.status();
    if (!used) return status_ok;
    const attention_dims dims{T, H, KV, D, float(1.0 / std::sqrt(double(D)))};
    return run_on_session(session, error, error_capacity, [&](student_session & s) -> int32_t {
        constexpr int warps_per_block = 8;
        const int64_t blocks = (rows + warps_per_block - 1) / warps_per_block;
        attention_row_dot_kernel<<<unsigned(blocks < max_elementwise_blocks ? blocks
                                                                            : max_elementwise_blocks),
                                   warps_per_block * warp_size, 0, s.stream>>>(row_dot, d_out, out,
                                                                               dims, rows);
        if (int32_t failed =
                report_launch("the attention_backward kernel (row_dot)", error, error_capacity))
            return failed;
        switch (lanes_values(D)) {
        case 1:
            return launch_backward<1>(d_q, d_k, d_v, row_dot, d_out, lse, q, k, v, B, dims,
                                      s.stream, error, error_capacity);
        case 2:
            return launch_backward<2>(d_q, d_k, d_v, row_dot, d_out, lse, q, k, v, B, dims,
                                      s.stream, error, error_capacity);
        case 4:
            return launch_backward<4>(d_q, d_k, d_v, row_dot, d_out, lse, q, k, v, B, dims,
                                      s.stream, error, error_capacity);
        default:
            return launch_backward<8>(d_q, d_k, d_v, row_dot, d_out, lse, q, k, v, B, dims,
                                      s.stream, error, error_capacity);
        }
    });
}

}  // namespace distill::kernels::cuda
