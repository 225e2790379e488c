// Token-level distillation of a transformer student (lm/transformer.h):
// the loss of one token batch against per-position teacher targets, and its
// gradient with respect to every student parameter.
//
// A batch is tokens[B, T] (prompt + completion) and labels[B, T], the
// next-token targets already shifted (labels[b, t] = tokens[b, t + 1]) or
// −100 (lm::ignore_target) where a position does not count: prompt
// positions and the last one. A masked position contributes to neither the
// soft nor the hard term, and gets a zero logits gradient.
//
// The teacher's targets for position t are its distribution over the next
// token given tokens 0 … t, in one of two forms:
//   dense   logits [B, T, V] (an in-process teacher: teacher_logits below)
//   top-k   ids [B, T, K] and log-probabilities [B, T, K] at temperature 1,
//           most likely first, as HTTP teachers return them. An id of −1 is
//           an empty slot: an alternative the student's vocabulary lacks
//           (train/topk_vocabulary.h), or a position with fewer than K; its
//           mass is part of the tail (BUCKET) or dropped (RENORMALIZE).
// or none: the loss is then the mean cross-entropy against labels, the
// plain next-token path (sequence-level distillation, whose labels are a
// teacher's completion tokens), whatever the weights.
//
// The loss is losses/kd_loss.h's family, reduced as BATCHMEAN over the
// positions that count (n = labels ≠ −100), in parts:
//   soft  = mean divergence(p_teacher, q_student) at the temperature
//   hard  = mean cross-entropy of the un-tempered logits with the labels
//   loss  = soft_weight · (T² if scale_by_t2) · soft + hard_weight · hard
#pragma once

#include <cstdint>
#include <vector>

#include "lm/transformer.h"
#include "losses/kd_loss.h"

namespace distill {

// Borrowed pointers; all null = no teacher.
struct token_teacher_targets {
    const float * logits = nullptr;         // [B, T, V], or null
    const int32_t * topk_ids = nullptr;     // [B, T, K], or null; −1 = an empty slot
    const float * topk_logprobs = nullptr;  // [B, T, K], or null
    int64_t topk = 0;                       // K (top-k form only)

    bool dense() const { return logits != nullptr; }
    bool sparse() const { return topk_ids != nullptr || topk_logprobs != nullptr; }
    bool any() const { return dense() || sparse(); }
};

struct token_loss_parts {
    double loss = 0.0;  // what the gradient is of
    double soft = 0.0;  // the mean divergence, unweighted (NaN without a teacher)
    double hard = 0.0;  // the mean cross-entropy, unweighted
    int64_t positions = 0;  // positions that count (labels ≠ −100)
};

// Refuses loss options the token path does not take (with the option, the
// expected and the given value): the kd_loss family's own checks, a
// reduction other than BATCHMEAN, an ignore_index other than −100, negative
// weights or both 0.
void check_token_loss_options(const kd_loss_options & options);

// The loss of the student's logits[N, V] (N = B · T) for labels[N] and the
// teacher's targets (their N rows), and d_logits[N, V] (overwritten) its
// gradient — which may be logits itself when there are no teacher targets. Throws distill::error naming the argument for targets of the
// wrong form (both forms, an incomplete top-k, K < 1), a label outside
// [0, V), or what kd_loss refuses (an id outside [0, V) or repeated in a
// row, log-probabilities above 0 or of mass > 1).
token_loss_parts token_distillation_loss(const float * logits, const int32_t * labels, int64_t N,
                                         int64_t V, const token_teacher_targets & teacher,
                                         const kd_loss_options & options, float * d_logits,
                                         int num_threads);

// forward, token_distillation_loss and backward: OVERWRITES the model's
// gradients() with the loss's gradient for every parameter. d_logits is
// scratch, resized to [B · T, V] for teacher targets; without them the
// gradient overwrites the student's logits (lm::transformer's
// writable_logits) and d_logits is left as it is.
token_loss_parts distillation_gradients(lm::transformer & student, const int32_t * tokens,
                                        const int32_t * labels, int64_t B, int64_t T,
                                        const token_teacher_targets & teacher,
                                        const kd_loss_options & options,
                                        std::vector<float> & d_logits, int num_threads);

// Refuses (invalid_argument, naming both sizes) a teacher whose vocabulary
// is not the student's: dense targets are per token id, so a different size
// (151936 against 152064, say) cannot be padded into meaning.
void require_same_vocabulary(const lm::transformer_config & teacher,
                             const lm::transformer_config & student);

// require_same_vocabulary, and refuses (invalid_argument, both numbers) a
// teacher whose context is shorter than the `positions` of each window it
// is to read.
void require_teacher_fits(const lm::transformer_config & teacher,
                          const lm::transformer_config & student, int64_t positions);

// The dense targets of an in-process teacher: its logits [B, T, V] for
// tokens[B, T], written to `out` (resized). Refuses a teacher of another
// vocabulary than `student` (require_same_vocabulary) before running it.
void teacher_logits(lm::transformer & teacher, const lm::transformer_config & student,
                    const int32_t * tokens, int64_t B, int64_t T, std::vector<float> & out);

}  // namespace distill
