// A permutation of [0, n) that depends only on (n, seed), the same on every
// machine and compiler: std::shuffle and std::uniform_int_distribution are
// implementation-defined, so the bits come from SplitMix64 (Steele, Lea and
// Flood, "Fast splittable pseudorandom number generators", 2014) and the
// range reduction is a rejection of the biased remainder, then a
// Fisher-Yates shuffle. Used for the train/validation split of documents
// and for the order in which windows are served.
#pragma once

#include <cstdint>
#include <numeric>
#include <vector>

namespace distill::text {

class splitmix64 {
public:
    explicit splitmix64(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, bound), bound > 0: draws above the largest multiple
    // of bound are redrawn so that every value is equally likely.
    uint64_t below(uint64_t bound) {
        const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
        uint64_t x;
        do x = next();
        while (x >= limit);
        return x % bound;
    }

private:
    uint64_t state_;
};

inline std::vector<uint64_t> seeded_permutation(uint64_t n, uint64_t seed) {
    std::vector<uint64_t> order(n);
    std::iota(order.begin(), order.end(), uint64_t(0));
    splitmix64 random(seed);
    for (uint64_t i = n; i > 1; --i) std::swap(order[i - 1], order[random.below(i)]);
    return order;
}

}  // namespace distill::text
