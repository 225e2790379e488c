#include "students/layers/dropout.h"

namespace distill::layers {
namespace {

// Forward and backward are the same map: y = x · mask / (1 − p).
template <class T>
void apply_mask(T * out, const T * inp, int64_t N, double p, uint64_t seed) {
    const uint64_t threshold = dropout_threshold(p);
    const T scale = T(1) / T(1.0 - p);  // as torch: 1 / (1 − p) rounded once
#pragma omp parallel for schedule(static) if (N > 65536)
    for (int64_t i = 0; i < N; ++i)
        out[i] = dropout_keeps(seed, i, threshold) ? inp[i] * scale : T(0);
}

}  // namespace

template <class T>
void dropout_forward(T * out, const T * inp, int64_t N, double p, uint64_t seed) {
    apply_mask(out, inp, N, p, seed);
}

template <class T>
void dropout_backward(T * d_inp, const T * d_out, int64_t N, double p, uint64_t seed) {
    apply_mask(d_inp, d_out, N, p, seed);
}

template void dropout_forward<float>(float *, const float *, int64_t, double, uint64_t);
template void dropout_forward<double>(double *, const double *, int64_t, double, uint64_t);
template void dropout_backward<float>(float *, const float *, int64_t, double, uint64_t);
template void dropout_backward<double>(double *, const double *, int64_t, double, uint64_t);

}  // namespace distill::layers
