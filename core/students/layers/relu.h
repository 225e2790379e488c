// Rectified linear unit, elementwise over N values.
#pragma once

#include <cstdint>

namespace distill::layers {

// out[N] = max(inp[N], 0)
template <class T>
void relu_forward(T * out, const T * inp, int64_t N);

// d_inp[N] = d_out[N] where inp[N] > 0, else 0 (PyTorch's choice at 0).
template <class T>
void relu_backward(T * d_inp, const T * d_out, const T * inp, int64_t N);

}  // namespace distill::layers
