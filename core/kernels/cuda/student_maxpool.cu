// 2 × 2 max pooling, stride 2, floor mode, NCHW, as
// core/students/layers/maxpool2d.cpp, with its tie and NaN rules: the
// first of the window in row order wins a tie, a NaN wins (the first NaN,
// and stays). Bit-exact with the CPU (comparisons only).
//
// Dimensions:  N images, C channels, H × W pixels in; OH = H / 2, OW = W / 2
//   forward:  out[N, C, OH, OW], argmax[N, C, OH, OW] = h·W + w in the plane
//   backward: d_in[N, C, H, W] = d_out routed to each window's argmax, 0
//             elsewhere (the dropped odd last row / column included)
#include <climits>

#include "student_primitives.cuh"
#include "student_session.cuh"

namespace distill::kernels::cuda {
namespace {

// One thread per output value.
__global__ void maxpool2d_forward_kernel(float * out, int32_t * argmax, const float * in,
                                         int64_t total, int64_t H, int64_t W) {
    const int64_t OH = H / 2, OW = W / 2;
    for (int64_t at = grid_first(); at < total; at += grid_stride()) {
        const int64_t plane = at / (OH * OW), within = at - plane * (OH * OW);
        const int64_t oh = within / OW, ow = within - oh * OW;
        const float * src = in + plane * H * W;
        int64_t best = (2 * oh) * W + 2 * ow;
        for (int64_t i = 1; i < 4; ++i) {
            const int64_t candidate = (2 * oh + i / 2) * W + 2 * ow + i % 2;
            const bool wins = src[candidate] > src[best] || isnan(src[candidate]);
            if (wins && !isnan(src[best])) best = candidate;
        }
        out[at] = src[best];
        argmax[at] = static_cast<int32_t>(best);
    }
}

// One thread per input value: its window's gradient if it is the window's
// argmax, else 0. Each value is written once, so no atomics and no race.
__global__ void maxpool2d_backward_kernel(float * d_in, const float * d_out, const int32_t * argmax,
                                          int64_t total, int64_t H, int64_t W) {
    const int64_t OH = H / 2, OW = W / 2;
    for (int64_t at = grid_first(); at < total; at += grid_stride()) {
        const int64_t plane = at / (H * W), within = at - plane * (H * W);
        const int64_t h = within / W, w = within - h * W;
        float gradient = 0.0f;
        if (h < 2 * OH && w < 2 * OW) {
            const int64_t window = plane * OH * OW + (h / 2) * OW + w / 2;
            if (argmax[window] == within) gradient = d_out[window];
        }
        d_in[at] = gradient;
    }
}

// The checks both directions share; *inputs = N·C·H·W, *outputs = N·C·OH·OW.
int32_t check_pool(argument_checks & checks, void * session, int64_t N, int64_t C, int64_t H,
                   int64_t W, int64_t * inputs, int64_t * outputs) {
    int64_t planes = 0, plane_size = 0;
    checks.session(session)
        .non_negative("N", N)
        .non_negative("C", C)
        .non_negative("H", H)
        .non_negative("W", W)
        .product("H * W", H, W, 1, &plane_size);
    checks.at_most("H * W", plane_size, INT_MAX, "argmax holds int32 indices in the H x W plane")
        .product("N * C", N, C, 1, &planes)
        .product("N * C * H * W", planes, plane_size, 1, inputs);
    *outputs = checks.status() == status_ok ? planes * (H / 2) * (W / 2) : 0;  // <= *inputs
    return checks.status();
}

}  // namespace

int32_t maxpool2d_forward(void * session, float * out, int32_t * argmax, const float * in,
                          int64_t N, int64_t C, int64_t H, int64_t W, char * error,
                          size_t error_capacity) {
    argument_checks checks("maxpool2d_forward", error, error_capacity);
    int64_t inputs = 0, outputs = 0;
    check_pool(checks, session, N, C, H, W, &inputs, &outputs);
    checks.pointer("out", out, outputs > 0)
        .pointer("argmax", argmax, outputs > 0)
        .pointer("in", in, outputs > 0);
    if (checks.status() != status_ok) return checks.status();
    if (outputs == 0) return status_ok;
    return run_on_session(session, error, error_capacity, [&](student_session & s) {
        maxpool2d_forward_kernel<<<elementwise_blocks(outputs), elementwise_threads, 0, s.stream>>>(
            out, argmax, in, outputs, H, W);
        return report_launch("the maxpool2d forward kernel", error, error_capacity);
    });
}

int32_t maxpool2d_backward(void * session, float * d_in, const float * d_out,
                           const int32_t * argmax, int64_t N, int64_t C, int64_t H, int64_t W,
                           char * error, size_t error_capacity) {
    argument_checks checks("maxpool2d_backward", error, error_capacity);
    int64_t inputs = 0, outputs = 0;
    check_pool(checks, session, N, C, H, W, &inputs, &outputs);
    checks.pointer("d_in", d_in, inputs > 0)
        .pointer("d_out", d_out, outputs > 0)
        .pointer("argmax", argmax, outputs > 0);
    if (checks.status() != status_ok) return checks.status();
    if (inputs == 0) return status_ok;
    return run_on_session(session, error, error_capacity, [&](student_session & s) {
        maxpool2d_backward_kernel<<<elementwise_blocks(inputs), elementwise_threads, 0, s.stream>>>(
            d_in, d_out, argmax, inputs, H, W);
        return report_launch("the maxpool2d backward kernel", error, error_capacity);
    });
}

}  // namespace distill::kernels::cuda
