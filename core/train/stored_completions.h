// A teacher's stored answers (store/store.h) as the rows of token-level
// distillation batches (train/completion_targets.h): what `distill train
// --teacher-store` trains a transformer student on when the teacher is a
// remote language model whose answers, with their top-k log-probabilities,
// were collected earlier (`distill query`).
//
// A row is the prompt as the student's tokens, then the teacher's
// completion, the teacher's top-k alternatives as the targets of the
// positions that predict it, prompt positions masked. An answer without
// log-probabilities (a server that gives none, or asked without
// top_logprobs) is a row of its text encoded by the student, every top-k
// slot empty: sequence-level distillation, learnt by the hard term alone
// (train/completion_targets.h, place_text_completion). The prompt text is
// the request's "prompt" (a completions request), or its chat "messages"
// rendered as one text,
//     "<role>: <content>\n" for each message, then "assistant: "
// (the same rendering a generation from the student must use). Rows are
// held in memory: rows · T · (2 · 4 + K · 8) bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "text/tokenizer.h"
#include "train/topk_vocabulary.h"

namespace distill {

class store;

// The prompt text of a request body as above; invalid_argument, naming
// `where`, for a request with neither a string "prompt" nor "messages" of
// objects with string "role" and "content".
std::string prompt_text(const nlohmann::json & request, const std::string & where);

struct completion_rows {
    int64_t rows = 0, T = 0, K = 0;
    std::vector<int32_t> tokens;    // [rows, T]
    std::vector<int32_t> labels;    // [rows, T], −100 where a position counts for nothing
    std::vector<int32_t> ids;       // [rows, T, K], −1 = an empty slot
    std::vector<float> logprobs;    // [rows, T, K]
    std::vector<uint8_t> has_targets;  // [rows]: 1 = top-k targets, 0 = text only
    std::string teacher_json;       // whose answers these are (provenance.teacher)
    int64_t text_only = 0;          // rows without top-k targets (sequence-level)
    // Answers left out, by reason: failed requests, empty completions,
    // prompt + completion longer than T.
    int64_t failed = 0, empty = 0, too_long = 0;
    topk_mapping_counts counts;     // of the alternatives mapped to the student's ids
};

struct completion_rows_settings {
    int64_t T = 0;                         // the student's context
    int32_t pad = 0;                       // the token after a row's end (masked)
    std::optional<std::string> teacher;    // canonical teacher identity JSON; unset = the only one
    std::string tokenizer_name;            // for messages (a file name)
};

// Reads every successful answer of one teacher in `s` (one scan, one read
// transaction) into rows. K is the largest number of alternatives an answer
// has. Throws invalid_argument, changing nothing, for: a store without an
// answer to train on (the counts of those left out named); several teachers
// and no choice (each listed with its answer count), or a choice that
// answered nothing; a request whose prompt cannot be read; a completion
// token the student lacks; vocabularies that differ
// (topk_vocabulary_map::check, both named) — all before any training.
completion_rows read_completion_rows(store & s, const tokenizer::bpe_tokenizer & student,
                                     const completion_rows_settings & settings);

}  // namespace distill
