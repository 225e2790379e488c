// A pre-tokenizer split pattern: a Unicode regular expression compiled by
// PCRE2 (UTF and UCP on, so \p{L}, \p{N} and \s are Unicode classes; JIT
// compiled where the platform allows). Input need not be valid UTF-8:
// invalid sequences match nothing (PCRE2_MATCH_INVALID_UTF), so they end up
// in the gaps between matches, which the Isolated behaviour keeps as
// pieces of their own.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace distill::tokenizer {

// A piece of the text: [begin, end) byte offsets.
struct span {
    size_t begin;
    size_t end;
};

class split_pattern {
public:
    // `pattern` is a regex, or a literal string when `literal`. Throws
    // invalid_argument naming `what`, the pattern and PCRE2's message (with
    // the offset) when it does not compile.
    split_pattern(const std::string & pattern, bool literal, const std::string & what);
    ~split_pattern();
    split_pattern(const split_pattern &) = delete;
    split_pattern & operator=(const split_pattern &) = delete;

    // Appends to `out` the pieces of text[piece] in order: every match and
    // every non-empty gap between matches ("Isolated" in tokenizers).
    // Not thread-safe (one match block per pattern).
    void split_isolated(std::string_view text, span piece, std::vector<span> & out) const;

    const std::string & pattern() const { return pattern_; }
    bool literal() const { return literal_; }

private:
    std::string pattern_;
    bool literal_;
    struct compiled;
    std::unique_ptr<compiled> compiled_;
};

// The split regex that ByteLevel's use_regex = true builds in (GPT-2's).
extern const char * const gpt2_split_regex;
// Llama 3's split regex (a Split pre-tokenizer before ByteLevel).
extern const char * const llama3_split_regex;

}  // namespace distill::tokenizer
