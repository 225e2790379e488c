#include "lm/swiglu.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/cpu_math.h"
#include "lm/vector_clones.h"
#include "students/layers/elementwise.h"

namespace distill::lm {
namespace {

// exp(−x) for the sigmoid: cpu_math's vectorisable fast_exp (~2 ulp) in
// fp32 (0 below −87.3 and +inf above 88.7, where the sigmoid is 1 or 0
// either way), libm's in fp64 (the finite-difference tests).
[[gnu::always_inline]] inline float exp_of(float x) {
    return kernels::cpu::DISTILL_CPU_ISA::fast_exp(x);
}
[[gnu::always_inline]] inline double exp_of(double x) { return std::exp(x); }

template <class T>
[[gnu::always_inline]] inline void forward_body(T * out, const T * gate, const T * up, int64_t n) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
        const T x = gate[i];
        out[i] = x / (T(1) + exp_of(-x)) * up[i];
    }
}

template <class T>
[[gnu::always_inline]] inline void backward_body(T * d_gate, T * d_up, const T * d_out,
                                                 const T * gate, const T * up, int64_t n) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
        const T x = gate[i];
        const T sigmoid = T(1) / (T(1) + exp_of(-x));
        const T silu = x * sigmoid;
        d_up[i] = d_out[i] * silu;
        d_gate[i] = d_out[i] * up[i] * sigmoid * (T(1) + x * (T(1) - sigmoid));
    }
}

// Each value alone, the same operations in a vector lane as in a scalar
// (no reduction, no FMA contraction in ISO C++): the same bits whichever
// block or version computes it.
DISTILL_LM_VECTOR_CLONES void forward_range(float * out, const float * gate, const float * up,
                                            int64_t n) {
    forward_body(out, gate, up, n);
}
void forward_range(double * out, const double * gate, const double * up, int64_t n) {
    forward_body(out, gate, up, n);
}
DISTILL_LM_VECTOR_CLONES void backward_range(float * d_gate, float * d_up, const float * d_out,
                                             const float * gate, const float * up, int64_t n) {
    backward_body(d_gate, d_up, d_out, gate, up, n);
}
void backward_range(double * d_gate, double * d_up, const double * d_out, const double * gate,
                    const double * up, int64_t n) {
    backward_body(d_gate, d_up, d_out, gate, up, n);
}

// Blocks of values per call (and per thread-team share).
constexpr int64_t block = 4096;

}  // namespace

template <class T>
void swiglu_forward(T * out, const T * gate, const T * up, int64_t N) {
    layers::team_elementwise((N + block - 1) / block, 65536 / block, [=](int64_t b) {
        const int64_t begin = b * block, n = std::min(block, N - begin);
        forward_range(out + begin, gate + begin, up + begin, n);
    });
}

template <class T>
void swiglu_backward(T * d_gate, T * d_up, const T * d_out, const T * gate, const T * up,
                     int64_t N) {
    layers::team_elementwise((N + block - 1) / block, 65536 / block, [=](int64_t b) {
        const int64_t begin = b * block, n = std::min(block, N - begin);
        backward_range(d_gate + begin, d_up + begin, d_out + begin, gate + begin, up + begin, n);
    });
}

template void swiglu_forward<float>(float *, const float *, const float *, int64_t);
template void swiglu_forward<double>(double *, const double *, const double *, int64_t);
template void swiglu_backward<float>(float *, float *, const float *, const float *,
                                     const float *, int64_t);
template void swiglu_backward<double>(double *, double *, const double *, const double *,
                                      const double *, int64_t);

}  // namespace distill::lm
