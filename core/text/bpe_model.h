// The BPE model of a byte-level tokenizer (model.type "BPE" of a
// tokenizer.json): the vocabulary (token string → id, in the byte-level
// alphabet) and the merges (pair of ids → rank and the id of the merged
// token). merge_word turns the bytes of one pre-token into ids the way
// tokenizers does: start from one symbol per byte, then repeatedly merge
// the adjacent pair of lowest rank, the leftmost one among equals.
//
// Sizes: V tokens, M merges, a word of n bytes; merge_word is O(n²) for
// short words (a scan per merge beats a heap there) and O(n log n) past
// `short_word` bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace distill::tokenizer {

// Heterogeneous lookup by string_view in string-keyed maps.
struct string_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class V>
using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

// Open-addressing map from a pair of ids to (rank, merged id).
class merge_table {
public:
    struct entry {
        uint64_t key;  // (left << 32) | right; empty_key when free
        int32_t rank;
        int32_t merged;
    };
    static constexpr uint64_t empty_key = ~uint64_t(0);

    void reserve(size_t count);
    // False when the pair is already present (the first rank is kept).
    bool insert(int32_t left, int32_t right, int32_t rank, int32_t merged);
    const entry * find(int32_t left, int32_t right) const {
        if (slots_.empty()) return nullptr;
        const uint64_t key = pack(left, right);
        for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
            const entry & e = slots_[i];
            if (e.key == key) return &e;
            if (e.key == empty_key) return nullptr;
        }
    }
    size_t size() const { return size_; }

private:
    static uint64_t pack(int32_t left, int32_t right) {
        return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
    }
    static size_t hash(uint64_t key) { return size_t((key * 0x9E3779B97F4A7C15ull) >> 17); }
    void grow();
    std::vector<entry> slots_;
    size_t mask_ = 0;
    size_t size_ = 0;
};

class bpe_model {
public:
    // `vocab`: id → token in the byte-level alphabet (ids 0..V-1, each
    // once; an empty string marks an id the model does not define).
    // `merges`: pairs of token strings in rank order. Throws
    // invalid_argument for a merge whose parts or result are not in the
    // vocabulary (naming the merge and its index).
    bpe_model(std::vector<std::string> vocab, const std::vector<std::pair<std::string, std::string>> & merges,
              bool ignore_merges);

    // Appends the ids of one pre-token (raw bytes) to `out`. Bytes whose
    // alphabet character is not in the vocabulary are dropped, as
    // tokenizers does without an unk_token.
    void merge_word(std::string_view bytes, std::vector<int32_t> & out) const;

    int32_t size() const { return int32_t(vocab_.size()); }
    // The token of `id` (alphabet form); "" when the id is undefined.
    const std::string & token(int32_t id) const { return vocab_[size_t(id)]; }
    std::optional<int32_t> id(std::string_view token) const;
    // The raw bytes of `id` (nullopt when its token holds a character
    // outside the alphabet).
    const std::optional<std::string> & token_bytes(int32_t id) const { return bytes_[size_t(id)]; }
    // The merges as pairs of token strings, in rank order.
    std::vector<std::pair<std::string, std::string>> merges() const;
    bool ignore_merges() const { return ignore_merges_; }

    static constexpr size_t short_word = 48;

private:
    void merge_short(std::vector<int32_t> & symbols) const;
    void merge_long(std::vector<int32_t> & symbols) const;

    std::vector<std::string> vocab_;
    string_map<int32_t> ids_;
    std::vector<std::optional<std::string>> bytes_;
    string_map<int32_t> ids_by_bytes_;  // for ignore_merges: a whole word in the vocabulary
    int32_t byte_ids_[256];             // the id of each byte's character, -1 if absent
    merge_table merges_;
    std::vector<std::pair<int32_t, int32_t>> merge_pairs_;  // by rank
    bool ignore_merges_;
};

}  // namespace distill::tokenizer
