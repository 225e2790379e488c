// A teacher's stored top-k alternatives (teachers/teacher_record.h) as
// token ids of the student's vocabulary (text/tokenizer.h), the sparse
// targets of token distillation (train/token_distillation.h).
//
// An alternative maps to the server's id where it gave one (llama.cpp's
// "id", vLLM's "token_id:N"), else to the student token whose bytes are the
// alternative's text: an added token of that content, else the BPE token
// spelling those bytes in the byte-level alphabet. One the student's
// vocabulary lacks becomes an empty slot (−1): its mass is part of the tail
// (tail BUCKET) and it is counted. Two alternatives of one position that
// map to the same student id are one target: their probabilities are added.
//
// Whether the vocabularies are the same is judged from the counts, before
// any training: an id outside the student's vocabulary fails at once; then
// most alternatives unmapped, or most server ids naming a student token
// whose text is not the alternative's, mean another vocabulary, and fail.
// Each message names both vocabularies.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "teachers/teacher_record.h"
#include "text/tokenizer.h"

namespace distill {

struct topk_mapping_counts {
    int64_t alternatives = 0;    // looked at (the first K of each position)
    int64_t by_id = 0;           // mapped by the server's id
    int64_t by_bytes = 0;        // mapped by the token's bytes
    int64_t unmapped = 0;        // not in the student's vocabulary: in the tail
    int64_t merged = 0;          // a student id already taken at the position: mass added
    int64_t ids_checked = 0;     // server ids whose text could be compared
    int64_t ids_disagreeing = 0; // … whose student token has other bytes
};

// The fraction of alternatives (or of checked ids) past which the
// vocabularies are taken to differ: "most of them".
inline constexpr double vocabulary_mismatch_fraction = 0.5;

class topk_vocabulary_map {
public:
    // The tokenizer is borrowed; the names only go into messages (a
    // tokenizer file, a model name).
    topk_vocabulary_map(const tokenizer::bpe_tokenizer & student, std::string student_name,
                        std::string teacher_name);

    // One position's alternatives (most likely first) → ids[K] (−1 = empty
    // slot) and logprobs[K] (−inf at empty slots). Only the first K
    // alternatives are read: the rest's mass stays in the tail. Returns the
    // number of slots filled. Throws invalid_argument, naming `where` and
    // both vocabularies, for a server id outside the student's vocabulary,
    // and for a log-probability that is NaN or above 0.
    int64_t map(const std::vector<top_logprob> & top, int64_t K, int32_t * ids, float * logprobs,
                const std::string & where);

    const topk_mapping_counts & counts() const { return counts_; }

    // The student's id of a token: `server_id` when it is one (>= 0; one
    // outside the student's vocabulary is refused as in map), else the
    // token whose bytes are `bytes`; nullopt when the student has none.
    std::optional<int32_t> student_id(int32_t server_id, const std::string & bytes,
                                      const std::string & where) const;

    // "the teacher's vocabulary ('…') and the student's ('…', V ids)", for
    // messages.
    std::string vocabularies() const;

    // Throws invalid_argument, naming both vocabularies and the counts, when
    // they say the vocabularies differ (see above).
    void check() const;

private:
    const tokenizer::bpe_tokenizer & student_;
    std::string student_name_, teacher_name_;
    topk_mapping_counts counts_;
};

// Sparse targets [P, K] of records' positions, one after another.
struct mapped_topk_targets {
    int64_t k = 0;
    int64_t positions = 0;
    std::vector<int32_t> ids;     // [P, K], −1 = empty slot
    std::vector<float> logprobs;  // [P, K]
    topk_mapping_counts counts;
};

// Every position of every record mapped (failed records refused, naming
// their index), then checked (topk_vocabulary_map::check) before returning.
// teacher_name: for messages; "" = the first record's model.
mapped_topk_targets map_record_alternatives(std::span<const teacher_record> records,
                                            const tokenizer::bpe_tokenizer & student,
                                            const std::string & student_name, int64_t K,
                                            std::string teacher_name = "");

}  // namespace distill
