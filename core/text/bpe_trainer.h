// Training a byte-level BPE on a corpus: pre-tokenize every text as the
// tokenizer will (added tokens cut out first, then the split patterns),
// count the words, start from the 256 characters of the byte-level
// alphabet, and merge the most frequent adjacent pair until the vocabulary
// has `vocab_size` tokens (special tokens included) or no pair occurs
// `min_frequency` times. Ties go to the pair with the smaller (left id,
// right id), so a run is deterministic.
//
// Ids: the special tokens 0..S-1 in the order given, the alphabet S..S+255
// by code point, then one per merge in merge order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer.h"

namespace distill::tokenizer {

struct bpe_training_options {
    int32_t vocab_size = 0;        // ≥ 256 + special tokens
    int64_t min_frequency = 2;     // ≥ 1
    std::string split = "gpt2";    // make_pre_tokenizer's argument
    std::vector<std::string> special_tokens;
};

std::unique_ptr<bpe_tokenizer> train_bpe(const std::vector<std::string_view> & texts,
                                         const bpe_training_options & options);

}  // namespace distill::tokenizer
