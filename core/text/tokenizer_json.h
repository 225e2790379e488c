// Hugging Face tokenizer.json ↔ bpe_tokenizer, for the byte-level BPE
// family. What is read:
//   model        {"type": "BPE", vocab, merges ("a b" strings or ["a", "b"]
//                pairs), ignore_merges}; byte_fallback, dropout,
//                continuing_subword_prefix and end_of_word_suffix must be
//                off. Another model type (WordPiece, Unigram, WordLevel) is
//                refused by name.
//   normalizer   null (any other is refused by name: NFC, Lowercase, ...)
//   pre_tokenizer ByteLevel (use_regex: GPT-2's split regex built in), or a
//                Sequence of Split (Regex or String pattern, behavior
//                Isolated, invert false) ending in ByteLevel
//   decoder      ByteLevel
//   added_tokens {id, content, special, lstrip, rstrip, single_word false,
//                normalized}
//   post_processor kept as is, written back, not applied.
// Every refusal names the field and what was expected.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "text/tokenizer.h"

namespace distill::tokenizer {

std::unique_ptr<bpe_tokenizer> load_tokenizer_json(std::string_view text);
// Throws invalid_argument naming the path when it cannot be opened.
std::unique_ptr<bpe_tokenizer> load_tokenizer_file(const std::string & path);

// The tokenizer.json text (loads in tokenizers: Tokenizer.from_str).
std::string tokenizer_json(const bpe_tokenizer & tokenizer);
// Writes it atomically; throws io_error naming the path.
void save_tokenizer_file(const bpe_tokenizer & tokenizer, const std::string & path);

// A pre_tokenizer for `split`: "gpt2" (ByteLevel with its built-in regex),
// "llama3" (Split with Llama 3's regex, then ByteLevel), or any other
// string as a regex in the Llama 3 form.
pre_tokenizer make_pre_tokenizer(const std::string & split);

}  // namespace distill::tokenizer
