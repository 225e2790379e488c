// 2-D convolution, NCHW, stride 1, zero padding P on every side (nn.Conv2d
// with stride=1, padding=P), as one GEMM over the whole batch after im2col.
//
// Dimensions:  N  images of the batch
//              C  channels in, H × W pixels in
//              OC channels out, KH × KW kernel
//              P  zero padding; OH = H + 2P − KH + 1, OW = W + 2P − KW + 1
//              K  = C·KH·KW (one column of im2col), NP = N·OH·OW
#pragma once

#include <cstdint>

namespace distill::layers {

struct conv2d_dims {
    int64_t N, C, H, W, OC, KH, KW, P;
    int64_t out_height() const { return H + 2 * P - KH + 1; }
    int64_t out_width() const { return W + 2 * P - KW + 1; }
};

// Elements of scratch that forward and backward need: the im2col matrix
// [K, NP] and the output in channel-major order [OC, NP].
int64_t conv2d_workspace_size(const conv2d_dims & d);

// out[N, OC, OH, OW] = inp[N, C, H, W] ⋆ weight[OC, C, KH, KW] + bias[OC].
// workspace[conv2d_workspace_size(d)] is scratch (contents not kept).
template <class T>
void conv2d_forward(T * out, T * workspace, const T * inp, const T * weight, const T * bias,
                    const conv2d_dims & d);

// Overwrites d_weight[OC, C, KH, KW] and d_bias[OC]; d_inp[N, C, H, W] too
// unless it is null (the first layer needs none). d_out[N, OC, OH, OW];
// inp and weight as in forward; workspace as in forward (the im2col
// matrix is rebuilt from inp rather than kept between the two calls).
template <class T>
void conv2d_backward(T * d_inp, T * d_weight, T * d_bias, T * workspace, const T * d_out,
                     const T * inp, const T * weight, const conv2d_dims & d);

}  // namespace distill::layers
