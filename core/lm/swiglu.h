// The gate of Llama's MLP: h = silu(gate) · up, silu(x) = x · sigmoid(x)
// (down_proj(silu(gate_proj(x)) · up_proj(x)) in transformers' LlamaMLP).
//
// Dimensions:  N  values (rows × the MLP's inner width F)
#pragma once

#include <cstdint>

namespace distill::lm {

// out[N] = silu(gate[N]) · up[N].
template <class T>
void swiglu_forward(T * out, const T * gate, const T * up, int64_t N);

// Overwrites d_gate[N] and d_up[N] from d_out[N]:
//   d_up = d_out · silu(gate),  d_gate = d_out · up · σ(gate) (1 + gate (1 − σ(gate))).
template <class T>
void swiglu_backward(T * d_gate, T * d_up, const T * d_out, const T * gate, const T * up,
                     int64_t N);

}  // namespace distill::lm
