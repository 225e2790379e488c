// Scalar building blocks of the CPU kernels, written so that GCC vectorises
// the loops that call them (no libm calls, no branches, only selects):
// an exp accurate to ~2 ulp, and loads/stores of fp32, bf16 and fp16.
#pragma once

#include "cpu_isa.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "backend/kd_loss_params.h"

namespace distill::kernels::cpu::DISTILL_CPU_ISA {

inline constexpr float negative_infinity = -std::numeric_limits<float>::infinity();

// exp(x) by range reduction x = n·ln2 + r, |r| ≤ ln2/2, and a degree-7
// polynomial for exp(r) (the classic Cephes expf coefficients), ~2 ulp.
// Exact 0 below the smallest normal result (so −inf → 0); NaN → NaN (the
// clamp is written so that NaN passes through it). The kernels only ever
// take exp of x ≤ 0 (logits minus their max or log-sum-exp), so the top
// of the range is clamped without care for the last ulp: x ≥ 88.38 gives
// +inf.
[[gnu::always_inline]] inline float fast_exp(float x) {
    constexpr float lowest_input = -87.33654f;  // exp() would be subnormal below
    constexpr float highest_input = 88.72283f;
    float clamped = x < lowest_input ? lowest_input : x;  // NaN stays NaN
    clamped = clamped > highest_input ? highest_input : clamped;
    // round(clamped / ln2) by the 1.5·2^23 trick (round-to-nearest, no libm).
    constexpr float round_magic = 12582912.0f;
    const float n = (clamped * 1.44269504088896341f + round_magic) - round_magic;
    // r = clamped − n·ln2 with ln2 split in two for an exact first product.
    float r = clamped - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float poly = 1.9875691500e-4f;
    poly = poly * r + 1.3981999507e-3f;
    poly = poly * r + 8.3334519073e-3f;
    poly = poly * r + 4.1665795894e-2f;
    poly = poly * r + 1.6666665459e-1f;
    poly = poly * r + 5.0000001201e-1f;
    const float exp_r = poly * r * r + r + 1.0f;
    // 2^n from the exponent bits; n = 128 (from the top clamp) gives +inf.
    const int32_t exponent_bits = (static_cast<int32_t>(n) + 127) << 23;
    const float result = exp_r * std::bit_cast<float>(exponent_bits);
    return x < lowest_input ? 0.0f : result;
}

// log(x) as e·ln2 + log(m) with x = 2^e·m, m in [√½, √2), and
// log(m) = 2·atanh(u), u = (m − 1)/(m + 1), |u| ≤ 0.1716, by its series to
// u⁹ (truncation < 1e-9 relative): ~2 ulp. Subnormals are scaled first;
// log 0 = −inf, log(+inf) = +inf, negative or NaN → NaN. Branch-free, so
// the JSD loops that call it vectorise.
[[gnu::always_inline]] inline float fast_log(float x) {
    constexpr float smallest_normal = 1.17549435e-38f;
    const bool subnormal = x < smallest_normal;
    const float scaled = subnormal ? x * 8388608.0f : x;  // × 2^23
    const int32_t bits = std::bit_cast<int32_t>(scaled);
    int32_t exponent = ((bits >> 23) & 0xff) - 127 - (subnormal ? 23 : 0);
    float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f800000);  // [1, 2)
    const bool above_sqrt2 = m > 1.41421356f;
    m = above_sqrt2 ? m * 0.5f : m;
    exponent = above_sqrt2 ? exponent + 1 : exponent;
    const float u = (m - 1.0f) / (m + 1.0f);
    const float u2 = u * u;
    float series = 1.0f / 9.0f;
    series = series * u2 + 1.0f / 7.0f;
    series = series * u2 + 1.0f / 5.0f;
    series = series * u2 + 1.0f / 3.0f;
    series = series * u2 + 1.0f;
    float result = 2.0f * u * series + static_cast<float>(exponent) * 0.693147180559945309f;
    result = x == std::numeric_limits<float>::infinity() ? x : result;
    result = x == 0.0f ? negative_infinity : result;
    return (x < 0.0f || x != x) ? std::numeric_limits<float>::quiet_NaN() : result;
}

// The log of the per-category JSD terms on the CPU.
struct vector_log {
    float operator()(float x) const { return fast_log(x); }
};

// Storage types. bf16 is the top half of an fp32; fp16 is GCC's _Float16.
enum class bf16_bits : uint16_t {};  // an enum, not a struct: vectorisable
using fp16 = _Float16;

inline float to_float(float v) { return v; }
inline float to_float(fp16 v) { return static_cast<float>(v); }
inline float to_float(bf16_bits v) { return std::bit_cast<float>(static_cast<uint32_t>(v) << 16); }

template <class Storage>
inline Storage from_float(float v);
template <>
inline float from_float<float>(float v) {
    return v;
}
template <>
inline fp16 from_float<fp16>(float v) {
    return static_cast<fp16>(v);
}
// Round to nearest even; NaN stays NaN (quiet bit forced).
template <>
inline bf16_bits from_float<bf16_bits>(float v) {
    const uint32_t bits = std::bit_cast<uint32_t>(v);
    const uint32_t rounding = 0x7FFFu + ((bits >> 16) & 1u);
    const uint32_t rounded = (bits + rounding) >> 16;
    const bool is_nan = (bits & 0x7FFFFFFFu) > 0x7F800000u;
    return static_cast<bf16_bits>(is_nan ? ((bits >> 16) | 0x40u) : rounded);
}

inline int64_t load_index(const void * data, index_type type, int64_t i) {
    return type == index_type::i64 ? static_cast<const int64_t *>(data)[i]
                                   : static_cast<int64_t>(static_cast<const int32_t *>(data)[i]);
}

}  // namespace distill::kernels::cpu::DISTILL_CPU_ISA
