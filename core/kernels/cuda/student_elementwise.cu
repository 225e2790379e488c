// The elementwise primitives: bias_add and its gradient bias_grad over
// values viewed as [outer, channels, inner] (a linear layer: [B, OUT, 1];
// a convolution: [N, OC, OH·OW]), and the activations ReLU and GELU,
// forward and backward, over n values.
//
// The formulas are the CPU layers' (core/students/layers/relu.cpp,
// gelu.cpp), written so that nvcc does not fuse a multiply and an add
// into an FMA the CPU does not do (__fmul_rn / __fadd_rn): ReLU matches
// bit for bit, GELU to the rounding of erff/expf. bias_grad sums in fp32
// in a fixed order (deterministic run to run), not the CPU's order.
#include <numbers>

#include "cuda_math.cuh"
#include "student_primitives.cuh"
#include "student_session.cuh"

namespace distill::kernels::cuda {
namespace {

// values[o, c, i] += bias[c]; values: [outer · channels · inner]
__global__ void bias_add_kernel(float * values, const float * bias, int64_t total, int64_t channels,
                                int64_t inner) {
    for (int64_t at = grid_first(); at < total; at += grid_stride())
        values[at] += bias[(at / inner) % channels];
}

// One block per channel (grid-striding over channels): d_bias[c] = the
// sum of d_values[o, c, i] over o and i, each thread summing a strided
// share and the block combining the shares in a fixed order.
constexpr int bias_grad_threads = 256;
constexpr int64_t max_bias_grad_blocks = 65535;

__global__ void bias_grad_kernel(float * d_bias, const float * d_values, int64_t outer,
                                 int64_t channels, int64_t inner) {
    const int64_t per_channel = outer * inner;
    for (int64_t channel = blockIdx.x; channel < channels; channel += gridDim.x) {
        float sum = 0.0f;
        for (int64_t j = threadIdx.x; j < per_channel; j += blockDim.x) {
            const int64_t o = j / inner, i = j - o * inner;
            sum += d_values[(o * channels + channel) * inner + i];
        }
        sum = block_reduce(sum, sum_op{});
        if (threadIdx.x == 0) d_bias[channel] = sum;
    }
}

// Fills d_bias[channels] with zeros: bias_grad over an empty batch.
__global__ void zero_kernel(float * values, int64_t n) {
    for (int64_t at = grid_first(); at < n; at += grid_stride()) values[at] = 0.0f;
}

// out = in < 0 ? 0 : in (a NaN stays NaN and -0 stays -0, as in relu.cpp and PyTorch).
__global__ void relu_forward_kernel(float * out, const float * in, int64_t n) {
    for (int64_t at = grid_first(); at < n; at += grid_stride()) {
        const float x = in[at];
        out[at] = x < 0.0f ? 0.0f : x;
    }
}

// d_in = in <= 0 ? 0 : d_out (PyTorch's choice at 0; a NaN input passes d_out).
__global__ void relu_backward_kernel(float * d_in, const float * d_out, const float * in,
                                     int64_t n) {
    for (int64_t at = grid_first(); at < n; at += grid_stride()) {
        const float g = d_out[at];
        d_in[at] = in[at] <= 0.0f ? 0.0f : g;
    }
}

// gelu.cpp's constants, rounded to fp32 on the host as the CPU does.
struct gelu_constants {
    float inv_sqrt2;     // 1 / √2
    float inv_sqrt_2pi;  // 1 / √(2π)
};

gelu_constants make_gelu_constants() {
    const float inv_sqrt2 = 1.0f / std::numbers::sqrt2_v<float>;
    return {inv_sqrt2, std::numbers::inv_sqrtpi_v<float> * inv_sqrt2};
}

// out = 0.5 · x · (1 + erf(x / √2)), in gelu.cpp's order of operations.
__global__ void gelu_forward_kernel(float * out, const float * in, int64_t n, gelu_constants k) {
    for (int64_t at = grid_first(); at < n; at += grid_stride()) {
        const float x = in[at];
        const float half_x = __fmul_rn(0.5f, x);
        out[at] = __fmul_rn(half_x, __fadd_rn(1.0f, erff(__fmul_rn(x, k.inv_sqrt2))));
    }
}

// d_in = d_out · (Φ(x) + x · φ(x)), Φ = (1 + erf(x / √2)) / 2,
// φ = exp(−x² / 2) / √(2π), in gelu.cpp's order of operations.
__global__ void gelu_backward_kernel(float * d_in, const float * d_out, const float * in, int64_t n,
                                     gelu_constants k) {
    for (int64_t at = grid_first(); at < n; at += grid_stride()) {
        const float x = in[at];
        const float cdf = __fmul_rn(0.5f, __fadd_rn(1.0f, erff(__fmul_rn(x, k.inv_sqrt2))));
        const float pdf = __fmul_rn(k.inv_sqrt_2pi, expf(__fmul_rn(__fmul_rn(-0.5f, x), x)));
        d_in[at] = __fmul_rn(d_out[at], __fadd_rn(cdf, __fmul_rn(x, pdf)));
    }
}

}  // namespace

int32_t launch_bias_add(float * values, const float * bias, int64_t outer, int64_t channels,
                        int64_t inner, cudaStream_t stream, char * error, size_t error_capacity) {
    const int64_t total = outer * channels * inner;
    if (total == 0) return status_ok;
    bias_add_kernel<<<elementwise_blocks(total), elementwise_threads, 0, stream>>>(
        values, bias, total, channels, inner);
    return report_launch("the bias_add kernel", error, error_capacity);
}

int32_t launch_bias_grad(float * d_bias, const float * d_values, int64_t outer, int64_t channels,
                         int64_t inner, cudaStream_t stream, char * error, size_t error_capacity) {
    if (channels == 0) return status_ok;
    if (outer == 0 || inner == 0) {  // nothing summed: the gradient is 0
        zero_kernel<<<elementwise_blocks(channels), elementwise_threads, 0, stream>>>(d_bias,
                                                                                      channels);
        return report_launch("the bias_grad kernel (zeroing)", error, error_capacity);
    }
    const auto blocks =
        static_cast<unsigned>(channels < max_bias_grad_blocks ? channels : max_bias_grad_blocks);
    bias_grad_kernel<<<blocks, bias_grad_threads, 0, stream>>>(d_bias, d_values, outer, channels,
                                                               inner);
    return report_launch("the bias_grad kernel", error, error_capacity);
}

int32_t bias_add(void * session, float * values, const float * bias, int64_t outer,
                 int64_t channels, int64_t inner, char * error, size_t error_capacity) {
    argument_checks checks("bias_add", error, error_capacity);
    int64_t total = 0;
    checks.session(session)
        .non_negative("outer", outer)
        .non_negative("channels", channels)
        .non_negative("inner", inner)
        .product("outer * channels * inner", outer, channels, inner, &total)
        .pointer("values", values, total > 0)
        .pointer("bias", bias, total > 0);
    if (checks.status() != status_ok) return checks.status();
    if (total == 0) return status_ok;
    return run_on_session(session, error, error_capacity, [&](student_session & s) {
        return launch_bias_add(values, bias, outer, channels, inner, s.stream, error,
                               error_capacity);
    });
}

int32_t bias_grad(void * session, float * d_bias, const float * d_values, int64_t outer,
                  int64_t channels, int64_t inner, char * error, size_t error_capacity) {
    argument_checks checks("bias_grad", error, error_capacity);
    int64_t total = 0;
    checks.session(session)
        .non_negative("outer", outer)
        .non_negative("channels", channels)
        .non_negative("inner", inner)
        .product("outer * channels * inner", outer, channels, inner, &total)
        .pointer("d_bias", d_bias, channels > 0)
        .pointer("d_values", d_values, total > 0);
    if (checks.status() != status_ok) return checks.status();
    // d_bias is overwritten even when nothing is summed (outer or inner 0).
    if (channels == 0) return status_ok;
    return run_on_session(session, error, error_capacity, [&](student_session & s) {
        return launch_bias_grad(d_bias, d_values, outer, channels, inner, s.stream, error,
                                error_capacity);
    });
}

int32_t activation_forward(void * session, int32_t activation, float * out, const float * in,
                           int64_t n, char * error, size_t error_capacity) {
    argument_checks checks("activation_forward", error, error_capacity);
    checks.session(session)
        .one_of_two("activation", activation, "0 ReLU, 1 GELU")
        .non_negative("n", n)
        .pointer("out", out, n > 0)
        .pointer("in", in, n > 0);
    if (checks.status() != status_ok) return checks.status();
    if (n == 0) return status_ok;
    return run_on_session(session, error, error_capacity, [&](student_session & s) {
        if (activation == 0) {
            relu_forward_kernel<<<elementwise_blocks(n), elementwise_threads, 0, s.stream>>>(out,
                                                                                             in, n);
            return report_launch("the ReLU forward kernel", error, error_capacity);
        }
        gelu_forward_kernel<<<elementwise_blocks(n), elementwise_threads, 0, s.stream>>>(
            out, in, n, make_gelu_constants());
        return report_launch("the GELU forward kernel", error, error_capacity);
    });
}

int32_t activation_backward(void * session, int32_t activation, float * d_in, const float * d_out,
                            const float * in, int64_t n, char * error, size_t error_capacity) {
    argument_checks checks("activation_backward", error, error_capacity);
    checks.session(session)
        .one_of_two("activation", activation, "0 ReLU, 1 GELU")
        .non_negative("n", n)
        .pointer("d_in", d_in, n > 0)
        .pointer("d_out", d_out, n > 0)
        .pointer("in", in, n > 0);
    if (checks.status() != status_ok) return checks.status();
    if (n == 0) return status_ok;
    return run_on_session(session, error, error_capacity, [&](student_session & s) {
        if (activation == 0) {
            relu_backward_kernel<<<elementwise_blocks(n), elementwise_threads, 0, s.stream>>>(
                d_in, d_out, in, n);
            return report_launch("the ReLU backward kernel", error, error_capacity);
        }
        gelu_backward_kernel<<<elementwise_blocks(n), elementwise_threads, 0, s.stream>>>(
            d_in, d_out, in, n, make_gelu_constants());
        return report_launch("the GELU backward kernel", error, error_capacity);
    });
}

}  // namespace distill::kernels::cuda
