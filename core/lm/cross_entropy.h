// The causal LM loss: mean cross-entropy of the logits against target
// token ids over the positions that have a target (transformers'
// ForCausalLMLoss with ignore_index −100, the labels already shifted: the
// target of position t is token t + 1).
//
// Dimensions:  N  positions (B · T), V  vocabulary
#pragma once

#include <cstdint>

namespace distill::lm {

inline constexpr int32_t ignore_target = -100;

// Returns mean_n (logsumexp(logits[n]) − logits[n, targets[n]]) over the
// rows whose target is not ignore_target (0 when none is), in double.
// d_logits[N, V] (unless null) is overwritten with the loss's gradient,
// (softmax(logits[n]) − onehot(targets[n])) / count, zero on ignored rows;
// it may be logits itself (each row is read before it is written).
// Targets must be ignore_target or in [0, V) (refused naming the row
// otherwise); logits must be finite (a non-finite loss is returned as is).
template <class T>
double cross_entropy(T * d_logits, const T * logits, const int32_t * targets, int64_t N, int64_t V);

}  // namespace distill::lm
