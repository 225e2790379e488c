#include "students/layers/conv2d.h"

#include <algorithm>

#include "students/layers/blas.h"

namespace distill::layers {
namespace {

// Below this many values a loop runs on one thread: waking a team costs
// more than the copy.
constexpr int64_t parallel_threshold = 65536;

// The output columns ow whose input column ow + kw − P lies inside
// [0, W): [begin, end).
struct column_range {
    int64_t begin, end;
};
column_range inside_columns(int64_t kw, const conv2d_dims & d) {
    const int64_t OW = d.out_width();
    return {std::clamp<int64_t>(d.P - kw, 0, OW), std::clamp<int64_t>(d.W + d.P - kw, 0, OW)};
}

// col[K, NP]: row (c, kh, kw), column (n, oh, ow) holds
// inp[n, c, oh + kh − P, ow + kw − P], or 0 in the padding.
template <class T>
void im2col(T * col, const T * inp, const conv2d_dims & d) {
    const int64_t OH = d.out_height(), OW = d.out_width(), NP = d.N * OH * OW;
    const int64_t K = d.C * d.KH * d.KW;
#pragma omp parallel for collapse(2) schedule(static) if (K * NP > parallel_threshold)
    for (int64_t r = 0; r < K; ++r) {
        for (int64_t n = 0; n < d.N; ++n) {
            const int64_t c = r / (d.KH * d.KW), kh = (r / d.KW) % d.KH, kw = r % d.KW;
            const column_range inside = inside_columns(kw, d);
            const T * plane = inp + (n * d.C + c) * d.H * d.W;
            for (int64_t oh = 0; oh < OH; ++oh) {
                T * dst = col + r * NP + (n * OH + oh) * OW;
                const int64_t h = oh + kh - d.P;
                if (h < 0 || h >= d.H) {
                    std::fill(dst, dst + OW, T(0));
                    continue;
                }
                const T * src = plane + h * d.W + (inside.begin + kw - d.P);  // at ow = begin
                std::fill(dst, dst + inside.begin, T(0));
                std::copy(src, src + (inside.end - inside.begin), dst + inside.begin);
                std::fill(dst + inside.end, dst + OW, T(0));
            }
        }
    }
}

// The adjoint of im2col: d_inp[n, c, h, w] = Σ over (kh, kw) of the col
// entries that copied it. Each (n, c) plane is gathered by one thread in a
// fixed order, so no two threads add into the same value.
template <class T>
void col2im(T * d_inp, const T * d_col, const conv2d_dims & d) {
    const int64_t OH = d.out_height(), OW = d.out_width(), NP = d.N * OH * OW;
#pragma omp parallel for collapse(2) schedule(static) if (d.C * NP > parallel_threshold)
    for (int64_t n = 0; n < d.N; ++n) {
        for (int64_t c = 0; c < d.C; ++c) {
            T * plane = d_inp + (n * d.C + c) * d.H * d.W;
            std::fill(plane, plane + d.H * d.W, T(0));
            for (int64_t kh = 0; kh < d.KH; ++kh) {
                for (int64_t kw = 0; kw < d.KW; ++kw) {
                    const column_range inside = inside_columns(kw, d);
                    const T * src = d_col + ((c * d.KH + kh) * d.KW + kw) * NP + n * OH * OW;
                    for (int64_t oh = 0; oh < OH; ++oh) {
                        const int64_t h = oh + kh - d.P;
                        if (h < 0 || h >= d.H) continue;
                        T * dst =
                            plane + h * d.W + kw - d.P;  // dst[ow] ↔ d_inp[.., h, ow + kw − P]
                        for (int64_t ow = inside.begin; ow < inside.end; ++ow)
                            dst[ow] += src[oh * OW + ow];
                    }
                }
            }
        }
    }
}

}  // namespace

int64_t conv2d_workspace_size(const conv2d_dims & d) {
    return (d.C * d.KH * d.KW + d.OC) * d.N * d.out_height() * d.out_width();
}

template <class T>
void conv2d_forward(T * out, T * workspace, const T * inp, const T * weight, const T * bias,
                    const conv2d_dims & d) {
    if (d.N == 0) return;
    const int64_t OHW = d.out_height() * d.out_width(), NP = d.N * OHW;
    const int64_t K = d.C * d.KH * d.KW;
    T * col = workspace;       // [K, NP]
    T * out_t = col + K * NP;  // [OC, NP]
    im2col(col, inp, d);
    gemm(false, false, d.OC, NP, K, T(1), weight, K, col, NP, T(0), out_t, NP);
    // [OC, N, OH·OW] → [N, OC, OH·OW], adding the bias on the way.
#pragma omp parallel for collapse(2) schedule(static) if (d.OC * NP > parallel_threshold)
    for (int64_t n = 0; n < d.N; ++n)
        for (int64_t oc = 0; oc < d.OC; ++oc) {
            const T * src = out_t + oc * NP + n * OHW;
            T * dst = out + (n * d.OC + oc) * OHW;
            for (int64_t p = 0; p < OHW; ++p) dst[p] = src[p] + bias[oc];
        }
}

template <class T>
void conv2d_backward(T * d_inp, T * d_weight, T * d_bias, T * workspace, const T * d_out,
                     const T * inp, const T * weight, const conv2d_dims & d) {
    const int64_t OHW = d.out_height() * d.out_width(), NP = d.N * OHW;
    const int64_t K = d.C * d.KH * d.KW;
    T * col = workspace;         // [K, NP], later d_col
    T * d_out_t = col + K * NP;  // [OC, NP]
    if (d.N == 0) {              // an empty batch: zero gradients, and no GEMM with a zero stride
        for (int64_t i = 0; i < d.OC * K; ++i) d_weight[i] = T(0);
        for (int64_t oc = 0; oc < d.OC; ++oc) d_bias[oc] = T(0);
        return;
    }
    im2col(col, inp, d);
#pragma omp parallel for collapse(2) schedule(static) if (d.OC * NP > parallel_threshold)
    for (int64_t n = 0; n < d.N; ++n)
        for (int64_t oc = 0; oc < d.OC; ++oc) {
            const T * src = d_out + (n * d.OC + oc) * OHW;
            T * dst = d_out_t + oc * NP + n * OHW;
            for (int64_t p = 0; p < OHW; ++p) dst[p] = src[p];
        }
    // d_weight[OC, K] = d_out_t[OC, NP] · col[K, NP]ᵀ
    gemm(false, true, d.OC, K, NP, T(1), d_out_t, NP, col, NP, T(0), d_weight, K);
    // d_bias: each channel's row summed in order, one thread per channel.
#pragma omp parallel for schedule(static) if (d.OC * NP > parallel_threshold)
    for (int64_t oc = 0; oc < d.OC; ++oc) {
        T sum = 0;
        for (int64_t j = 0; j < NP; ++j) sum += d_out_t[oc * NP + j];
        d_bias[oc] = sum;
    }
    if (d_inp == nullptr) return;
    // d_col[K, NP] = weight[OC, K]ᵀ · d_out_t[OC, NP], over the im2col matrix.
    gemm(true, false, K, NP, d.OC, T(1), weight, K, d_out_t, NP, T(0), col, NP);
    col2im(d_inp, col, d);
}

template void conv2d_forward<float>(float *, float *, const float *, const float *, const float *,
                                    const conv2d_dims &);
template void conv2d_forward<double>(double *, double *, const double *, const double *,
                                     const double *, const conv2d_dims &);
template void conv2d_backward<float>(float *, float *, float *, float *, const float *,
                                     const float *, const float *, const conv2d_dims &);
template void conv2d_backward<double>(double *, double *, double *, double *, const double *,
                                      const double *, const double *, const conv2d_dims &);

}  // namespace distill::layers
