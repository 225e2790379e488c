#include "students/layers/gelu.h"

#include <cmath>
#include <numbers>

#include "students/layers/elementwise.h"

namespace distill::layers {

template <class T>
void gelu_forward(T * out, const T * inp, int64_t N) {
    const T inv_sqrt2 = T(1) / std::numbers::sqrt2_v<T>;
    elementwise(N, 65536, [=](int64_t i) {
        const T x = inp[i];
        out[i] = T(0.5) * x * (T(1) + std::erf(x * inv_sqrt2));
    });
}

template <class T>
void gelu_backward(T * d_inp, const T * d_out, const T * inp, int64_t N) {
    const T inv_sqrt2 = T(1) / std::numbers::sqrt2_v<T>;
    const T inv_sqrt_2pi = std::numbers::inv_sqrtpi_v<T> * inv_sqrt2;
    elementwise(N, 65536, [=](int64_t i) {
        const T x = inp[i];
        const T cdf = T(0.5) * (T(1) + std::erf(x * inv_sqrt2));
        const T pdf = inv_sqrt_2pi * std::exp(T(-0.5) * x * x);
        d_inp[i] = d_out[i] * (cdf + x * pdf);
    });
}

template void gelu_forward<float>(float *, const float *, int64_t);
template void gelu_forward<double>(double *, const double *, int64_t);
template void gelu_backward<float>(float *, const float *, const float *, int64_t);
template void gelu_backward<double>(double *, const double *, const double *, int64_t);

}  // namespace distill::layers
