// Gaussian error linear unit, exact erf form (PyTorch's nn.GELU() default,
// approximate='none'), elementwise over N values.
#pragma once

#include <cstdint>

namespace distill::layers {

// out[N] = inp · Φ(inp), Φ(x) = (1 + erf(x / √2)) / 2
template <class T>
void gelu_forward(T * out, const T * inp, int64_t N);

// d_inp[N] = d_out · (Φ(inp) + inp · φ(inp)), φ the standard normal density.
template <class T>
void gelu_backward(T * d_inp, const T * d_out, const T * inp, int64_t N);

}  // namespace distill::layers
