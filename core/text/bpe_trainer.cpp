#include "text/bpe_trainer.h"

#include <algorithm>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "common/error.h"
#include "text/byte_level.h"
#include "text/tokenizer_json.h"

namespace distill::tokenizer {

namespace {

uint64_t pack(int32_t left, int32_t right) { return (uint64_t(uint32_t(left)) << 32) | uint32_t(right); }
int32_t left_of(uint64_t pair) { return int32_t(pair >> 32); }
int32_t right_of(uint64_t pair) { return int32_t(uint32_t(pair)); }

struct word {
    std::vector<int32_t> symbols;
    int64_t count;
    int32_t stamp = -1;  // the last merge that rewrote it
};

// The words of the corpus (raw bytes of each pre-token) and their counts.
string_map<int64_t> count_words(const std::vector<std::string_view> & texts,
                                const added_vocabulary & specials, const pre_tokenizer & pre) {
    string_map<int64_t> counts;
    std::vector<added_vocabulary::match> matches;
    std::vector<span> pieces, next;
    std::string prefixed;
    const auto count_segment = [&](std::string_view segment) {
        if (segment.empty()) return;
        if (pre.add_prefix_space && segment[0] != ' ') {
            prefixed = " " + std::string(segment);
            segment = prefixed;
        }
        pieces.assign(1, span{0, segment.size()});
        for (const auto & pattern : pre.splits) {
            next.clear();
            for (const span & p : pieces) pattern->split_isolated(segment, p, next);
            pieces.swap(next);
        }
        for (const span & p : pieces) {
            const std::string_view piece = segment.substr(p.begin, p.end - p.begin);
            const auto it = counts.find(piece);
            if (it != counts.end())
                ++it->second;
            else
                counts.emplace(std::string(piece), 1);
        }
    };
    for (std::string_view text : texts) {
        matches.clear();
        specials.find_all(text, matches);
        size_t position = 0;
        for (const auto & m : matches) {
            count_segment(text.substr(position, m.begin - position));
            position = m.end;
        }
        count_segment(text.substr(position));
    }
    return counts;
}

}  // namespace

std::unique_ptr<bpe_tokenizer> train_bpe(const std::vector<std::string_view> & texts,
                                         const bpe_training_options & options) {
    const int64_t specials_count = int64_t(options.special_tokens.size());
    if (options.vocab_size < 256 + specials_count || options.vocab_size > (1 << 24))
        fail_invalid("vocab_size: expected at least 256 (the byte alphabet) + " +
                     std::to_string(specials_count) + " special tokens and at most 2^24, got " +
                     std::to_string(options.vocab_size));
    if (options.min_frequency < 1)
        fail_invalid("min_frequency: expected ≥ 1, got " + std::to_string(options.min_frequency));

    std::vector<added_token> special_tokens;
    for (size_t i = 0; i < options.special_tokens.size(); ++i) {
        added_token t;
        t.id = int32_t(i);
        t.content = options.special_tokens[i];
        t.special = true;
        special_tokens.push_back(std::move(t));
    }
    added_vocabulary specials(special_tokens);
    pre_tokenizer pre = make_pre_tokenizer(options.split);

    // Ids: specials, then the alphabet by code point, then merges.
    std::vector<std::string> vocab(options.special_tokens.begin(), options.special_tokens.end());
    std::vector<std::pair<char32_t, uint8_t>> alphabet;
    for (int b = 0; b < 256; ++b) alphabet.emplace_back(byte_to_code_point(uint8_t(b)), uint8_t(b));
    std::sort(alphabet.begin(), alphabet.end());
    int32_t byte_ids[256];
    for (const auto & [code_point, b] : alphabet) {
        byte_ids[b] = int32_t(vocab.size());
        std::string ch;
        append_utf8(ch, code_point);
        vocab.push_back(std::move(ch));
    }
    string_map<int32_t> ids;
    for (size_t i = 0; i < vocab.size(); ++i) ids.emplace(vocab[i], int32_t(i));

    std::vector<word> words;
    for (auto & [bytes, count] : count_words(texts, specials, pre)) {
        word w;
        w.count = count;
        for (char b : bytes) w.symbols.push_back(byte_ids[uint8_t(b)]);
        words.push_back(std::move(w));
    }

    // Pair counts, the words holding each pair (may hold words that no
    // longer do: checked when used), and a max-heap of (count, pair) whose
    // entries may be stale (a count only falls, except for pairs with the
    // newest token, pushed once its merge is done).
    std::unordered_map<uint64_t, int64_t> pair_counts;
    std::unordered_map<uint64_t, std::vector<uint32_t>> where;
    for (uint32_t w = 0; w < words.size(); ++w) {
        const auto & s = words[w].symbols;
        for (size_t i = 0; i + 1 < s.size(); ++i) {
            const uint64_t p = pack(s[i], s[i + 1]);
            pair_counts[p] += words[w].count;
            auto & list = where[p];
            if (list.empty() || list.back() != w) list.push_back(w);
        }
    }
    struct entry {
        int64_t count;
        uint64_t pair;
        bool operator<(const entry & o) const {  // top = most frequent, then smallest pair
            return count != o.count ? count < o.count : pair > o.pair;
        }
    };
    std::priority_queue<entry> heap;
    for (const auto & [p, c] : pair_counts) heap.push({c, p});

    std::vector<std::pair<std::string, std::string>> merges;
    std::unordered_set<uint64_t> touched;
    int32_t step = 0;
    while (int64_t(vocab.size()) < options.vocab_size && !heap.empty()) {
        const entry top = heap.top();
        heap.pop();
        const auto found = pair_counts.find(top.pair);
        const int64_t current = found == pair_counts.end() ? 0 : found->second;
        if (current != top.count) {
            if (current > 0) heap.push({current, top.pair});
            continue;
        }
        if (current < options.min_frequency) break;
        const int32_t left = left_of(top.pair), right = right_of(top.pair);
        std::string merged_token = vocab[size_t(left)] + vocab[size_t(right)];
        merges.emplace_back(vocab[size_t(left)], vocab[size_t(right)]);
        int32_t merged;
        if (const auto it = ids.find(merged_token); it != ids.end()) {
            merged = it->second;  // the same string from another pair
        } else {
            merged = int32_t(vocab.size());
            ids.emplace(merged_token, merged);
            vocab.push_back(std::move(merged_token));
        }
        // Rewrite every word holding the pair: take its pairs out, merge,
        // put its pairs back.
        touched.clear();
        const std::vector<uint32_t> holders = std::move(where[top.pair]);
        where.erase(top.pair);
        for (uint32_t w : holders) {
            word & wd = words[w];
            if (wd.stamp == step) continue;
            wd.stamp = step;
            auto & s = wd.symbols;
            bool holds = false;
            for (size_t i = 0; i + 1 < s.size() && !holds; ++i)
                holds = s[i] == left && s[i + 1] == right;
            if (!holds) continue;
            for (size_t i = 0; i + 1 < s.size(); ++i) pair_counts[pack(s[i], s[i + 1])] -= wd.count;
            size_t out = 0;
            for (size_t i = 0; i < s.size(); ++i) {
                if (i + 1 < s.size() && s[i] == left && s[i + 1] == right) {
                    s[out++] = merged;
                    ++i;
                } else {
                    s[out++] = s[i];
                }
            }
            s.resize(out);
            for (size_t i = 0; i + 1 < s.size(); ++i) {
                const uint64_t p = pack(s[i], s[i + 1]);
                pair_counts[p] += wd.count;
                if (s[i] == merged || s[i + 1] == merged) {
                    touched.insert(p);
                    auto & list = where[p];
                    if (list.empty() || list.back() != w) list.push_back(w);
                }
            }
        }
        pair_counts.erase(top.pair);
        // In pair order, so that the heap's contents (and ties) do not
        // depend on the hash set's iteration order.
        std::vector<uint64_t> fresh(touched.begin(), touched.end());
        std::sort(fresh.begin(), fresh.end());
        for (uint64_t p : fresh)
            if (const int64_t c = pair_counts[p]; c > 0) heap.push({c, p});
        ++step;
    }

    std::vector<added_token> added = specials.tokens();
    return std::make_unique<bpe_tokenizer>(bpe_model(std::move(vocab), merges, false),
                                           added_vocabulary(std::move(added)), std::move(pre));
}

}  // namespace distill::tokenizer
