#include "lm/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/cpu_math.h"
#include "lm/vector_clones.h"
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
// than spin, which matters on a shared machine), each member with its own
// scratch of `scratch_size` values taking the next index not yet taken
// (the causal tiles' costs differ, and a member may lose its core for a
// while; each tile is computed whole by one member, so which one never
// changes a result). Inside a member the GEMMs run on its thread alone
// (layers::gemm in a job).
template <class T, class Body>
void for_tiles(int64_t count, int64_t scratch_size, int64_t work_per_tile, Body && body) {
    const bool parallel = count > 1 && count * work_per_tile > 65536;
    const int team = parallel ? layers::thread_team::size() : 1;
    std::atomic<int64_t> next{0};
    layers::thread_team::run(team, [&](int, int) {
        std::vector<T> scratch(static_cast<size_t>(scratch_size));
        for (int64_t index = next.fetch_add(1, std::memory_order_relaxed); index < count;
             index = next.fetch_add(1, std::memory_order_relaxed))
            body(index, scratch.data());
    });
}

// Row-major C[m, n] = alpha · A[m, k] · B[n, k]ᵀ + beta · C.
template <class T>
void gemm_nt(int64_t m, int64_t n, int64_t k, T alpha, const T * a, int64_t lda, const T * b,
             int64_t ldb, T beta, T * c, int64_t ldc) {
    layers::gemm(false, true, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// exp in the passes over a block: cpu_math's vectorisable fast_exp (~2 ulp)
// for fp32, libm's for fp64 (the finite-difference tests).
[[gnu::always_inline]] inline float exp_of(float x) {
    return kernels::cpu::DISTILL_CPU_ISA::fast_exp(x);
}
[[gnu::always_inline]] inline double exp_of(double x) { return std::exp(x); }

// The passes over one block of rows × cols scores, row r (query i) seeing
// its first `seen(r)` = min(cols, first_seen + r) keys, the rest zeroed.
// Each is written once as an inline body and instantiated below as plain
// functions, the fp32 ones in baseline and AVX2 clones (lm/vector_clones.h).

// The forward's online softmax: s ← exp(s − new max) in place; the running
// max and sum move on; correction[r] = exp(old max − new max) (0 on the
// first block, whose running max is −∞), by which the caller scales its
// accumulated output row.
template <class T>
[[gnu::always_inline]] inline void softmax_block_body(T * s, int64_t ld, int64_t rows, int64_t cols,
                                                      int64_t first_seen, T * running_max,
                                                      T * running_sum, T * correction) {
    for (int64_t r = 0; r < rows; ++r, s += ld) {
        const int64_t seen = std::min(cols, first_seen + r);
        T new_max = running_max[r];
#pragma omp simd reduction(max : new_max)
        for (int64_t j = 0; j < seen; ++j) new_max = s[j] > new_max ? s[j] : new_max;
        T sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < seen; ++j) {
            s[j] = exp_of(s[j] - new_max);
            sum += s[j];
        }
        std::fill(s + seen, s + cols, T(0));
        correction[r] = exp_of(running_max[r] - new_max);
        running_sum[r] = running_sum[r] * correction[r] + sum;
        running_max[r] = new_max;
    }
}

// The backward's dS from the scores and dP = d_out · vᵀ: with
// P = exp(s − lse[r]), p ← P (unless null) and g ← P ⊙ (g − delta[r]) · scale.
template <class T>
[[gnu::always_inline]] inline void gradient_block_body(T * s, T * p, T * g, int64_t ld,
                                                       int64_t rows, int64_t cols,
                                                       int64_t first_seen, const T * lse,
                                                       const T * delta, T scale) {
    for (int64_t r = 0; r < rows; ++r) {
        T * sr = s + r * ld;
        T * gr = g + r * ld;
        const int64_t seen = std::min(cols, first_seen + r);
        const T row_lse = lse[r], row_delta = delta[r];
        if (p) {
            T * pr = p + r * ld;
#pragma omp simd
            for (int64_t j = 0; j < seen; ++j) {
                pr[j] = exp_of(sr[j] - row_lse);
                gr[j] = pr[j] * (gr[j] - row_delta) * scale;
            }
            std::fill(pr + seen, pr + cols, T(0));
        } else {
#pragma omp simd
            for (int64_t j = 0; j < seen; ++j)
                gr[j] = exp_of(sr[j] - row_lse) * (gr[j] - row_delta) * scale;
        }
        std::fill(gr + seen, gr + cols, T(0));
    }
}

DISTILL_LM_VECTOR_CLONES void softmax_block(float * s, int64_t ld, int64_t rows, int64_t cols,
                                            int64_t first_seen, float * running_max,
                                            float * running_sum, float * correction) {
    softmax_block_body(s, ld, rows, cols, first_seen, running_max, running_sum, correction);
}
void softmax_block(double * s, int64_t ld, int64_t rows, int64_t cols, int64_t first_seen,
                   double * running_max, double * running_sum, double * correction) {
    softmax_block_body(s, ld, rows, cols, first_seen, running_max, running_sum, correction);
}
DISTILL_LM_VECTOR_CLONES void gradient_block(float * s, float * p, float * g, int64_t ld,
                                             int64_t rows, int64_t cols, int64_t first_seen,
                                             const float * lse, const float * delta, float scale) {
    gradient_block_body(s, p, g, ld, rows, cols, first_seen, lse, delta, scale);
}
void gradient_block(double * s, double * p, double * g, int64_t ld, int64_t rows, int64_t cols,
                    int64_t first_seen, const double * lse, const double * delta, double scale) {
    gradient_block_body(s, p, g, ld, rows, cols, first_seen, lse, delta, scale);
}

}  // namespace

template <class T>
void attention_forward(T * out, T * lse, const T * q, const T * k, const T * v, int64_t B,
                       int64_t T_, int64_t H, int64_t KV, int64_t D) {
    const int64_t group = H / KV, tiles = (T_ + tile - 1) / tile;
    const int64_t qs = H * D, ks = KV * D;  // row strides of q / out and of k / v
    const T scale = T(1) / std::sqrt(T(D));
    // Scratch: a block of scores [tile, block], the running max, sum and
    // correction [tile].
    for_tiles<T>(
        B * H * tiles, tile * block + 3 * tile, tile * T_ * D, [=](int64_t index, T * scratch) {
            const int64_t i0 = (index % tiles) * tile, h = (index / tiles) % H,
                          b = index / (tiles * H);
            const int64_t rows = std::min(tile, T_ - i0), end = i0 + rows;
            const T * qi = q + ((b * T_ + i0) * H + h) * D;
            const T * kb = k + (b * T_ * KV + h / group) * D;
            const T * vb = v + (b * T_ * KV + h / group) * D;
            T * o = out + ((b * T_ + i0) * H + h) * D;
            T * score = scratch;
            T * running_max = scratch + tile * block;
            T * running_sum = running_max + tile;
            T * correction = running_sum + tile;
            std::fill(running_max, running_max + rows, -std::numeric_limits<T>::infinity());
            std::fill(running_sum, running_sum + rows, T(0));
            // Keys [j0, j1): score = scale · q_tile · k_blockᵀ; probabilities
            // exp(score − max) in its place; o = o · correction + p · v_block.
            for (int64_t j0 = 0; j0 < end; j0 += block) {
                const int64_t cols = std::min(end, j0 + block) - j0;
                gemm_nt(rows, cols, D, scale, qi, qs, kb + j0 * ks, ks, T(0), score, block);
                softmax_block(score, block, rows, cols, i0 - j0 + 1, running_max, running_sum,
                              correction);
                if (j0 > 0)  // the first block overwrites o (beta = 0 below)
                    for (int64_t r = 0; r < rows; ++r)
                        for (int64_t d = 0; d < D; ++d) o[r * qs + d] *= correction[r];
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
                        const T * lse, const T * q, const T * k, const T * v, int64_t B, int64_t T_,
                        int64_t H, int64_t KV, int64_t D) {
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
    // Scratch: the scores [tile, block], and dP then dS [tile, block].
    for_tiles<T>(B * H * tiles, 2 * tile * block, tile * T_ * D, [=](int64_t index, T * scratch) {
        const int64_t i0 = (index % tiles) * tile, h = (index / tiles) % H, b = index / (tiles * H);
        const int64_t rows = std::min(tile, T_ - i0), end = i0 + rows;
        const int64_t at = ((b * T_ + i0) * H + h) * D;
        const T * kb = k + (b * T_ * KV + h / group) * D;
        const T * vb = v + (b * T_ * KV + h / group) * D;
        const T * row_lse = lse + (b * H + h) * T_ + i0;
        const T * delta = row_dot + (b * H + h) * T_ + i0;
        T * score = scratch;
        T * ds = scratch + tile * block;
        for (int64_t j0 = 0; j0 < end; j0 += block) {
            const int64_t cols = std::min(end, j0 + block) - j0;
            gemm_nt(rows, cols, D, scale, q + at, qs, kb + j0 * ks, ks, T(0), score, block);
            gemm_nt(rows, cols, D, T(1), d_out + at, qs, vb + j0 * ks, ks, T(0), ds, block);
            gradient_block(score, static_cast<T *>(nullptr), ds, block, rows, cols, i0 - j0 + 1,
                           row_lse, delta, scale);
            layers::gemm(false, false, rows, D, cols, T(1), ds, block, kb + j0 * ks, ks,
                         j0 > 0 ? T(1) : T(0), d_q + at, qs);
        }
    });
    // d_k and d_v by tiles of key rows j of head g, over the group's query
    // heads and blocks of the queries i ≥ j that see them:
    //   d_v = Σ Pᵀ · d_out, d_k = Σ dSᵀ · q.
    // Scratch: P [block, tile] and dP then dS [block, tile].
    for_tiles<T>(
        B * KV * tiles, 2 * block * tile, group * tile * T_ * D, [=](int64_t index, T * scratch) {
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
                    // p: the scores, then P in their place; ds: dP, then dS.
                    gradient_block(p, p, ds, tile, rows, cols, i0 - j0 + 1, row_lse + i0,
                                   delta + i0, scale);
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
                                         const double *, const double *, int64_t, int64_t, int64_t,
                                         int64_t, int64_t);

}  // namespace distill::lm
