// dropout: inverted dropout over n values, forward (in = x) and backward
// (in = d_out) alike: out[i] = in[i] · scale when element i is kept, else
// 0, with the CPU's mask (student_dropout.cuh) and the CPU's scale
// 1 / (1 − p) rounded once to fp32 (dropout.cpp: T(1) / T(1.0 − p)), so
// the result equals the CPU's bit for bit.
#include "student_dropout.cuh"
#include "student_primitives.cuh"
#include "student_session.cuh"

namespace distill::kernels::cuda {
namespace {

// out[n], in[n]; mix64(seed) is recomputed per element, as on the CPU
// (cheap next to the memory traffic).
__global__ void dropout_kernel(float * out, const float * in, int64_t n, uint64_t seed,
                               uint64_t drop_threshold, float scale) {
    for (int64_t at = grid_first(); at < n; at += grid_stride())
        out[at] = dropout_keeps_element(seed, at, drop_threshold) ? in[at] * scale : 0.0f;
}

}  // namespace

int32_t dropout(void * session, float * out, const float * in, int64_t n, double p, uint64_t seed,
                char * error, size_t error_capacity) {
    argument_checks checks("dropout", error, error_capacity);
    checks.session(session)
        .non_negative("n", n)
        .pointer("out", out, n > 0)
        .pointer("in", in, n > 0);
    if (checks.status() != status_ok) return checks.status();
    if (!(p >= 0.0 && p < 1.0))  // NaN included
        return report_format(status_invalid_argument, error, error_capacity,
                             "CUDA backend: dropout: p expected in [0, 1), got %g", p);
    if (n == 0) return status_ok;
    return run_on_session(session, error, error_capacity, [&](student_session & s) {
        const float scale = 1.0f / static_cast<float>(1.0 - p);
        dropout_kernel<<<elementwise_blocks(n), elementwise_threads, 0, s.stream>>>(
            out, in, n, seed, dropout_drop_threshold(p), scale);
        return report_launch("the dropout kernel", error, error_capacity);
    });
}

}  // namespace distill::kernels::cuda
