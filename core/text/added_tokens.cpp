#include "text/added_tokens.h"

#include "common/error.h"

namespace distill::tokenizer {

namespace {
// The whitespace lstrip and rstrip take: ASCII whitespace (the tokens of
// byte-level models sit beside spaces and newlines).
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
}  // namespace

added_vocabulary::added_vocabulary(std::vector<added_token> tokens)
    : tokens_(std::move(tokens)), by_first_byte_(256) {
    for (size_t i = 0; i < tokens_.size(); ++i) {
        const added_token & t = tokens_[i];
        const std::string name = "added_tokens[" + std::to_string(i) + "]";
        if (t.content.empty()) fail_invalid(name + ".content: expected a non-empty string, got \"\"");
        if (!by_content_.emplace(t.content, i).second)
            fail_invalid(name + ".content: \"" + t.content + "\" is already an added token");
        by_id_.emplace(t.id, i);
        by_first_byte_[uint8_t(t.content[0])].push_back(i);
        has_normalized_ = has_normalized_ || t.normalized;
    }
}

const added_token * added_vocabulary::by_id(int32_t id) const {
    const auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

const added_token * added_vocabulary::by_content(std::string_view content) const {
    const auto it = by_content_.find(content);
    return it == by_content_.end() ? nullptr : &tokens_[it->second];
}

// One pass over text[begin, end) with the tokens whose `normalized` flag
// is `normalized`, leftmost-longest.
void added_vocabulary::find_in(std::string_view text, size_t begin, size_t end, bool normalized,
                               std::vector<match> & out) const {
    size_t position = begin;
    size_t taken = begin;  // lstrip may not reach back before the previous match
    while (position < end) {
        const std::vector<size_t> & candidates = by_first_byte_[uint8_t(text[position])];
        size_t best = SIZE_MAX, best_length = 0;
        for (size_t index : candidates) {
            const added_token & t = tokens_[index];
            if (t.normalized != normalized) continue;
            if (t.content.size() > best_length && t.content.size() <= end - position &&
                text.compare(position, t.content.size(), t.content) == 0) {
                best = index;
                best_length = t.content.size();
            }
        }
        if (best == SIZE_MAX) {
            ++position;
            continue;
        }
        size_t match_begin = position, match_end = position + best_length;
        if (tokens_[best].lstrip)
            while (match_begin > taken && is_space(text[match_begin - 1])) --match_begin;
        if (tokens_[best].rstrip)
            while (match_end < end && is_space(text[match_end])) ++match_end;
        out.push_back({match_begin, match_end, best});
        position = taken = match_end;
    }
}

// As tokenizers: first the tokens matched on the raw text (normalized
// false: special tokens by default), then, in the gaps between those, the
// tokens matched on the normalized text (no normalizer here: the same).
void added_vocabulary::find_all(std::string_view text, std::vector<match> & out) const {
    if (tokens_.empty()) return;
    const size_t first = out.size();
    find_in(text, 0, text.size(), false, out);
    if (!has_normalized_) return;
    std::vector<match> raw(out.begin() + std::ptrdiff_t(first), out.end());
    out.resize(first);
    size_t gap = 0;
    for (const match & m : raw) {
        find_in(text, gap, m.begin, true, out);
        out.push_back(m);
        gap = m.end;
    }
    find_in(text, gap, text.size(), true, out);
}

}  // namespace distill::tokenizer
