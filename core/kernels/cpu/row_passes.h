// Pieces of a single row's passes shared by the dense and top-k CPU kernels.
// A row of V logits is walked in chunks of `row_chunk` entries: each chunk
// is converted to fp32 into a small stack buffer (L1-resident) and every
// loop over a buffer is a plain, vectorisable loop.
#pragma once

#include "cpu_isa.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "cpu_math.h"

namespace distill::kernels::cpu::DISTILL_CPU_ISA {

inline constexpr int64_t row_chunk = 512;

// out[i] = in[i] · scale, in fp32.       out, in: [n]
template <class Storage>
DISTILL_VECTOR_LOOP void load_scaled(float * __restrict out, const Storage * __restrict in, int64_t n,
                        float scale) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = to_float(in[i]) * scale;
}

// out[i] = storage(in[i]).                out, in: [n]
template <class Storage>
DISTILL_VECTOR_LOOP void store_converted(Storage * __restrict out, const float * __restrict in, int64_t n) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = from_float<Storage>(in[i]);
}

// log Σ exp(x) over a row fed chunk by chunk (the online softmax: a running
// max, and a running sum rescaled whenever the max grows).
struct online_logsumexp {
    float max = negative_infinity;
    float sum = 0.0f;

    DISTILL_VECTOR_LOOP void add(const float * __restrict x, int64_t n) {
        float chunk_max = negative_infinity;
#pragma omp simd reduction(max : chunk_max)
        for (int64_t i = 0; i < n; ++i) chunk_max = x[i] > chunk_max ? x[i] : chunk_max;
        if (chunk_max > max) {
            sum *= fast_exp(max - chunk_max);
            max = chunk_max;
        }
        if (max == negative_infinity) return;  // only −inf so far: nothing to add
        const float shift = max;
        float chunk_sum = 0.0f;
#pragma omp simd reduction(+ : chunk_sum)
        for (int64_t i = 0; i < n; ++i) chunk_sum += fast_exp(x[i] - shift);
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

    DISTILL_VECTOR_LOOP void add(const float * __restrict x, const uint8_t * __restrict marked,
                                 int64_t n) {
        float chunk_max = negative_infinity;
#pragma omp simd reduction(max : chunk_max)
        for (int64_t i = 0; i < n; ++i) chunk_max = x[i] > chunk_max ? x[i] : chunk_max;
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
            const float e = fast_exp(x[i] - shift);
            chunk_sum += e;
            chunk_rest += marked[i] ? 0.0f : e;
        }
        all.sum += chunk_sum;
        rest_sum += chunk_rest;
    }

    // Σ_{unmarked} softmax(x)_i
    float rest_fraction() const { return all.sum > 0.0f ? rest_sum / all.sum : 0.0f; }
};

// Adds the hard-label gradient of one chunk:
//   g[i] += hard_coef · (softmax(z)_i − [base + i == label])
// g: [n] fp32; raw_logits: [n], the untempered student logits of the chunk.
template <class Storage>
DISTILL_VECTOR_LOOP void add_hard_gradient(float * __restrict g, const Storage * __restrict raw_logits,
                              int64_t n, int64_t base, int64_t label, float log_normaliser,
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
    float buffer[row_chunk];
    online_logsumexp lse;
    for (int64_t base = 0; base < vocab; base += row_chunk) {
        const int64_t n = std::min(row_chunk, vocab - base);
        load_scaled(buffer, student + base, n, 1.0f);
        lse.add(buffer, n);
    }
    return lse.value();
}

// Everything a row needs from the call, fixed for the whole call.
struct row_constants {
    int64_t vocab;
    float inv_temperature;
    float beta;
    float soft_scale;  // multiplies the divergence in the row loss
    float hard_weight;
    float soft_coef;   // soft_scale / T · grad_scale: the divergence's gradient factor
    float hard_coef;   // hard_weight · grad_scale
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
