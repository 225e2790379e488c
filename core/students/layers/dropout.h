// Inverted dropout, elementwise over N values: each value is kept with
// probability 1 − p and scaled by 1 / (1 − p), else zeroed, as nn.Dropout
// in training mode. The keep decision for element i is a hash of
// (seed, i), not a draw from a stateful generator, so the mask is the same
// for any thread count and backward recomputes it instead of storing it.
#pragma once

#include <cstdint>

namespace distill::layers {

// The splitmix64 finaliser: a bijection of 64-bit words whose outputs pass
// statistical tests even for consecutive inputs.
inline uint64_t mix64(uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Whether element `index` is kept: the hash's top 32 bits against p · 2³².
inline bool dropout_keeps(uint64_t seed, int64_t index, uint64_t drop_threshold) {
    const uint64_t h = mix64(mix64(seed) + 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(index));
    return (h >> 32) >= drop_threshold;
}

// p · 2³² for p in [0, 1).
inline uint64_t dropout_threshold(double p) { return static_cast<uint64_t>(p * 4294967296.0); }

// out[N] = inp[N] · keep(seed, i) / (1 − p); p in [0, 1) (p = 0 copies).
template <class T>
void dropout_forward(T * out, const T * inp, int64_t N, double p, uint64_t seed);

// d_inp[N] = d_out[N] · keep(seed, i) / (1 − p), the same mask as forward
// with the same seed.
template <class T>
void dropout_backward(T * d_inp, const T * d_out, int64_t N, double p, uint64_t seed);

}  // namespace distill::layers
