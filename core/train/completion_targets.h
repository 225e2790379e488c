// One row of a token-distillation batch (train/token_distillation.h) from
// a teacher's answer: the prompt's student tokens, then the completion the
// teacher generated, with the teacher's top-k alternatives as the targets
// of the positions that predict it.
//
// With the prompt p_0 … p_{P−1} and the completion c_0 … c_{C−1} (the
// record's positions), the row of length T is
//   tokens   p_0 … p_{P−1} c_0 … c_{C−2}, then pad
//   labels   −100 × (P − 1), c_0 … c_{C−1}, then −100   (labels[t] = tokens[t + 1])
//   top-k    position P − 1 + i holds position i's alternatives, mapped to
//            the student's ids (train/topk_vocabulary.h); every other
//            position is empty (−1)
// so prompt positions and padding count for no term. The completion's
// tokens must be tokens of the student (the server's id, else the token's
// bytes as one student token): token-level targets pair the teacher's
// position i with the student's, which needs the same tokenization.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "teachers/teacher_record.h"
#include "train/topk_vocabulary.h"

namespace distill {

// Writes row `row` of tokens[·, T], labels[·, T], ids[·, T, K] and
// logprobs[·, T, K] (caller-allocated, K = the map's K argument).
// pad: the token id after the sequence (masked). Throws invalid_argument,
// naming `where`, for an empty prompt, a failed record, a sequence longer
// than T (P + C − 1 > T, lengths named), a completion token the student
// lacks, and what topk_vocabulary_map::map refuses (the row is then
// unspecified; the rest untouched). Mapping counts go to
// `map` (call its check() once every row is placed, before training).
void place_completion_targets(const teacher_record & record, std::span<const int32_t> prompt,
                              topk_vocabulary_map & map, int64_t T, int64_t K, int32_t pad,
                              int64_t row, int32_t * tokens, int32_t * labels, int32_t * ids,
                              float * logprobs, const std::string & where);

// The same row from a completion known only as the student's tokens (an
// answer without log-probabilities, its text encoded by the student:
// sequence-level distillation): the labels as above, every top-k slot
// empty (−1, −inf), so only the hard term learns from it. Throws
// invalid_argument, naming `where`, for an empty prompt or completion and
// a sequence longer than T.
void place_text_completion(std::span<const int32_t> prompt, std::span<const int32_t> completion,
                           int64_t T, int64_t K, int32_t pad, int64_t row, int32_t * tokens,
                           int32_t * labels, int32_t * ids, float * logprobs,
                           const std::string & where);

}  // namespace distill
