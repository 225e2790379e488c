// Seeded randomness of the trainer that must be the same on every machine
// and for every thread count: the order of an epoch's examples and the
// dropout seed of a step. splitmix64 (Steele, Lea, Flood 2014) — tiny,
// fully specified, good enough for shuffling.
#pragma once

#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

namespace distill {

inline uint64_t splitmix64(uint64_t & state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// A seed derived from (seed, index): the dropout seed of step `index`.
inline uint64_t mix_seed(uint64_t seed, uint64_t index) {
    uint64_t state = seed ^ (index * 0xd1b54a32d192ed03ull);
    splitmix64(state);
    return splitmix64(state);
}

// A permutation of [0, rows) from (seed, epoch): Fisher–Yates driven by
// splitmix64 (the modulo's bias, below 2^-40 for any real dataset, is
// irrelevant to shuffling).
inline std::vector<int64_t> seeded_order(uint64_t seed, uint64_t epoch, int64_t rows) {
    std::vector<int64_t> order(static_cast<size_t>(rows));
    std::iota(order.begin(), order.end(), int64_t{0});
    uint64_t state = mix_seed(seed, epoch);
    for (int64_t i = rows - 1; i > 0; --i) {
        const uint64_t bound = uint64_t(i) + 1;
        const auto j = int64_t(splitmix64(state) % bound);
        std::swap(order[size_t(i)], order[size_t(j)]);
    }
    return order;
}

}  // namespace distill
