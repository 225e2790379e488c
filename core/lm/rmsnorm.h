// RMSNorm as transformers' LlamaRMSNorm: y = x · rsqrt(mean(x²) + eps) · weight.
//
// Dimensions:  N  rows (positions of the batch, B · T)
//              C  values per row
#pragma once

#include <cstdint>

namespace distill::lm {

// out[N, C] = inp[N, C] · rstd[N] · weight[C]; rstd[N] = 1 / √(mean(inp²) + eps),
// kept for the backward. The sum of squares is taken in double.
template <class T>
void rmsnorm_forward(T * out, T * rstd, const T * inp, const T * weight, int64_t N, int64_t C,
                     double eps);

// With n = inp · rstd and g = d_out · weight:
//   d_inp[N, C] += rstd · (g − n · mean(g · n))    (ADDED: the residual stream's gradient)
//   d_weight[C]  = Σ_rows d_out · n                 (overwritten)
// d_out[N, C], inp[N, C], rstd[N], weight[C].
template <class T>
void rmsnorm_backward(T * d_inp, T * d_weight, const T * d_out, const T * inp, const T * rstd,
                      const T * weight, int64_t N, int64_t C);

}  // namespace distill::lm
