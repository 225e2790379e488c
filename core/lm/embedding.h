// The token embedding (transformers' nn.Embedding model.embed_tokens).
//
// Dimensions:  N  tokens (B · T), V  vocabulary, C  values per token
#pragma once

#include <cstdint>

namespace distill::lm {

// out[N, C] = table[tokens[n], :]; tokens[N] must be in [0, V) (the model
// checks them before).
template <class T>
void embedding_forward(T * out, const int32_t * tokens, const T * table, int64_t N, int64_t C);

// d_table[V, C] += Σ_{n: tokens[n] = v} d_out[n, :] (ADDED, so a tied
// lm_head's gradient can be there first). Each thread owns a range of the
// C columns and walks the tokens in order: the same bits for any thread count.
template <class T>
void embedding_backward(T * d_table, const T * d_out, const int32_t * tokens, int64_t N,
                        int64_t C);

}  // namespace distill::lm
