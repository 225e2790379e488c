#include "students/layers/linear.h"

#include "common/openmp.h"

#include "students/layers/blas.h"

namespace distill::layers {

template <class T>
void linear_forward(T * out, const T * inp, const T * weight, const T * bias, int64_t B, int64_t IN,
                    int64_t OUT) {
    if (B == 0) return;
        // Start from the bias so the GEMM adds onto it (beta = 1).
#pragma omp parallel for schedule(static) if (B * OUT > 65536)
    for (int64_t b = 0; b < B; ++b)
        for (int64_t o = 0; o < OUT; ++o) out[b * OUT + o] = bias[o];
    gemm(false, true, B, OUT, IN, T(1), inp, IN, weight, IN, T(1), out, OUT);
}

template <class T>
void linear_backward(T * d_inp, T * d_weight, T * d_bias, const T * d_out, const T * inp,
                     const T * weight, int64_t B, int64_t IN, int64_t OUT) {
    if (B == 0) {  // an empty batch: zero gradients, and no GEMM with K = 0
        for (int64_t i = 0; i < OUT * IN; ++i) d_weight[i] = T(0);
        for (int64_t o = 0; o < OUT; ++o) d_bias[o] = T(0);
        return;
    }
    // d_weight[OUT, IN] = d_out[B, OUT]ᵀ · inp[B, IN]
    gemm(true, false, OUT, IN, B, T(1), d_out, OUT, inp, IN, T(0), d_weight, IN);
    // d_bias: each output column summed over the batch in row order, so the
    // result does not depend on how the columns are split across threads;
    // each thread walks its columns row by row (contiguous reads).
#pragma omp parallel if (B * OUT > 65536)
    {
        const int64_t team = omp_get_num_threads(), member = omp_get_thread_num();
        const int64_t begin = OUT * member / team, end = OUT * (member + 1) / team;
        for (int64_t o = begin; o < end; ++o) d_bias[o] = 0;
        for (int64_t b = 0; b < B; ++b)
            for (int64_t o = begin; o < end; ++o) d_bias[o] += d_out[b * OUT + o];
    }
    // d_inp[B, IN] = d_out[B, OUT] · weight[OUT, IN]
    if (d_inp != nullptr)
        gemm(false, false, B, IN, OUT, T(1), d_out, OUT, weight, IN, T(0), d_inp, IN);
}

template void linear_forward<float>(float *, const float *, const float *, const float *, int64_t,
                                    int64_t, int64_t);
template void linear_forward<double>(double *, const double *, const double *, const double *,
                                     int64_t, int64_t, int64_t);
template void linear_backward<float>(float *, float *, float *, const float *, const float *,
                                     const float *, int64_t, int64_t, int64_t);
template void linear_backward<double>(double *, double *, double *, const double *, const double *,
                                      const double *, int64_t, int64_t, int64_t);

}  // namespace distill::layers
