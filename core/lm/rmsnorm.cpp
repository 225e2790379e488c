#include "lm/rmsnorm.h"

#include <cmath>

#include "students/layers/elementwise.h"
#include "students/layers/thread_team.h"

namespace distill::lm {

template <class T>
void rmsnorm_forward(T * out, T * rstd, const T * inp, const T * weight, int64_t N, int64_t C,
                     double eps) {
    layers::team_elementwise(N, 65536 / C, [=](int64_t row) {
        const T * x = inp + row * C;
        double sum = 0;
        for (int64_t c = 0; c < C; ++c) sum += double(x[c]) * double(x[c]);
        const T r = T(1.0 / std::sqrt(sum / double(C) + eps));
        rstd[row] = r;
        T * y = out + row * C;
        // (x · r) · w in that order, as transformers rounds it in fp32.
        for (int64_t c = 0; c < C; ++c) y[c] = weight[c] * (x[c] * r);
    });
}

template <class T>
void rmsnorm_backward(T * d_inp, T * d_weight, const T * d_out, const T * inp, const T * rstd,
                      const T * weight, int64_t N, int64_t C) {
    layers::team_elementwise(N, 65536 / C, [=](int64_t row) {
        const T * x = inp + row * C;
        const T * dy = d_out + row * C;
        const T r = rstd[row];
        double dot = 0;  // Σ g · n
        for (int64_t c = 0; c < C; ++c) dot += double(dy[c] * weight[c]) * double(x[c] * r);
        const T mean = T(dot / double(C));
        T * dx = d_inp + row * C;
        for (int64_t c = 0; c < C; ++c) dx[c] += r * (dy[c] * weight[c] - x[c] * r * mean);
    });
    // d_weight: each column summed over the rows in row order (the same
    // bits for any thread count), a contiguous range of columns per thread.
    const int threads = N * C > 65536 ? layers::thread_team::size() : 1;
    layers::thread_team::run(threads, [=](int member, int team) {
        const int64_t begin = C * member / team, end = C * (member + 1) / team;
        for (int64_t c = begin; c < end; ++c) d_weight[c] = T(0);
        for (int64_t row = 0; row < N; ++row) {
            const T * x = inp + row * C;
            const T * dy = d_out + row * C;
            const T r = rstd[row];
            for (int64_t c = begin; c < end; ++c) d_weight[c] += dy[c] * (x[c] * r);
        }
    });
}

template void rmsnorm_forward<float>(float *, float *, const float *, const float *, int64_t,
                                     int64_t, double);
template void rmsnorm_forward<double>(double *, double *, const double *, const double *, int64_t,
                                      int64_t, double);
template void rmsnorm_backward<float>(float *, float *, const float *, const float *,
                                      const float *, const float *, int64_t, int64_t);
template void rmsnorm_backward<double>(double *, double *, const double *, const double *,
                                       const double *, const double *, int64_t, int64_t);

}  // namespace distill::lm
