// Added tokens of a tokenizer.json (`added_tokens`): strings matched in the
// raw text before pre-tokenization, each becoming its own id. Matching is
// leftmost-longest, as tokenizers' Aho-Corasick matcher does: at the first
// position where any token starts, the longest one there wins. lstrip and
// rstrip take ASCII whitespace (tokenizers takes Unicode whitespace).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/bpe_model.h"

namespace distill::tokenizer {

struct added_token {
    int32_t id = 0;
    std::string content;
    bool special = false;
    bool lstrip = false;  // the match takes the whitespace before it
    bool rstrip = false;  // the match takes the whitespace after it
    bool normalized = false;
};

class added_vocabulary {
public:
    // Throws invalid_argument for an empty content or a repeated one.
    explicit added_vocabulary(std::vector<added_token> tokens);

    // A match: text[begin, end) (whitespace taken by lstrip/rstrip
    // included) is token `index`.
    struct match {
        size_t begin, end;
        size_t index;
    };
    // The matches in text, left to right, not overlapping: first those of
    // the tokens with normalized false, then in the gaps those with true.
    void find_all(std::string_view text, std::vector<match> & out) const;

    const std::vector<added_token> & tokens() const { return tokens_; }
    const added_token * by_id(int32_t id) const;
    const added_token * by_content(std::string_view content) const;
    bool empty() const { return tokens_.empty(); }

private:
    void find_in(std::string_view text, size_t begin, size_t end, bool normalized,
                 std::vector<match> & out) const;

    std::vector<added_token> tokens_;
    bool has_normalized_ = false;
    std::vector<std::vector<size_t>> by_first_byte_;  // 256 lists of token indices
    string_map<size_t> by_content_;
    std::unordered_map<int32_t, size_t> by_id_;
};

}  // namespace distill::tokenizer
