// 2 × 2 max pooling with stride 2, NCHW (nn.MaxPool2d(2)): an odd last row
// or column is dropped, as PyTorch's floor mode does.
//
// Dimensions:  N images, C channels, H × W pixels in
//              OH = H / 2, OW = W / 2 pixels out (rounded down)
#pragma once

#include <cstdint>

namespace distill::layers {

// out[N, C, OH, OW] = the largest of each 2 × 2 window of inp[N, C, H, W];
// argmax[N, C, OH, OW] = its index h·W + w within the H × W plane (the first
// in row order on ties; a NaN wins, and propagates, as in PyTorch).
template <class T>
void maxpool2d_forward(T * out, int32_t * argmax, const T * inp, int64_t N, int64_t C, int64_t H,
                       int64_t W);

// d_inp[N, C, H, W] = d_out[N, C, OH, OW] routed to the argmax of each
// window, 0 elsewhere (the windows do not overlap).
template <class T>
void maxpool2d_backward(T * d_inp, const T * d_out, const int32_t * argmax, int64_t N, int64_t C,
                        int64_t H, int64_t W);

}  // namespace distill::layers
