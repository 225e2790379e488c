#include "students/layers/relu.h"

#include "students/layers/elementwise.h"

namespace distill::layers {

// PyTorch's rule: a NaN passes through (forward and gradient), so a NaN
// before a ReLU reaches the loss and is refused there instead of vanishing;
// -0 stays -0. Written as selects on `< 0` / `<= 0`, which a NaN fails.
template <class T>
void relu_forward(T * out, const T * inp, int64_t N) {
    elementwise<true>(N, 262144, [=](int64_t i) { out[i] = inp[i] < T(0) ? T(0) : inp[i]; });
}

template <class T>
void relu_backward(T * d_inp, const T * d_out, const T * inp, int64_t N) {
    elementwise<true>(N, 262144, [=](int64_t i) {
        const T g = d_out[i];  // loaded unconditionally, so the select vectorises
        d_inp[i] = inp[i] <= T(0) ? T(0) : g;
    });
}

template void relu_forward<float>(float *, const float *, int64_t);
template void relu_forward<double>(double *, const double *, int64_t);
template void relu_backward<float>(float *, const float *, const float *, int64_t);
template void relu_backward<double>(double *, const double *, const double *, int64_t);

}  // namespace distill::layers
