#include "lm/embedding.h"

#include <algorithm>

#include "students/layers/elementwise.h"
#include "students/layers/thread_team.h"

namespace distill::lm {

template <class T>
void embedding_forward(T * out, const int32_t * tokens, const T * table, int64_t N, int64_t C) {
    layers::team_elementwise(N, 65536 / C, [=](int64_t n) {
        const T * row = table + int64_t(tokens[n]) * C;
        std::copy(row, row + C, out + n * C);
    });
}

template <class T>
void embedding_backward(T * d_table, const T * d_out, const int32_t * tokens, int64_t N,
                        int64_t C) {
    const int threads = N * C > 65536 ? layers::thread_team::size() : 1;
    layers::thread_team::run(threads, [=](int member, int team) {
        const int64_t begin = C * member / team, end = C * (member + 1) / team;
        for (int64_t n = 0; n < N; ++n) {
            T * row = d_table + int64_t(tokens[n]) * C;
            const T * d = d_out + n * C;
            for (int64_t c = begin; c < end; ++c) row[c] += d[c];
        }
    });
}

template void embedding_forward<float>(float *, const int32_t *, const float *, int64_t, int64_t);
template void embedding_forward<double>(double *, const int32_t *, const double *, int64_t,
                                        int64_t);
template void embedding_backward<float>(float *, const float *, const int32_t *, int64_t, int64_t);
template void embedding_backward<double>(double *, const double *, const int32_t *, int64_t,
                                         int64_t);

}  // namespace distill::lm
