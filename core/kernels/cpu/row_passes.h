// Pieces of a single row's passes shared by the dense and top-k CPU kernels.
// A row of V logits is walked in chunks of `row_chunk` entries (L1-sized),
// each loop converting its storage type to fp32 as it reads: plain,
// vectorisable loops, kept out of line (DISTILL_VECTOR_LOOP).
#pragma once

#include "cpu_isa.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "cpu_math.h"

namespace distill::kernels::cpu::DISTILL_CPU_ISA {

inline constexpr int64_t row_chunk = 512;

// out[i] = storage(in[i]).                out, in: [n]
template <class Storage>
DISTILL_VECTOR_LOOP void store_converted(Storage * __restrict out, const float * __restrict in,
                                         int64_t n) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = from_float<Storage>(in[i]);
}

// max of in[i] · scale (scale > 0). in: [n]
template <class Storage>
inline float scaled_max(const Storage * __restrict in, int64_t n, float scale) {
    float chunk_max = negative_infinity;
#pragma omp simd reduction(max : chunk_max)
    for (int64_t i = 0; i < n; ++i) {
        const float v = to_float(in[i]) * scale;
        chunk_max = v > chunk_max ? v : chunk_max;
    }
    return chunk_max;
}

// log Σ exp(x) of x = in · scale over a row fed chunk by chunk (the online
// softmax: a running max, and a running sum rescaled whenever the max
// grows). Reads each chunk twice, from L1.
struct online_logsumexp {
    float max = negative_infinity;
    float sum = 0.0f;

    template <class Storage>
    DISTILL_VECTOR_LOOP void add(const Storage * __restrict in, int64_t n, float scale) {
        const float chunk_max = scaled_max(in, n, scale);
        if (chunk_max > max) {
            sum *= fast_exp(max - chunk_max);
            max = chunk_max;
        }
        if (max == negative_infinity) return;  // only −inf so far: nothing to add
        const float shift = max;
        float chunk_sum = 0.0f;
#pragma omp simd reduction(+ : chunk_sum)
        for (int64_t i = 0; i < n; ++i) chunk_sum += fast_exp(to_float(in[i]) * scale - shift);
        sum += chunk_sum;
    }

    float value() const { return max + std::log(sum); }
};

// online_logsumexp that also sums exp over the entries not marked (the
// student's mass outside a teacher's top-k, without the cancellation of
// 1 − Σ q_k), from the same exps. marked: [n], nonzero at the top-k ids.
struct online_logsumexp_with_rest {
    online_logsumexp all;
    float rest_sum = 0.0f;

    template <class Storage>
    DISTILL_VECTOR_LOOP void add(const Storage * __restrict in, const uint8_t * __restrict marked,
                                 int64_t n, float scale) {
        const float chunk_max = scaled_max(in, n, scale);
        if (chunk_max > all.max) {
            const float rescale = fast_exp(all.max - chunk_max);
            all.sum *= rescale;
            rest_sum *= rescale;
            all.max = chunk_max;
        }
        if (all.max == negative_infinity) return;
        const float shift = all.max;
        float chunk_sum = 0.0f;
        float chunk_rest = 0.0f;
#pragma omp simd reduction(+ : chunk_sum, chunk_rest)
        for (int64_t i = 0; i < n; ++i) {
            const float e = fast_exp(to_float(in[i]) * scale - shift);
            chunk_sum += e;
            chunk_rest += marked[i] ? 0.0f : e;
        }
        all.sum += chunk_sum;
        rest_sum += chunk_rest;
    }

    // Σ_{unmarked} softmax(x)_i
    float rest_fraction() const { return all.sum > 0.0f ? rest_sum / all.sum : 0.0f; }
};

// out[i] = factor · exp(in[i] · scale − log_normaliser).   out, in: [n]
template <class Storage>
DISTILL_VECTOR_LOOP void scaled_softmax(float * __restrict out, const Storage * __restrict in,
                                        int64_t n, float scale, float log_normaliser,
                                        float factor) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i)
        out[i] = factor * fast_exp(to_float(in[i]) * scale - log_normaliser);
}

// Adds the hard-label gradient of one chunk:
//   g[i] += hard_coef · (softmax(z)_i − [base + i == label])
// g: [n] fp32; raw_logits: [n], the untempered student logits of the chunk.
template <class Storage>
DISTILL_VECTOR_LOOP void add_hard_gradient(float * __restrict g,
                                           const Storage * __restrict raw_logits, int64_t n,
                                           int64_t base, int64_t label, float log_normaliser,
                                           float hard_coef) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i)
        g[i] += hard_coef * fast_exp(to_float(raw_logits[i]) - log_normaliser);
    if (label >= base && label < base + n) g[label - base] -= hard_coef;
}

// log Σ exp(z) of the untempered logits: the hard loss's normaliser. When
// T = 1 it is the tempered one, already known.
template <class Storage>
inline float untempered_logsumexp(const Storage * student, int64_t vocab) {
    online_logsumexp lse;
    for (int64_t base = 0; base < vocab; base += row_chunk)
        lse.add(student + base, std::min(row_chunk, vocab - base), 1.0f);
    return lse.value();
}

// Everything a row needs from the call, fixed for the whole call.
struct row_constants {
    int64_t vocab;
    float inv_temperature;
    float beta;
    float soft_scale;  // multiplies the divergence in the row loss
    float hard_weight;
    float soft_coef;  // soft_scale / T · grad_scale: the divergence's gradient factor
    float hard_coef;  // hard_weight · grad_scale
    bool soft;
    bool hard;
    bool temperature_is_one;
};

inline row_constants make_row_constants(const kd_loss_params & params, float grad_scale) {
    row_constants c{};
    c.vocab = params.vocab;
    c.inv_temperature = params.inv_temperature;
    c.beta = params.beta;
    c.soft_scale = params.soft_scale;
    c.hard_weight = params.hard_weight;
    c.soft_coef = params.soft_scale * params.inv_temperature * grad_scale;
    c.hard_coef = params.hard_weight * grad_scale;
    c.soft = params.soft_scale != 0.0f;
    c.hard = params.hard_weight != 0.0f && params.label_type != index_type::none;
    c.temperature_is_one = params.temperature == 1.0f;
    return c;
}

// Zeroes a row of the gradient (an ignored row). grad_row: [vocab]
template <class Storage>
inline void zero_row(Storage * grad_row, int64_t vocab) {
    const Storage zero = from_float<Storage>(0.0f);
    std::fill(grad_row, grad_row + vocab, zero);
}

// The row's label, or −1 for "no hard term"; `ignored` when it equals
// ignore_index.
struct row_label {
    int64_t value;
    bool ignored;
};

inline row_label read_row_label(const void * labels, const kd_loss_params & params, int64_t row) {
    if (params.label_type == index_type::none) return {-1, false};
    const int64_t label = load_index(labels, params.label_type, row);
    return {label, label == params.ignore_index};
}

}  // namespace distill::kernels::cpu::DISTILL_CPU_ISA
