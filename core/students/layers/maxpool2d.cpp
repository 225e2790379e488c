#include "students/layers/maxpool2d.h"

#include <cmath>

namespace distill::layers {

template <class T>
void maxpool2d_forward(T * out, int32_t * argmax, const T * inp, int64_t N, int64_t C, int64_t H,
                       int64_t W) {
    const int64_t OH = H / 2, OW = W / 2;
#pragma omp parallel for schedule(static) if (N * C * H * W > 65536)
    for (int64_t plane = 0; plane < N * C; ++plane) {
        const T * src = inp + plane * H * W;
        for (int64_t oh = 0; oh < OH; ++oh) {
            for (int64_t ow = 0; ow < OW; ++ow) {
                int64_t best = (2 * oh) * W + 2 * ow;
                for (int64_t i = 1; i < 4; ++i) {
                    const int64_t at = (2 * oh + i / 2) * W + 2 * ow + i % 2;
                    const bool wins = src[at] > src[best] || std::isnan(src[at]);
                    if (wins && !std::isnan(src[best])) best = at;
                }
                out[plane * OH * OW + oh * OW + ow] = src[best];
                argmax[plane * OH * OW + oh * OW + ow] = static_cast<int32_t>(best);
            }
        }
    }
}

template <class T>
void maxpool2d_backward(T * d_inp, const T * d_out, const int32_t * argmax, int64_t N, int64_t C,
                        int64_t H, int64_t W) {
    const int64_t OH = H / 2, OW = W / 2;
#pragma omp parallel for schedule(static) if (N * C * H * W > 65536)
    for (int64_t plane = 0; plane < N * C; ++plane) {
        T * dst = d_inp + plane * H * W;
        for (int64_t i = 0; i < H * W; ++i) dst[i] = T(0);
        for (int64_t j = 0; j < OH * OW; ++j)
            dst[argmax[plane * OH * OW + j]] = d_out[plane * OH * OW + j];
    }
}

template void maxpool2d_forward<float>(float *, int32_t *, const float *, int64_t, int64_t, int64_t,
                                       int64_t);
template void maxpool2d_forward<double>(double *, int32_t *, const double *, int64_t, int64_t,
                                        int64_t, int64_t);
template void maxpool2d_backward<float>(float *, const float *, const int32_t *, int64_t, int64_t,
                                        int64_t, int64_t);
template void maxpool2d_backward<double>(double *, const double *, const int32_t *, int64_t,
                                         int64_t, int64_t, int64_t);

}  // namespace distill::layers
