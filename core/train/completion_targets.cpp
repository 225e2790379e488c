#include "train/completion_targets.h"

#include <algorithm>
#include <optional>
#include <vector>
#include <limits>
#include <string>

#include "common/error.h"
#include "lm/cross_entropy.h"

namespace distill {

void place_completion_targets(const teacher_record & record, std::span<const int32_t> prompt,
                              topk_vocabulary_map & map, int64_t T, int64_t K, int32_t pad,
                              int64_t row, int32_t * tokens, int32_t * labels, int32_t * ids,
                              float * logprobs, const std::string & where) {
    if (record.failed())
        fail_invalid(where + ": a failed answer (" + record.error_message +
                     ") has no completion to distil from");
    if (prompt.empty())
        fail_invalid(where + ": expected a prompt of at least one token (the first completion "
                     "token is predicted from it), got none");
    if (T < 1 || K < 1)
        fail_invalid(where + ": expected T >= 1 and K >= 1, got T " + std::to_string(T) + ", K " +
                     std::to_string(K));
    const int64_t P = int64_t(prompt.size());
    const int64_t C = int64_t(record.positions.size());
    if (P + C - 1 > T)
        fail_invalid(where + ": the prompt's " + std::to_string(P) + " tokens and the " +
                     std::to_string(C) + " of the completion need " + std::to_string(P + C - 1) +
                     " positions, the batch has " + std::to_string(T) +
                     " (raise its length, or shorten the prompt)");
    // The completion's tokens are checked before anything is written.
    std::vector<int32_t> completion(static_cast<size_t>(C));
    for (int64_t i = 0; i < C; ++i) {
        const token_position & p = record.positions[size_t(i)];
        const std::string what = where + " position " + std::to_string(i) + " ('" + p.token + "')";
        const std::optional<int32_t> id = map.student_id(p.id, p.bytes, what);
        if (!id)
            fail_invalid(what + ": the completion's token is not a token of the student; " +
                         map.vocabularies() +
                         " tokenize differently, and token-level targets pair the teacher's "
                         "positions with the student's (train on the completion's text "
                         "instead: sequence-level distillation)");
        completion[size_t(i)] = *id;
    }
    int32_t * tok = tokens + row * T;
    int32_t * lab = labels + row * T;
    int32_t * row_ids = ids + row * T * K;
    float * row_logprobs = logprobs + row * T * K;
    std::fill(tok, tok + T, pad);
    std::fill(lab, lab + T, lm::ignore_target);
    std::fill(row_ids, row_ids + T * K, -1);
    std::fill(row_logprobs, row_logprobs + T * K, -std::numeric_limits<float>::infinity());
    std::copy(prompt.begin(), prompt.end(), tok);
    for (int64_t i = 0; i < C; ++i) {
        const int64_t t = P - 1 + i;  // the position that predicts completion token i
        if (i + 1 < C) tok[t + 1] = completion[size_t(i)];
        lab[t] = completion[size_t(i)];
        map.map(record.positions[size_t(i)].top, K, row_ids + t * K, row_logprobs + t * K,
                where + " position " + std::to_string(i));
    }
}

void place_text_completion(std::span<const int32_t> prompt, std::span<const int32_t> completion,
                           int64_t T, int64_t K, int32_t pad, int64_t row, int32_t * tokens,
                           int32_t * labels, int32_t * ids, float * logprobs,
                           const std::string & where) {
    if (prompt.empty() || completion.empty())
        fail_invalid(where + ": expected a prompt and a completion of at least one token each, "
                     "got " + std::to_string(prompt.size()) + " and " +
                     std::to_string(completion.size()));
    const int64_t P = int64_t(prompt.size()), C = int64_t(completion.size());
    if (P + C - 1 > T)
        fail_invalid(where + ": the prompt's " + std::to_string(P) + " tokens and the " +
                     std::to_string(C) + " of the completion need " + std::to_string(P + C - 1) +
                     " positions, the batch has " + std::to_string(T));
    int32_t * tok = tokens + row * T;
    int32_t * lab = labels + row * T;
    std::fill(tok, tok + T, pad);
    std::fill(lab, lab + T, lm::ignore_target);
    std::fill(ids + row * T * K, ids + (row + 1) * T * K, -1);
    std::fill(logprobs + row * T * K, logprobs + (row + 1) * T * K,
              -std::numeric_limits<float>::infinity());
    std::copy(prompt.begin(), prompt.end(), tok);
    for (int64_t i = 0; i < C; ++i) {
        if (i + 1 < C) tok[P + i] = completion[size_t(i)];
        lab[P - 1 + i] = completion[size_t(i)];
    }
}

}  // namespace distill
