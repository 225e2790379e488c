// Causal grouped-query attention with an online softmax (FlashAttention's
// scheme on the CPU): the scores of a tile of query rows are formed one
// block of keys at a time, so no T × T score matrix exists, and the
// backward recomputes them from the per-row logsumexp the forward keeps.
// The products of a tile with a block (scores, probabilities · values and
// their gradients) are GEMMs on the students' layers::gemm (OpenBLAS), the
// softmax in between a pass over the block's rows.
//
// Dimensions:  B   sequences, T positions each
//              H   query heads, KV key/value heads (H % KV == 0); query head h
//                  reads key/value head h / (H / KV), as transformers'
//                  repeat_kv (each key/value head serves H / KV consecutive
//                  query heads)
//              D   values per head; scores are q · k / √D
// Layouts are what the projections write, heads inside positions:
//   q, out, d_q, d_out  [B, T, H, D]
//   k, v, d_k, d_v      [B, T, KV, D]
//   lse                 [B, H, T]
#pragma once

#include <cstdint>

namespace distill::lm {

// The unit of work: query rows per tile of the forward and of d_q's pass,
// key rows per tile of d_k's and d_v's; one tile is one thread's, whole.
inline constexpr int64_t attention_query_tile = 64;
// Keys per block of the online softmax (forward, d_q), queries per block
// of d_k's and d_v's pass. A multiple of the tile, so that every row of a
// query tile sees at least one key of each block it is given.
inline constexpr int64_t attention_key_tile = 128;
static_assert(attention_key_tile % attention_query_tile == 0);

// out[b, t, h] = Σ_{j ≤ t} softmax_j(q[b, t, h] · k[b, j, g] / √D) · v[b, j, g]
// with g = h / (H / KV); lse[b, h, t] = log Σ_{j ≤ t} exp(score_j), kept for
// the backward. Work: tiles of (b, h, query rows), each on one thread.
template <class T>
void attention_forward(T * out, T * lse, const T * q, const T * k, const T * v, int64_t B,
                       int64_t T_, int64_t H, int64_t KV, int64_t D);

// Overwrites d_q, d_k and d_v with the gradients for d_out, recomputing
// the probabilities from q, k and lse: first d_q by tiles of query rows,
// then d_k and d_v by tiles of key rows (each tile is written by one
// thread, its blocks in a fixed order: the same bits for any thread
// count). `row_dot` [B, H, T] is scratch for Σ_d d_out · out per row.
template <class T>
void attention_backward(T * d_q, T * d_k, T * d_v, T * row_dot, const T * d_out, const T * out,
                        const T * lse, const T * q, const T * k, const T * v, int64_t B,
                        int64_t T_, int64_t H, int64_t KV, int64_t D);

}  // namespace distill::lm
