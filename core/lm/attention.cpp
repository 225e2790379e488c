#include "lm/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "students/layers/blas.h"
#include "students/layers/thread_team.h"

namespace distill::lm {
namespace {

constexpr int64_t tile = attention_query_tile, block = attention_key_tile;

template <class T>
T dot(const T * a, const T * b, int64_t D) {
    T sum = 0;
    for (int64_t d = 0; d < D; ++d) sum += a[d] * b[d];
    return sum;
}

// Runs body(index, scratch) for index in [0, count) on the students'
// thread team (students/layers/thread_team.h: idle workers sleep rather
// than spin, which matters on a shared machine), each member taking a
// contiguous range of indices with its own scratch of `scratch_size`
// values. Indices are (b, head, tile) with the tile fastest, so a range
// spans whole heads and the causal tiles' growing cost evens out. Inside a
// member the GEMMs run on its thread alone (layers::gemm in a job).
template <class T, class Body>
void for_tiles(int64_t count, int64_t scratch_size, int64_t work_per_tile, Body && body) {
    const bool parallel = count > 1 && count * work_per_tile > 65536;
    const int team = parallel ? layers::thread_team::size() : 1;
    layers::thread_team::run(team, [&](int member, int size) {
        std::vector<T> scratch(static_cast<size_t>(scratch_size));
        const int64_t end = layers::thread_team::first_block(count, member + 1, size);
        for (int64_t index = layers::thread_team::first_block(count, member, size); index < end;
             ++index)
            body(index, scratch.data());
    });
}

// Row-major C[m, n] = alpha · A[m, k] · B[n, k]ᵀ + beta · C.
template <class T>
void gemm_nt(int64_t m, int64_t n, int64_t k, T alpha, const T * a, int64_t lda, const T * b,
             int64_t ldb, T beta, T * c, int64_t ldc) {
    layers::gemm(false, true, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

template <class T>
void attention_forward(T * out, T * lse, const T * q, const T * k, const T * v, int64_t B,
                       int64_t T_, int64_t H, int64_t KV, int64_t D) {
    const int64_t group = H / KV, tiles = (T_ + tile - 1) / tile;
    const int64_t qs = H * D, ks = KV * D;  // row strides of q / out and of k / v
    const T scale = T(1) / std::sqrt(T(D));
    // Scratch: a block of scores [tile, block], the running max and sum [tile].
    for_tiles<T>(B * H * tiles, tile * block + 2 * tile, tile * T_ * D,
                 [=](int64_t index, T * scratch) {
        const int64_t i0 = (index % tiles) * tile, h = (index / tiles) % H, b = index / (tiles * H);
        const int64_t rows = std::min(tile, T_ - i0), end = i0 + rows;
        const T * qi = q + ((b * T_ + i0) * H + h) * D;
        const T * kb = k + (b * T_ * KV + h / group) * D;
        const T * vb = v + (b * T_ * KV + h / group) * D;
        T * o = out + ((b * T_ + i0) * H + h) * D;
        T * score = scratch;
        T * running_max = scratch + tile * block;
        T * running_sum = running_max + tile;
        std::fill(running_max, running_max + rows, -std::numeric_limits<T>::infinity());
        std::fill(running_sum, running_sum + rows, T(0));
        // Keys [j0, j1): score = scale · q_tile · k_blockᵀ; probabilities
        // exp(score − max) in its place; o = o · correction + p · v_block.
        for (int64_t j0 = 0; j0 < end; j0 += block) {
            const int64_t j1 = std::min(end, j0 + block), cols = j1 - j0;
            gemm_nt(rows, cols, D, scale, qi, qs, kb + j0 * ks, ks, T(0), score, block);
            for (int64_t r = 0; r < rows; ++r) {
                T * s = score + r * block;
                const int64_t seen = std::min(cols, i0 + r - j0 + 1);  // keys j ≤ i: ≥ 1
                T new_max = running_max[r];
                for (int64_t j = 0; j < seen; ++j) new_max = std::max(new_max, s[j]);
                T sum = 0;
                for (int64_t j = 0; j < seen; ++j) {
                    s[j] = std::exp(s[j] - new_max);
                    sum += s[j];
                }
                std::fill(s + seen, s + cols, T(0));
                if (j0 > 0) {  // the first block overwrites o (beta = 0 below)
                    const T correction = std::exp(running_max[r] - new_max);
                    running_sum[r] *= correction;
                    T * orow = o + r * qs;
                    for (int64_t d = 0; d < D; ++d) orow[d] *= correction;
                }
                running_sum[r] += sum;
                running_max[r] = new_max;
            }
            layers::gemm(false, false, rows, D, cols, T(1), score, block, vb + j0 * ks, ks,
                         j0 > 0 ? T(1) : T(0), o, qs);
        }
        for (int64_t r = 0; r < rows; ++r) {
            const T inv = T(1) / running_sum[r];
            T * orow = o + r * qs;
            for (int64_t d = 0; d < D; ++d) orow[d] *= inv;
            lse[(b * H + h) * T_ + i0 + r] = running_max[r] + std::log(running_sum[r]);
        }
    });
}

template <class T>
void attention_backward(T * d_q, T * d_k, T * d_v, T * row_dot, const T * d_out, const T * out,
                        const T * lse, const T * q, const T * k, const T * v, int64_t B,
                        int64_t T_, int64_t H, int64_t KV, int64_t D) {
    const int64_t group = H / KV, tiles = (T_ + tile - 1) / tile;
    const int64_t qs = H * D, ks = KV * D;
    const T scale = T(1) / std::sqrt(T(D));
    // row_dot[b, h, t] = d_out · out: Σ_j P_j (dP_j) for the softmax's backward.
    for_tiles<T>(B * H * T_, 0, D, [=](int64_t row, T *) {
        const int64_t t = row % T_, h = (row / T_) % H, b = row / (T_ * H);
        const int64_t at = ((b * T_ + t) * H + h) * D;
        row_dot[row] = dot(d_out + at, out + at, D);
    });
    // d_q by tiles of query rows i, over blocks of keys j ≤ i:
    //   P = exp(scale · q kᵀ − lse), dP = d_out · vᵀ, dS = P ⊙ (dP − row_dot) · scale,
    //   d_q = Σ_blocks dS · k.
    // Scratch: P then dS [tile, block], and dP [tile, block].
    for_tiles<T>(B * H * tiles, 2 * tile * block, tile * T_ * D, [=](int64_t index, T * scratch) {
        const int64_t i0 = (index % tiles) * tile, h = (index / tiles) % H, b = index / (tiles * H);
        const int64_t rows = std::min(tile, T_ - i0), end = i0 + rows;
        const int64_t at = ((b * T_ + i0) * H + h) * D;
        const T * kb = k + (b * T_ * KV + h / group) * D;
        const T * vb = v + (b * T_ * KV + h / group) * D;
        const T * row_lse = lse + (b * H + h) * T_ + i0;
        const T * delta = row_dot + (b * H + h) * T_ + i0;
        T * ds = scratch;
        T * dp = scratch + tile * block;
        for (int64_t j0 = 0; j0 < end; j0 += block) {
            const int64_t j1 = std::min(end, j0 + block), cols = j1 - j0;
            gemm_nt(rows, cols, D, scale, q + at, qs, kb + j0 * ks, ks, T(0), ds, block);
            gemm_nt(rows, cols, D, T(1), d_out + at, qs, vb + j0 * ks, ks, T(0), dp, block);
            for (int64_t r = 0; r < rows; ++r) {
                T * s = ds + r * block;
                const T * g = dp + r * block;
                const int64_t seen = std::min(cols, i0 + r - j0 + 1);
                for (int64_t j = 0; j < seen; ++j)
                    s[j] = std::exp(s[j] - row_lse[r]) * (g[j] - delta[r]) * scale;
                std::fill(s + seen, s + cols, T(0));
            }
            layers::gemm(false, false, rows, D, cols, T(1), ds, block, kb + j0 * ks, ks,
                         j0 > 0 ? T(1) : T(0), d_q + at, qs);
        }
    });
    // d_k and d_v by tiles of key rows j of head g, over the group's query
    // heads and blocks of the queries i ≥ j that see them:
    //   d_v = Σ Pᵀ · d_out, d_k = Σ dSᵀ · q.
    // Scratch: P [block, tile] and dP then dS [block, tile].
    for_tiles<T>(B * KV * tiles, 2 * block * tile, group * tile * T_ * D,
                 [=](int64_t index, T * scratch) {
        const int64_t j0 = (index % tiles) * tile, g = (index / tiles) % KV,
                      b = index / (tiles * KV);
        const int64_t cols = std::min(tile, T_ - j0);
        const int64_t at = ((b * T_ + j0) * KV + g) * D;
        T * p = scratch;
        T * ds = scratch + block * tile;
        bool first = true;
        for (int64_t h = g * group; h < (g + 1) * group; ++h) {
            const T * row_lse = lse + (b * H + h) * T_;
            const T * delta = row_dot + (b * H + h) * T_;
            for (int64_t i0 = j0; i0 < T_; i0 += block) {
                const int64_t rows = std::min(block, T_ - i0);
                const int64_t qi_at = ((b * T_ + i0) * H + h) * D;
                gemm_nt(rows, cols, D, scale, q + qi_at, qs, k + at, ks, T(0), p, tile);
                gemm_nt(rows, cols, D, T(1), d_out + qi_at, qs, v + at, ks, T(0), ds, tile);
                for (int64_t r = 0; r < rows; ++r) {
                    T * pr = p + r * tile;
                    T * sr = ds + r * tile;
                    const int64_t i = i0 + r, seen = std::min(cols, i - j0 + 1);
                    for (int64_t j = 0; j < seen; ++j) {
                        pr[j] = std::exp(pr[j] - row_lse[i]);
                        sr[j] = pr[j] * (sr[j] - delta[i]) * scale;
                    }
                    std::fill(pr + seen, pr + cols, T(0));
                    std::fill(sr + seen, sr + cols, T(0));
                }
                const T beta = first ? T(0) : T(1);
                layers::gemm(true, false, cols, D, rows, T(1), p, tile, d_out + qi_at, qs, beta,
                             d_v + at, ks);
                layers::gemm(true, false, cols, D, rows, T(1), ds, tile, q + qi_at, qs, beta,
                             d_k + at, ks);
                first = false;
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
