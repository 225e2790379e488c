#include "text/bpe_model.h"

#include <queue>

#include "common/error.h"
#include "text/byte_level.h"

namespace distill::tokenizer {

void merge_table::reserve(size_t count) {
    size_t capacity = 16;
    while (capacity < count * 2) capacity *= 2;
    if (capacity <= slots_.size()) return;
    std::vector<entry> old = std::move(slots_);
    slots_.assign(capacity, entry{empty_key, 0, 0});
    mask_ = capacity - 1;
    size_ = 0;
    for (const entry & e : old)
        if (e.key != empty_key)
            insert(int32_t(e.key >> 32), int32_t(uint32_t(e.key)), e.rank, e.merged);
}

void merge_table::grow() { reserve(slots_.empty() ? 8 : slots_.size()); }

bool merge_table::insert(int32_t left, int32_t right, int32_t rank, int32_t merged) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const uint64_t key = pack(left, right);
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
        entry & e = slots_[i];
        if (e.key == key) return false;
        if (e.key == empty_key) {
            e = entry{key, rank, merged};
            ++size_;
            return true;
        }
    }
}

bpe_model::bpe_model(std::vector<std::string> vocab,
                     const std::vector<std::pair<std::string, std::string>> & merges,
                     bool ignore_merges)
    : vocab_(std::move(vocab)), ignore_merges_(ignore_merges) {
    ids_.reserve(vocab_.size());
    bytes_.resize(vocab_.size());
    for (size_t i = 0; i < vocab_.size(); ++i) {
        if (vocab_[i].empty()) continue;
        ids_.emplace(vocab_[i], int32_t(i));
        bytes_[i] = alphabet_to_bytes(vocab_[i]);
        if (ignore_merges_ && bytes_[i]) ids_by_bytes_.emplace(*bytes_[i], int32_t(i));
    }
    for (int b = 0; b < 256; ++b) {
        std::string ch;
        append_utf8(ch, byte_to_code_point(uint8_t(b)));
        const auto it = ids_.find(ch);
        byte_ids_[b] = it == ids_.end() ? -1 : it->second;
    }
    merges_.reserve(merges.size());
    merge_pairs_.reserve(merges.size());
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const auto & [left, right] = merges[rank];
        const auto name = [&] {
            return "model.merges[" + std::to_string(rank) + "] (\"" + left + " " + right + "\")";
        };
        const auto l = ids_.find(left), r = ids_.find(right), m = ids_.find(left + right);
        if (l == ids_.end() || r == ids_.end())
            fail_invalid(name() + ": expected both parts in model.vocab, got '" +
                         (l == ids_.end() ? left : right) + "' missing");
        if (m == ids_.end())
            fail_invalid(name() + ": expected the merged token '" + left + right +
                         "' in model.vocab, it is missing");
        // A repeated merge keeps its first (best) rank, as tokenizers does.
        if (merges_.insert(l->second, r->second, int32_t(rank), m->second))
            merge_pairs_.emplace_back(l->second, r->second);
    }
}

std::optional<int32_t> bpe_model::id(std::string_view token) const {
    const auto it = ids_.find(token);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
}

std::vector<std::pair<std::string, std::string>> bpe_model::merges() const {
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(merge_pairs_.size());
    for (const auto & [l, r] : merge_pairs_) out.emplace_back(vocab_[size_t(l)], vocab_[size_t(r)]);
    return out;
}

void bpe_model::merge_word(std::string_view bytes, std::vector<int32_t> & out) const {
    if (ignore_merges_) {
        const auto it = ids_by_bytes_.find(bytes);
        if (it != ids_by_bytes_.end()) {
            out.push_back(it->second);
            return;
        }
    }
    std::vector<int32_t> symbols;
    symbols.reserve(bytes.size());
    for (char b : bytes)
        if (const int32_t id = byte_ids_[uint8_t(b)]; id >= 0) symbols.push_back(id);
    if (symbols.size() <= short_word)
        merge_short(symbols);
    else
        merge_long(symbols);
    out.insert(out.end(), symbols.begin(), symbols.end());
}

// Scans for the lowest-rank pair (leftmost among equals), merges it, and
// repeats until no adjacent pair has a merge.
void bpe_model::merge_short(std::vector<int32_t> & symbols) const {
    while (symbols.size() > 1) {
        int32_t best_rank = INT32_MAX, best_merged = -1;
        size_t best = 0;
        for (size_t i = 0; i + 1 < symbols.size(); ++i) {
            const merge_table::entry * e = merges_.find(symbols[i], symbols[i + 1]);
            if (e != nullptr && e->rank < best_rank) {
                best_rank = e->rank;
                best_merged = e->merged;
                best = i;
            }
        }
        if (best_merged < 0) return;
        symbols[best] = best_merged;
        symbols.erase(symbols.begin() + std::ptrdiff_t(best) + 1);
    }
}

// The same order with a heap of candidate merges (rank, position of the
// left symbol) over a doubly linked list of symbols; a popped candidate
// whose symbols have changed since it was pushed is skipped.
void bpe_model::merge_long(std::vector<int32_t> & symbols) const {
    const size_t n = symbols.size();
    std::vector<int32_t> prev(n), next(n);
    for (size_t i = 0; i < n; ++i) {
        prev[i] = int32_t(i) - 1;
        next[i] = i + 1 < n ? int32_t(i + 1) : -1;
    }
    struct candidate {
        int32_t rank;
        int32_t position;
        int32_t left, right;  // the ids it was pushed for
        bool operator>(const candidate & o) const {
            return rank != o.rank ? rank > o.rank : position > o.position;
        }
    };
    std::priority_queue<candidate, std::vector<candidate>, std::greater<>> heap;
    const auto push = [&](int32_t position) {
        const int32_t right = next[size_t(position)];
        if (right < 0) return;
        const merge_table::entry * e = merges_.find(symbols[size_t(position)], symbols[size_t(right)]);
        if (e != nullptr)
            heap.push({e->rank, position, symbols[size_t(position)], symbols[size_t(right)]});
    };
    for (size_t i = 0; i + 1 < n; ++i) push(int32_t(i));
    std::vector<bool> gone(n, false);
    while (!heap.empty()) {
        const candidate c = heap.top();
        heap.pop();
        const size_t at = size_t(c.position);
        const int32_t right = next[at];
        if (gone[at] || right < 0 || symbols[at] != c.left || symbols[size_t(right)] != c.right)
            continue;
        symbols[at] = merges_.find(c.left, c.right)->merged;
        gone[size_t(right)] = true;
        next[at] = next[size_t(right)];
        if (next[at] >= 0) prev[size_t(next[at])] = int32_t(at);
        if (prev[at] >= 0) push(prev[at]);
        push(int32_t(at));
    }
    size_t kept = 0;
    for (int32_t i = 0; i >= 0; i = next[size_t(i)]) symbols[kept++] = symbols[size_t(i)];
    symbols.resize(kept);
}

}  // namespace distill::tokenizer
