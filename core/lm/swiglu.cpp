#include "lm/swiglu.h"

#include <cmath>

#include "students/layers/elementwise.h"

namespace distill::lm {

template <class T>
void swiglu_forward(T * out, const T * gate, const T * up, int64_t N) {
    layers::team_elementwise(N, 65536, [=](int64_t i) {
        const T x = gate[i];
        out[i] = x / (T(1) + std::exp(-x)) * up[i];
    });
}

template <class T>
void swiglu_backward(T * d_gate, T * d_up, const T * d_out, const T * gate, const T * up,
                     int64_t N) {
    layers::team_elementwise(N, 65536, [=](int64_t i) {
        const T x = gate[i];
        const T sigmoid = T(1) / (T(1) + std::exp(-x));
        const T silu = x * sigmoid;
        d_up[i] = d_out[i] * silu;
        d_gate[i] = d_out[i] * up[i] * sigmoid * (T(1) + x * (T(1) - sigmoid));
    });
}

template void swiglu_forward<float>(float *, const float *, const float *, int64_t);
template void swiglu_forward<double>(double *, const double *, const double *, int64_t);
template void swiglu_backward<float>(float *, float *, const float *, const float *,
                                     const float *, int64_t);
template void swiglu_backward<double>(double *, double *, const double *, const double *,
                                      const double *, int64_t);

}  // namespace distill::lm
