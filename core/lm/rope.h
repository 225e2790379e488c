// Rotary position embeddings in transformers' convention (rotate_half): in
// each head of D values, value i of the first half pairs with value
// i + D/2 of the second, and the pair turns by the angle
// position · theta^(−2i/D):
//   out[i]       = x[i] · cos − x[i + D/2] · sin
//   out[i + D/2] = x[i + D/2] · cos + x[i] · sin        for i in [0, D/2)
// (llama.cpp turns interleaved pairs instead; see language-models.md.)
//
// Dimensions:  B  sequences, T positions each (position t of a sequence is t)
//              NH heads per position, D values per head (even)
#pragma once

#include <cstdint>

namespace distill::lm {

// cos[T, D/2] and sin[T, D/2] for positions 0 … T − 1. For fp32 the
// angle is rounded as transformers computes it (inv_freq = 1 / θ^(2i/D)
// and position · inv_freq in fp32); fp64 computes in fp64.
template <class T>
void rope_tables(T * cos, T * sin, int64_t positions, int64_t D, double theta);

// x[B, T, NH, D] turned in place by the tables (cos, sin as rope_tables
// of at least T positions).
template <class T>
void rope_forward(T * x, const T * cos, const T * sin, int64_t B, int64_t T_, int64_t NH,
                  int64_t D);

// The backward of rope_forward: d[B, T, NH, D] (the gradient of its
// output) turned back in place into the gradient of its input (the
// rotation's transpose: the angle negated).
template <class T>
void rope_backward(T * d, const T * cos, const T * sin, int64_t B, int64_t T_, int64_t NH,
                   int64_t D);

}  // namespace distill::lm
