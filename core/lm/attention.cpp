#include "lm/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "students/layers/thread_team.h"

namespace distill::lm {
namespace {

template <class T>
T dot(const T * a, const T * b, int64_t D) {
    T sum = 0;
    for (int64_t d = 0; d < D; ++d) sum += a[d] * b[d];
    return sum;
}

// Runs body(index, scratch) for index in [0, count) on the students'
// thread team (students/layers/thread_team.h: idle workers sleep rather
// than spin, which matters on a shared machine), each member taking a
// contiguous range of rows with its own scratch of `scratch_size` values.
// Rows are (b, head, t) with t fastest, so a range spans whole heads and
// the causal rows' growing cost evens out.
template <class T, class Body>
void for_rows(int64_t count, int64_t scratch_size, int64_t work_per_row, Body && body) {
    const bool parallel = count > 1 && count * work_per_row > 65536;
    const int team = parallel ? layers::thread_team::size() : 1;
    layers::thread_team::run(team, [&](int member, int size) {
        std::vector<T> scratch(static_cast<size_t>(scratch_size));
        const int64_t end = layers::thread_team::first_block(count, member + 1, size);
        for (int64_t index = layers::thread_team::first_block(count, member, size); index < end;
             ++index)
            body(index, scratch.data());
    });
}

}  // namespace

template <class T>
void attention_forward(T * out, T * lse, const T * q, const T * k, const T * v, int64_t B,
                       int64_t T_, int64_t H, int64_t KV, int64_t D) {
    const int64_t group = H / KV;
    const T scale = T(1) / std::sqrt(T(D));
    // One row per (b, h, t); scratch: the accumulator [D] and a tile of scores.
    for_rows<T>(B * H * T_, D + attention_key_tile, T_ * D, [=](int64_t row, T * scratch) {
        const int64_t t = row % T_, h = (row / T_) % H, b = row / (T_ * H), g = h / group;
        const T * qi = q + ((b * T_ + t) * H + h) * D;
        T * acc = scratch;
        T * score = scratch + D;
        std::fill(acc, acc + D, T(0));
        T running_max = -std::numeric_limits<T>::infinity(), running_sum = 0;
        for (int64_t j0 = 0; j0 <= t; j0 += attention_key_tile) {
            const int64_t j1 = std::min(t + 1, j0 + attention_key_tile);
            T tile_max = -std::numeric_limits<T>::infinity();
            for (int64_t j = j0; j < j1; ++j) {
                score[j - j0] = dot(qi, k + ((b * T_ + j) * KV + g) * D, D) * scale;
                tile_max = std::max(tile_max, score[j - j0]);
            }
            const T new_max = std::max(running_max, tile_max);
            const T correction = std::exp(running_max - new_max);  // 0 on the first tile
            running_sum *= correction;
            for (int64_t d = 0; d < D; ++d) acc[d] *= correction;
            for (int64_t j = j0; j < j1; ++j) {
                const T p = std::exp(score[j - j0] - new_max);
                running_sum += p;
                const T * vj = v + ((b * T_ + j) * KV + g) * D;
                for (int64_t d = 0; d < D; ++d) acc[d] += p * vj[d];
            }
            running_max = new_max;
        }
        T * o = out + ((b * T_ + t) * H + h) * D;
        const T inv = T(1) / running_sum;
        for (int64_t d = 0; d < D; ++d) o[d] = acc[d] * inv;
        lse[(b * H + h) * T_ + t] = running_max + std::log(running_sum);
    });
}

template <class T>
void attention_backward(T * d_q, T * d_k, T * d_v, T * row_dot, const T * d_out, const T * out,
                        const T * lse, const T * q, const T * k, const T * v, int64_t B,
                        int64_t T_, int64_t H, int64_t KV, int64_t D) {
    const int64_t group = H / KV;
    const T scale = T(1) / std::sqrt(T(D));
    // row_dot[b, h, t] = d_out · out: Σ_j P_j (dP_j) for the softmax's backward.
    for_rows<T>(B * H * T_, 0, D, [=](int64_t row, T *) {
        const int64_t t = row % T_, h = (row / T_) % H, b = row / (T_ * H);
        const int64_t at = ((b * T_ + t) * H + h) * D;
        row_dot[row] = dot(d_out + at, out + at, D);
    });
    // d_q by query rows: d_q_i = scale · Σ_{j ≤ i} P_ij (d_out_i · v_j − row_dot_i) k_j.
    for_rows<T>(B * H * T_, 0, T_ * D, [=](int64_t row, T *) {
        const int64_t t = row % T_, h = (row / T_) % H, b = row / (T_ * H), g = h / group;
        const int64_t at = ((b * T_ + t) * H + h) * D;
        const T * qi = q + at;
        const T * doi = d_out + at;
        const T row_lse = lse[row], delta = row_dot[row];
        T * dqi = d_q + at;
        std::fill(dqi, dqi + D, T(0));
        for (int64_t j = 0; j <= t; ++j) {
            const T * kj = k + ((b * T_ + j) * KV + g) * D;
            const T * vj = v + ((b * T_ + j) * KV + g) * D;
            const T p = std::exp(dot(qi, kj, D) * scale - row_lse);
            const T ds = p * (dot(doi, vj, D) - delta) * scale;
            for (int64_t d = 0; d < D; ++d) dqi[d] += ds * kj[d];
        }
    });
    // d_k and d_v by key rows (b, g, j): over the group's query heads and
    // the queries i ≥ j that see key j.
    for_rows<T>(B * KV * T_, 0, group * T_ * D, [=](int64_t row, T *) {
        const int64_t j = row % T_, g = (row / T_) % KV, b = row / (T_ * KV);
        const int64_t at = ((b * T_ + j) * KV + g) * D;
        const T * kj = k + at;
        const T * vj = v + at;
        T * dkj = d_k + at;
        T * dvj = d_v + at;
        std::fill(dkj, dkj + D, T(0));
        std::fill(dvj, dvj + D, T(0));
        for (int64_t h = g * group; h < (g + 1) * group; ++h)
            for (int64_t i = j; i < T_; ++i) {
                const int64_t qi_at = ((b * T_ + i) * H + h) * D;
                const T * qi = q + qi_at;
                const T * doi = d_out + qi_at;
                const int64_t stat = (b * H + h) * T_ + i;
                const T p = std::exp(dot(qi, kj, D) * scale - lse[stat]);
                const T ds = p * (dot(doi, vj, D) - row_dot[stat]) * scale;
                for (int64_t d = 0; d < D; ++d) {
                    dvj[d] += p * doi[d];
                    dkj[d] += ds * qi[d];
                }
            }
    });
}

template void attention_forward<float>(float *, float *, const float *, const float *,
                                       const float *, int64_t, int64_t, int64_t, int64_t, int64_t);
template void attention_forward<double>(double *, double *, const double *, const double *,
                                        const double *, int64_t, int64_t, int64_t, int64_t,
                                        int64_t);
template void attention_backward<float>(float *, float *, float *, float *, const float *,
                                        const float *, const float *, const float *, const float *,
                                        const float *, int64_t, int64_t, int64_t, int64_t, int64_t);
template void attention_backward<double>(double *, double *, double *, double *, const double *,
                                         const double *, const double *, const double *,
                                         const double *, const double *, int64_t, int64_t,
                                         int64_t, int64_t, int64_t);

}  // namespace distill::lm
