// Fully connected layer, PyTorch's nn.Linear layout.
//
// Dimensions:  B  rows of the batch
//              IN features in, OUT features out
#pragma once

#include <cstdint>

namespace distill::layers {

// out[B, OUT] = inp[B, IN] · weight[OUT, IN]ᵀ + bias[OUT].
template <class T>
void linear_forward(T * out, const T * inp, const T * weight, const T * bias, int64_t B, int64_t IN,
                    int64_t OUT);

// Overwrites d_weight[OUT, IN] and d_bias[OUT] with the gradients for the
// batch; d_inp[B, IN] too unless it is null (the first layer needs none).
// d_out[B, OUT], inp[B, IN], weight[OUT, IN].
template <class T>
void linear_backward(T * d_inp, T * d_weight, T * d_bias, const T * d_out, const T * inp,
                     const T * weight, int64_t B, int64_t IN, int64_t OUT);

}  // namespace distill::layers
