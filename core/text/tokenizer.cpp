#include "text/tokenizer.h"

#include <algorithm>

#include "common/error.h"

namespace distill::tokenizer {

bpe_tokenizer::bpe_tokenizer(bpe_model model, added_vocabulary added, pre_tokenizer pre,
                             std::string post_processor_json)
    : model_(std::move(model)),
      added_(std::move(added)),
      pre_(std::move(pre)),
      post_processor_json_(std::move(post_processor_json)) {
    vocab_size_ = model_.size();
    for (const added_token & t : added_.tokens()) vocab_size_ = std::max(vocab_size_, t.id + 1);
}

std::vector<int32_t> bpe_tokenizer::encode(std::string_view text) const {
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 8);
    encode(text, out);
    return out;
}

void bpe_tokenizer::encode(std::string_view text, std::vector<int32_t> & out) const {
    std::lock_guard lock(mutex_);
    matches_.clear();
    added_.find_all(text, matches_);
    size_t position = 0;
    // matches_ is reused by nothing below (encode_segment does not match).
    for (const added_vocabulary::match & m : matches_) {
        encode_segment(text.substr(position, m.begin - position), out);
        out.push_back(added_.tokens()[m.index].id);
        position = m.end;
    }
    encode_segment(text.substr(position), out);
}

void bpe_tokenizer::encode_segment(std::string_view segment, std::vector<int32_t> & out) const {
    if (segment.empty()) return;
    if (pre_.add_prefix_space && segment[0] != ' ') {
        prefixed_.assign(1, ' ');
        prefixed_.append(segment);
        segment = prefixed_;
    }
    if (pre_.splits.empty()) {
        encode_piece(segment, out);
        return;
    }
    pieces_.assign(1, span{0, segment.size()});
    for (const auto & pattern : pre_.splits) {
        next_pieces_.clear();
        for (const span & piece : pieces_) pattern->split_isolated(segment, piece, next_pieces_);
        pieces_.swap(next_pieces_);
    }
    for (const span & piece : pieces_)
        encode_piece(segment.substr(piece.begin, piece.end - piece.begin), out);
}

void bpe_tokenizer::encode_piece(std::string_view piece, std::vector<int32_t> & out) const {
    const auto it = cache_.find(piece);
    if (it != cache_.end()) {
        const auto [offset, count] = it->second;
        out.insert(out.end(), cache_ids_.begin() + offset, cache_ids_.begin() + offset + count);
        return;
    }
    const size_t before = out.size();
    model_.merge_word(piece, out);
    if (cache_.size() < max_cached_words) {
        const uint32_t offset = uint32_t(cache_ids_.size());
        cache_ids_.insert(cache_ids_.end(), out.begin() + std::ptrdiff_t(before), out.end());
        cache_.emplace(std::string(piece), std::pair{offset, uint32_t(out.size() - before)});
    }
}

std::string bpe_tokenizer::decode(const int32_t * ids, size_t count) const {
    std::string out;
    out.reserve(count * 4);
    for (size_t i = 0; i < count; ++i) {
        const int32_t id = ids[i];
        if (const added_token * t = added_.by_id(id)) {
            out += t->content;
            continue;
        }
        if (id < 0 || id >= model_.size() || model_.token(id).empty())
            fail_invalid("ids[" + std::to_string(i) + "]: expected a token id in [0, " +
                         std::to_string(vocab_size_) + "), got " + std::to_string(id) +
                         (id >= 0 && id < vocab_size_ ? " (no token has it)" : ""));
        const std::optional<std::string> & bytes = model_.token_bytes(id);
        // A token outside the alphabet decodes to its own UTF-8.
        out += bytes ? *bytes : model_.token(id);
    }
    return out;
}

std::optional<std::string> bpe_tokenizer::id_to_token(int32_t id) const {
    if (const added_token * t = added_.by_id(id)) return t->content;
    if (id < 0 || id >= model_.size() || model_.token(id).empty()) return std::nullopt;
    return model_.token(id);
}

std::optional<int32_t> bpe_tokenizer::token_to_id(std::string_view token) const {
    if (const added_token * t = added_.by_content(token)) return t->id;
    return model_.id(token);
}

}  // namespace distill::tokenizer
