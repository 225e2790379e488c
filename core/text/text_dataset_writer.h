// Builds a token dataset file (text/text_dataset_format.h) from documents:
// each document is encoded, its ids followed by the end-of-document id;
// when all are in, they are split into training and validation by document
// and written atomically (common/atomic_file.h).
//
// The split: of N documents, k = round(validation_fraction · N) go to
// validation (at least 1 when the fraction is above 0, at most N − 1), the
// k first of seeded_permutation(N, seed); a document is wholly in one split.
// Each split keeps its documents in the order they were added. The same
// documents, fraction and seed give the same file, byte for byte.
//
// Memory: the ids are held until write in the file's width (2 bytes a
// token up to 65,536 ids, else 4), with 8 bytes a document; the corpus text
// is not kept.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "text/text_dataset_format.h"
#include "text/tokenizer.h"

namespace distill::text {

struct text_dataset_options {
    int32_t context = 0;              // window length the file is packed for, ≥ 1
    double validation_fraction = 0;   // in [0, 1)
    uint64_t seed = 0;                // of the split
    std::string eos_token = "<|endoftext|>";  // an added token of the tokenizer
};

// What write() wrote.
struct text_dataset_summary {
    text_dataset_header header;
    uint64_t train_windows = 0;
    uint64_t validation_windows = 0;
    uint64_t file_bytes = 0;
};

// SHA-256 of the tokenizer.json the library writes for `tokenizer`.
std::array<uint8_t, 32> tokenizer_sha256(const tokenizer::bpe_tokenizer & tokenizer);

class text_dataset_writer {
public:
    // Throws invalid_argument for context < 1, a fraction outside [0, 1),
    // or an eos_token that is not one of the tokenizer's added tokens (the
    // message lists those it has). Keeps a reference to `tokenizer`.
    text_dataset_writer(const tokenizer::bpe_tokenizer & tokenizer, text_dataset_options options);

    // Encodes and appends one document (its ids, then eos_id).
    void add_document(std::string_view text);

    uint64_t documents() const { return document_ends_.size(); }
    uint64_t tokens() const { return document_ends_.empty() ? 0 : document_ends_.back(); }
    int32_t eos_id() const { return eos_id_; }

    // Splits and writes. Throws invalid_argument when a split would hold no
    // window of context + 1 tokens (naming the split, its tokens and the
    // context), or when a validation fraction above 0 meets fewer than 2
    // documents; file errors as write_file_atomically.
    text_dataset_summary write(const std::filesystem::path & path) const;

private:
    const tokenizer::bpe_tokenizer & tokenizer_;
    text_dataset_options options_;
    int32_t eos_id_ = 0;
    std::array<uint8_t, 32> tokenizer_sha256_{};
    uint32_t token_bytes_ = 0;
    std::vector<uint16_t> ids16_;  // [tokens] when token_bytes_ is 2
    std::vector<uint32_t> ids32_;  // [tokens] when token_bytes_ is 4
    std::vector<uint64_t> document_ends_;  // [documents]: one past each document's eos
    std::vector<int32_t> scratch_;
};

// Windows of a split of `tokens` tokens: window i is tokens
// [i·context, i·context + context + 1), inputs its first context, targets
// its last context. A tail too short for a whole window is not one.
inline uint64_t window_count(uint64_t tokens, uint64_t context) {
    return tokens > context ? (tokens - 1) / context : 0;
}

// Which of `documents` documents go to validation ([documents], true =
// validation), by the rule above. Throws invalid_argument as write() does.
std::vector<bool> validation_documents(uint64_t documents, double fraction, uint64_t seed);

}  // namespace distill::text
