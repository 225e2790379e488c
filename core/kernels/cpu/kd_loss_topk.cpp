// Distillation loss against a top-k teacher, CPU. Per row:
//   pass 1   online log-sum-exp of s = z/T over V              (reads z)
//   top-k    K + 1 categories: the K ids and the rest. Teacher p from the
//            log-probabilities (renormalised, or with the tail as p_rest);
//            student q_k at the ids and q_rest = Σ q outside the ids
//            (summed in pass 1 under a per-thread id mask); Σ of the
//            divergence's terms and ḡ = Σ q·∂D/∂q over the categories.
//   pass 2   gradient of every entry as a member of "the rest":
//            soft_coef · q_i · (g_rest − ḡ)                     (reads z; writes grad)
//   fix-up   the K ids get soft_coef · (qg_k − q_k · ḡ).
// RENORMALIZE is the same computation with p_rest = 0 (see
// kd_divergence_terms.h: every entry outside the top-k then has the same
// g_c as the merged bucket). Shapes: z, grad [N, V]; ids, logprobs [N, K].
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/kd_divergence_terms.h"
#include "kd_loss_cpu.h"
#include "cpu_isa.h"
#include "parallel_rows.h"
#include "row_passes.h"

namespace distill::kernels::cpu::DISTILL_CPU_ISA {
namespace {

struct topk_job {
    float * row_losses;
    void * grad;
    const void * student;
    const void * topk_ids;
    const void * topk_logprobs;
    const void * labels;
    const kd_loss_params * params;
    float grad_scale;
};

// Per-thread scratch: q and qg of each top-k category ([K] each), and a
// mask of the vocabulary ([V], all zero between rows) marking the ids.
struct topk_scratch {
    float * q;
    float * qg;
    uint8_t * marked;
};

// The teacher's side of a row: log p_k = l_k/T − log Z at the ids, and the
// rest's log p (−inf for RENORMALIZE or an empty tail).
struct teacher_categories {
    float log_normaliser;
    float log_p_rest;
};

template <class L>
teacher_categories teacher_side(const L * logprobs, int64_t k, float inv_temperature,
                                bool tail_bucket) {
    double mass = 0.0;
    float max_scaled = negative_infinity;
    for (int64_t j = 0; j < k; ++j) {
        const float l = to_float(logprobs[j]);
        mass += std::exp(static_cast<double>(l));
        max_scaled = std::max(max_scaled, l * inv_temperature);
    }
    float log_tail_scaled = negative_infinity;
    if (tail_bucket) {
        const double tail = 1.0 - mass;
        if (tail >= topk_tail_rounding_floor)
            log_tail_scaled = static_cast<float>(std::log(tail)) * inv_temperature;
    }
    const float shift = std::max(max_scaled, log_tail_scaled);
    double sum = log_tail_scaled == negative_infinity ? 0.0 : std::exp(log_tail_scaled - shift);
    for (int64_t j = 0; j < k; ++j)
        sum += std::exp(static_cast<double>(to_float(logprobs[j]) * inv_temperature - shift));
    const float log_normaliser = shift + static_cast<float>(std::log(sum));
    return {log_normaliser, log_tail_scaled - log_normaliser};
}

template <divergence_kind D, class S, class L>
float topk_row(S * grad_row, const S * student, const void * ids, const L * logprobs, int64_t label,
               const row_constants & c, const kd_loss_params & params, topk_scratch scratch) {
    const int64_t vocab = c.vocab;
    const int64_t k = params.topk;
    const float inv_t = c.inv_temperature;
    float g[row_chunk];

    for (int64_t j = 0; j < k; ++j) scratch.marked[load_index(ids, params.topk_id_type, j)] = 1;
    online_logsumexp_with_rest student_lse_acc;
    for (int64_t base = 0; base < vocab; base += row_chunk) {
        const int64_t n = std::min(row_chunk, vocab - base);
        student_lse_acc.add(student + base, scratch.marked + base, n, inv_t);
    }
    for (int64_t j = 0; j < k; ++j) scratch.marked[load_index(ids, params.topk_id_type, j)] = 0;
    const float student_lse = student_lse_acc.all.value();
    const float q_rest = student_lse_acc.rest_fraction();
    const float raw_lse =
        c.hard ? (c.temperature_is_one ? student_lse : untempered_logsumexp(student, vocab)) : 0.0f;

    double divergence = 0.0;
    float g_bar = 0.0f;
    float g_rest = 0.0f;
    if (c.soft) {
        const teacher_categories teacher =
            teacher_side(logprobs, k, c.inv_temperature, params.tail_bucket);
        double qg_total = 0.0;
        for (int64_t j = 0; j < k; ++j) {
            const int64_t id = load_index(ids, params.topk_id_type, j);
            const float log_q = to_float(student[id]) * c.inv_temperature - student_lse;
            const float log_p = to_float(logprobs[j]) * c.inv_temperature - teacher.log_normaliser;
            const float q = std::exp(log_q);
            const float p = std::exp(log_p);
            const category_term term = divergence_term<D>(c.beta, p, q, log_p, log_q, vector_log{});
            scratch.q[j] = q;
            scratch.qg[j] = term.qg;
            divergence += term.loss;
            qg_total += term.qg;
        }
        const float p_rest = std::exp(teacher.log_p_rest);
        const category_term rest = divergence_term<D>(c.beta, p_rest, q_rest, teacher.log_p_rest,
                                                      std::log(q_rest), vector_log{});
        divergence += rest.loss;
        qg_total += rest.qg;
        g_bar = D == divergence_kind::forward_kl ? -1.0f : static_cast<float>(qg_total);
        g_rest = q_rest > 0.0f ? rest.qg / q_rest : 0.0f;
    }

    if (grad_row != nullptr) {
        // Pass 2: every entry as a member of the rest.
        const float rest_factor = c.soft ? c.soft_coef * (g_rest - g_bar) : 0.0f;
        for (int64_t base = 0; base < vocab; base += row_chunk) {
            const int64_t n = std::min(row_chunk, vocab - base);
            scaled_softmax(g, student + base, n, inv_t, student_lse, rest_factor);
            if (c.hard) add_hard_gradient(g, student + base, n, base, label, raw_lse, c.hard_coef);
            store_converted(grad_row + base, g, n);
        }
        // Fix-up: the ids are categories of their own. Reads z[id] only,
        // which pass 2 did not overwrite (grad never aliases z).
        if (c.soft) {
            for (int64_t j = 0; j < k; ++j) {
                const int64_t id = load_index(ids, params.topk_id_type, j);
                float value = c.soft_coef * (scratch.qg[j] - scratch.q[j] * g_bar);
                if (c.hard) {
                    value += c.hard_coef * std::exp(to_float(student[id]) - raw_lse);
                    if (id == label) value -= c.hard_coef;
                }
                grad_row[id] = from_float<S>(value);
            }
        }
    }

    float row_loss = c.soft ? c.soft_scale * static_cast<float>(divergence) : 0.0f;
    if (c.hard) row_loss += c.hard_weight * (raw_lse - to_float(student[label]));
    return row_loss;
}

template <divergence_kind D, class S, class L>
void topk_rows(const topk_job & job, const row_constants & c, int64_t begin, int64_t end,
               topk_scratch scratch) {
    const kd_loss_params & params = *job.params;
    const int64_t vocab = params.vocab;
    const int64_t k = params.topk;
    const int64_t id_bytes = params.topk_id_type == index_type::i64 ? 8 : 4;
    const S * student = static_cast<const S *>(job.student);
    const L * logprobs = static_cast<const L *>(job.topk_logprobs);
    const auto * ids = static_cast<const unsigned char *>(job.topk_ids);
    S * grad = static_cast<S *>(job.grad);
    for (int64_t row = begin; row < end; ++row) {
        S * grad_row = grad != nullptr ? grad + row * vocab : nullptr;
        const row_label label = read_row_label(job.labels, params, row);
        if (label.ignored) {
            job.row_losses[row] = 0.0f;
            if (grad_row != nullptr) zero_row(grad_row, vocab);
            continue;
        }
        job.row_losses[row] = topk_row<D>(grad_row, student + row * vocab, ids + row * k * id_bytes,
                                          logprobs + row * k, label.value, c, params, scratch);
    }
}

template <class S, class L>
void topk_rows_for_types(const topk_job & job, const row_constants & c, int64_t begin, int64_t end,
                         topk_scratch scratch) {
    switch (job.params->divergence) {
    case divergence_kind::forward_kl:
        return topk_rows<divergence_kind::forward_kl, S, L>(job, c, begin, end, scratch);
    case divergence_kind::reverse_kl:
        return topk_rows<divergence_kind::reverse_kl, S, L>(job, c, begin, end, scratch);
    case divergence_kind::jsd:
        return topk_rows<divergence_kind::jsd, S, L>(job, c, begin, end, scratch);
    case divergence_kind::tvd:
        return topk_rows<divergence_kind::tvd, S, L>(job, c, begin, end, scratch);
    }
}

template <class S>
void topk_rows_for_student(const topk_job & job, const row_constants & c, int64_t begin,
                           int64_t end, topk_scratch scratch) {
    switch (job.params->teacher_type) {
    case scalar_type::f32: return topk_rows_for_types<S, float>(job, c, begin, end, scratch);
    case scalar_type::bf16: return topk_rows_for_types<S, bf16_bits>(job, c, begin, end, scratch);
    case scalar_type::f16: return topk_rows_for_types<S, fp16>(job, c, begin, end, scratch);
    }
}

void topk_row_range(const topk_job & job, int64_t begin, int64_t end, topk_scratch scratch) {
    const row_constants c = make_row_constants(*job.params, job.grad_scale);
    switch (job.params->student_type) {
    case scalar_type::f32: return topk_rows_for_student<float>(job, c, begin, end, scratch);
    case scalar_type::bf16: return topk_rows_for_student<bf16_bits>(job, c, begin, end, scratch);
    case scalar_type::f16: return topk_rows_for_student<fp16>(job, c, begin, end, scratch);
    }
}

}  // namespace

void kd_loss_topk(float * row_losses, void * grad, const void * student, const void * topk_ids,
                  const void * topk_logprobs, const void * labels, const kd_loss_params & params,
                  float grad_scale, int num_threads) {
    const topk_job job{row_losses,    grad,   student, topk_ids,
                       topk_logprobs, labels, &params, grad_scale};
    const int threads = row_threads(params.rows, params.vocab, num_threads);
    // Allocated here, before the parallel region, so that a bad_alloc is
    // thrown on the calling thread.
    const size_t k = static_cast<size_t>(params.topk);
    const size_t vocab = static_cast<size_t>(params.vocab);
    std::vector<float> categories(static_cast<size_t>(threads) * 2 * k);
    std::vector<uint8_t> masks(static_cast<size_t>(threads) * vocab, 0);
    for_each_row_range(params.rows, threads, [&](int64_t begin, int64_t end, int member) {
        float * mine = categories.data() + static_cast<size_t>(member) * 2 * k;
        uint8_t * mask = masks.data() + static_cast<size_t>(member) * vocab;
        topk_row_range(job, begin, end, topk_scratch{mine, mine + k, mask});
    });
}

}  // namespace distill::kernels::cpu::DISTILL_CPU_ISA
