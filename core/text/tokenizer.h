// A byte-level BPE tokenizer (GPT-2, Llama 3, Qwen 2 family): added tokens
// matched in the raw text, then the pre-tokenizer's split patterns, then
// BPE over the bytes of each piece. encode and decode are exact inverses on
// any bytes (invalid UTF-8 included): every byte has a character in the
// byte-level alphabet, and an added token decodes to its content.
//
// Loaded from and written to Hugging Face tokenizer.json (tokenizer_json.h);
// ids are those of tokenizers' encode(text, add_special_tokens=False): the
// post-processor (a BOS template, say) is kept in the file but not applied.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/added_tokens.h"
#include "text/bpe_model.h"
#include "text/split_pattern.h"

namespace distill::tokenizer {

// What splits text into pre-tokens: split patterns applied in order (each
// Isolated), then the byte-level mapping. `json` is the pre_tokenizer as
// tokenizer.json spells it, written back on save.
struct pre_tokenizer {
    std::vector<std::unique_ptr<split_pattern>> splits;
    bool add_prefix_space = false;  // a ' ' before each segment not starting with one
    std::string json;
};

class bpe_tokenizer {
public:
    // `post_processor_json`: kept for save ("null" for none).
    bpe_tokenizer(bpe_model model, added_vocabulary added, pre_tokenizer pre,
                  std::string post_processor_json = "null");

    // The ids of `text` (any bytes). Thread-safe (one call at a time runs;
    // the word cache is shared).
    std::vector<int32_t> encode(std::string_view text) const;
    void encode(std::string_view text, std::vector<int32_t> & out) const;

    // The bytes of `ids`. Throws invalid_argument naming the first id
    // outside the vocabulary.
    std::string decode(const int32_t * ids, size_t count) const;

    // One more than the largest id (model and added tokens).
    int32_t vocab_size() const { return vocab_size_; }
    // The token of `id`: an added token's content, else the model's
    // token in the byte-level alphabet; nullopt when no token has it.
    std::optional<std::string> id_to_token(int32_t id) const;
    std::optional<int32_t> token_to_id(std::string_view token) const;

    const bpe_model & model() const { return model_; }
    const added_vocabulary & added() const { return added_; }
    const pre_tokenizer & pre() const { return pre_; }
    const std::string & post_processor_json() const { return post_processor_json_; }

private:
    void encode_segment(std::string_view segment, std::vector<int32_t> & out) const;
    void encode_piece(std::string_view piece, std::vector<int32_t> & out) const;

    bpe_model model_;
    added_vocabulary added_;
    pre_tokenizer pre_;
    std::string post_processor_json_;
    int32_t vocab_size_ = 0;

    // Per-word cache: piece bytes → [offset, offset + count) of cache_ids_.
    // Bounded: past max_cached_words new words are merged, not kept.
    static constexpr size_t max_cached_words = size_t(1) << 20;
    mutable std::mutex mutex_;
    mutable string_map<std::pair<uint32_t, uint32_t>> cache_;
    mutable std::vector<int32_t> cache_ids_;
    mutable std::vector<span> pieces_, next_pieces_;
    mutable std::vector<added_vocabulary::match> matches_;
    mutable std::string prefixed_;
};

}  // namespace distill::tokenizer
