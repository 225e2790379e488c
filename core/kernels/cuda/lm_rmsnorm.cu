// RMSNorm forward and backward, the CPU's core/lm/rmsnorm.cpp (shapes in
// core/backend/cuda_backend_api.h): a block per row for the row's sums
// (in fp64, as the CPU), and the weight's gradient as a column reduction:
// a block per 32 columns, 32 lanes of rows each summing every 32nd row in
// order, the 32 partial sums combined in lane order. Every sum has a fixed
// order, so a run gives the same bits every time; against the CPU (which
// sums the rows of a column one by one) d_weight differs by rounding.
#include "cuda_math.cuh"
#include "lm_primitives.cuh"
#include "student_session.cuh"

namespace distill::kernels::cuda {
namespace {

constexpr int row_threads = 256;
constexpr int64_t max_row_blocks = 65535;

unsigned row_blocks(int64_t rows) {
    return static_cast<unsigned>(rows < max_row_blocks ? rows : max_row_blocks);
}

// rstd[n] = 1 / √(Σ_c x² / C + eps), out = w · (x · rstd). inp, out [N, C]
__global__ void rmsnorm_forward_kernel(float * out, float * rstd, const float * inp,
                                       const float * weight, int64_t N, int64_t C, double eps) {
    for (int64_t row = blockIdx.x; row < N; row += gridDim.x) {
        const float * x = inp + row * C;
        double sum = 0.0;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) sum += double(x[c]) * double(x[c]);
        sum = block_reduce(sum, sum_op{});
        const float r = float(1.0 / sqrt(sum / double(C) + eps));
        if (threadIdx.x == 0) rstd[row] = r;
        float * y = out + row * C;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
            y[c] = __fmul_rn(weight[c], __fmul_rn(x[c], r));
    }
}

// d_inp (+)= r · (g · w − x · r · mean), mean = Σ_c (g · w) · (x · r) / C (fp64).
__global__ void rmsnorm_backward_input_kernel(float * d_inp, const float * d_out,
                                              const float * inp, const float * rstd,
                                              const float * weight, int64_t N, int64_t C,
                                              bool accumulate) {
    for (int64_t row = blockIdx.x; row < N; row += gridDim.x) {
        const float * x = inp + row * C;
        const float * dy = d_out + row * C;
        const float r = rstd[row];
        double dot = 0.0;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
            dot += double(__fmul_rn(dy[c], weight[c])) * double(__fmul_rn(x[c], r));
        dot = block_reduce(dot, sum_op{});
        const float mean = float(dot / double(C));
        float * dx = d_inp + row * C;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
            const float g = __fsub_rn(__fmul_rn(dy[c], weight[c]),
                                      __fmul_rn(__fmul_rn(x[c], r), mean));
            const float value = __fmul_rn(r, g);
            dx[c] = accumulate ? __fadd_rn(dx[c], value) : value;
        }
    }
}

// d_weight[c] = Σ_n d_out[n, c] · (x[n, c] · r[n]). Block (32, 32): x the
// column within the block's 32, y the lane of rows (y, y + 32, ...).
constexpr int weight_columns = 32, weight_lanes = 32;

__global__ void rmsnorm_backward_weight_kernel(float * d_weight, const float * d_out,
                                               const float * inp, const float * rstd, int64_t N,
                                               int64_t C) {
    __shared__ float partial[weight_lanes][weight_columns + 1];
    const int64_t c = int64_t(blockIdx.x) * weight_columns + threadIdx.x;
    float sum = 0.0f;
    if (c < C)
        for (int64_t row = threadIdx.y; row < N; row += weight_lanes)
            sum = __fadd_rn(sum, __fmul_rn(d_out[row * C + c], __fmul_rn(inp[row * C + c],
                                                                          rstd[row])));
    partial[threadIdx.y][threadIdx.x] = sum;
    __syncthreads();
    if (threadIdx.y == 0 && c < C) {
        float total = partial[0][threadIdx.x];
        for (int lane = 1; lane < weight_lanes; ++lane)
            total = __fadd_rn(total, partial[lane][threadIdx.x]);
        d_weight[c] = total;
    }
}

}  // namespace

int32_t rmsnorm_forward(void * session, float * out, float * rstd, const float * inp,
                        const float * weight, int64_t N, int64_t C, double eps, char * error,
                        size_t error_capacity) {
    argument_checks checks("rmsnorm_forward", error, error_capacity);
    int64_t total = 0;
    checks.session(session)
        .non_negative("N", N)
        .positive("C", C)
        .require(eps >= 0.0, "eps expected >= 0, got %g", eps)
        .product("N * C", N, C, 1, &total)
        .pointer("out", out, total > 0)
        .pointer("rstd", rstd, total > 0)
        .pointer("inp", inp, total > 0)
        .pointer("weight", weight, total > 0);
    if (checks.status() != status_ok) return checks.status();
    if (total == 0) return status_ok;
    return run_on_session(session, error, error_capacity, [&](student_session & s) {
        rmsnorm_forward_kernel<<<row_blocks(N), row_threads, 0, s.stream>>>(out, rstd, inp, weight,
                                                                            N, C, eps);
        return report_launch("the rmsnorm_forward kernel", error, error_capacity);
    });
}

int32_t rmsnorm_backward(void * session, float * d_inp, float * d_weight, const float * d_out,
                         const float * inp, const float * rstd, const float * weight, int64_t N,
                         int64_t C, int32_t accumulate, char * error, size_t error_capacity) {
    argument_checks checks("rmsnorm_backward", error, error_capacity);
    int64_t total = 0;
    checks.session(session)
        .non_negative("N", N)
        .positive("C", C)
        .one_of_two("accumulate", accumulate, "1: d_inp += the gradient, 0: d_inp = it")
        .product("N * C", N, C, 1, &total)
        .pointer("d_inp", d_inp, total > 0)
        .pointer("d_weight", d_weight, true)
        .pointer("d_out", d_out, total > 0)
        .pointer("inp", inp, total > 0)
        .pointer("rstd", rstd, total > 0)
        .pointer("weight", weight, total > 0);
    if (checks.status() != status_ok) return checks.status();
    return run_on_session(session, error, error_capacity, [&](student_session & s) -> int32_t {
        if (N > 0) {
            rmsnorm_backward_input_kernel<<<row_blocks(N), row_threads, 0, s.stream>>>(
                d_inp, d_out, inp, rstd, weight, N, C, accumulate != 0);
            if (int32_t failed =
                    report_launch("the rmsnorm_backward kernel (input)", error, error_capacity))
                return failed;
        }
        // N = 0 sums nothing: the kernel writes the zeros.
        const auto blocks = static_cast<unsigned>((C + weight_columns - 1) / weight_columns);
        rmsnorm_backward_weight_kernel<<<blocks, dim3(weight_columns, weight_lanes), 0,
                                         s.stream>>>(d_weight, d_out, inp, rstd, N, C);
        return report_launch("the rmsnorm_backward kernel (weight)", error, error_capacity);
    });
}

}  // namespace distill::kernels::cuda
