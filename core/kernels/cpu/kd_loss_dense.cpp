// Distillation loss against a dense teacher, CPU. Per row of V entries:
//   pass 1  online log-sum-exp of s = z/T and of x = t/T      (reads z, t)
//   pass 2  Σ of the divergence's terms, and ḡ = Σ q·∂D/∂q     (reads z, t)
//           forward KL writes its gradient here too (ḡ = −1 is known)
//   pass 3  other divergences: gradient q_i·(g_i − ḡ)          (reads z, t; writes grad)
// Passes 2 and 3 find the row in cache, so main memory sees each input row
// about once and the gradient once. Shapes: z, t, grad [N, V]; labels [N].
#include <algorithm>
#include <cstdint>

#include "kernels/kd_divergence_terms.h"
#include "kd_loss_cpu.h"
#include "cpu_isa.h"
#include "parallel_rows.h"
#include "row_passes.h"

namespace distill::kernels::cpu::DISTILL_CPU_ISA {
namespace {

struct dense_job {
    float * row_losses;
    void * grad;
    const void * student;
    const void * teacher;
    const void * labels;
    const kd_loss_params * params;
    float grad_scale;
};

// One chunk of passes 2/3: accumulates Σ loss and Σ qg into the
// references and, when `write_grad`, fills g[i] = soft_coef·(qg − q·ḡ).
// z, t: [n] in their storage types; g: [n] fp32.
template <divergence_kind D, bool write_grad, class S, class T>
DISTILL_VECTOR_LOOP void dense_divergence_chunk(float * __restrict g, float & loss_sum,
                                                float & qg_sum, const S * __restrict z,
                                                const T * __restrict t, int64_t n,
                                                float inv_temperature, float student_lse,
                                                float teacher_lse, float beta, float g_bar,
                                                float soft_coef) {
    float chunk_loss = 0.0f;
    float chunk_qg = 0.0f;
#pragma omp simd reduction(+ : chunk_loss, chunk_qg)
    for (int64_t i = 0; i < n; ++i) {
        const float log_q = to_float(z[i]) * inv_temperature - student_lse;
        const float log_p = to_float(t[i]) * inv_temperature - teacher_lse;
        const float q = fast_exp(log_q);
        const float p = fast_exp(log_p);
        const category_term term = divergence_term<D>(beta, p, q, log_p, log_q, vector_log{});
        chunk_loss += term.loss;
        chunk_qg += term.qg;
        if constexpr (write_grad) g[i] = soft_coef * (term.qg - q * g_bar);
    }
    loss_sum += chunk_loss;
    qg_sum += chunk_qg;
}

template <divergence_kind D, class S, class T>
float dense_row(S * grad_row, const S * student, const T * teacher, int64_t label,
                const row_constants & c) {
    const int64_t vocab = c.vocab;
    const float inv_t = c.inv_temperature;
    float g[row_chunk];

    // pass 1
    online_logsumexp student_lse_acc;
    online_logsumexp teacher_lse_acc;
    for (int64_t base = 0; base < vocab; base += row_chunk) {
        const int64_t n = std::min(row_chunk, vocab - base);
        student_lse_acc.add(student + base, n, inv_t);
        if (c.soft) teacher_lse_acc.add(teacher + base, n, inv_t);
    }
    const float student_lse = student_lse_acc.value();
    const float teacher_lse = teacher_lse_acc.value();
    const float raw_lse =
        c.hard ? (c.temperature_is_one ? student_lse : untempered_logsumexp(student, vocab)) : 0.0f;

    // pass 2 (and the forward-KL gradient)
    constexpr bool fused = D == divergence_kind::forward_kl;
    const bool write_in_pass_2 = grad_row != nullptr && (fused || !c.soft);
    double divergence = 0.0;
    double qg_total = 0.0;
    for (int64_t base = 0; base < vocab; base += row_chunk) {
        const int64_t n = std::min(row_chunk, vocab - base);
        float chunk_loss = 0.0f;
        float chunk_qg = 0.0f;
        if (c.soft) {
            if (write_in_pass_2)
                dense_divergence_chunk<D, true>(g, chunk_loss, chunk_qg, student + base,
                                                teacher + base, n, inv_t, student_lse, teacher_lse,
                                                c.beta, -1.0f, c.soft_coef);
            else
                dense_divergence_chunk<D, false>(g, chunk_loss, chunk_qg, student + base,
                                                 teacher + base, n, inv_t, student_lse, teacher_lse,
                                                 c.beta, 0.0f, c.soft_coef);
            divergence += chunk_loss;
            qg_total += chunk_qg;
        } else if (write_in_pass_2) {
            std::fill(g, g + n, 0.0f);
        }
        if (write_in_pass_2) {
            if (c.hard) add_hard_gradient(g, student + base, n, base, label, raw_lse, c.hard_coef);
            store_converted(grad_row + base, g, n);
        }
    }

    // pass 3
    if (grad_row != nullptr && !write_in_pass_2) {
        const float g_bar = static_cast<float>(qg_total);
        for (int64_t base = 0; base < vocab; base += row_chunk) {
            const int64_t n = std::min(row_chunk, vocab - base);
            float unused_loss = 0.0f;
            float unused_qg = 0.0f;
            dense_divergence_chunk<D, true>(g, unused_loss, unused_qg, student + base,
                                            teacher + base, n, inv_t, student_lse, teacher_lse,
                                            c.beta, g_bar, c.soft_coef);
            if (c.hard) add_hard_gradient(g, student + base, n, base, label, raw_lse, c.hard_coef);
            store_converted(grad_row + base, g, n);
        }
    }

    float row_loss = c.soft ? c.soft_scale * static_cast<float>(divergence) : 0.0f;
    if (c.hard) row_loss += c.hard_weight * (raw_lse - to_float(student[label]));
    return row_loss;
}

template <divergence_kind D, class S, class T>
void dense_rows(const dense_job & job, const row_constants & c, int64_t begin, int64_t end) {
    const kd_loss_params & params = *job.params;
    const int64_t vocab = params.vocab;
    const S * student = static_cast<const S *>(job.student);
    const T * teacher = static_cast<const T *>(job.teacher);
    S * grad = static_cast<S *>(job.grad);
    for (int64_t row = begin; row < end; ++row) {
        S * grad_row = grad != nullptr ? grad + row * vocab : nullptr;
        const row_label label = read_row_label(job.labels, params, row);
        if (label.ignored) {
            job.row_losses[row] = 0.0f;
            if (grad_row != nullptr) zero_row(grad_row, vocab);
            continue;
        }
        job.row_losses[row] =
            dense_row<D>(grad_row, student + row * vocab, teacher + row * vocab, label.value, c);
    }
}

template <class S, class T>
void dense_rows_for_types(const dense_job & job, const row_constants & c, int64_t begin,
                          int64_t end) {
    switch (job.params->divergence) {
    case divergence_kind::forward_kl:
        return dense_rows<divergence_kind::forward_kl, S, T>(job, c, begin, end);
    case divergence_kind::reverse_kl:
        return dense_rows<divergence_kind::reverse_kl, S, T>(job, c, begin, end);
    case divergence_kind::jsd: return dense_rows<divergence_kind::jsd, S, T>(job, c, begin, end);
    case divergence_kind::tvd: return dense_rows<divergence_kind::tvd, S, T>(job, c, begin, end);
    }
}

template <class S>
void dense_rows_for_student(const dense_job & job, const row_constants & c, int64_t begin,
                            int64_t end) {
    switch (job.params->teacher_type) {
    case scalar_type::f32: return dense_rows_for_types<S, float>(job, c, begin, end);
    case scalar_type::bf16: return dense_rows_for_types<S, bf16_bits>(job, c, begin, end);
    case scalar_type::f16: return dense_rows_for_types<S, fp16>(job, c, begin, end);
    }
}

void dense_row_range(const dense_job & job, int64_t begin, int64_t end) {
    const row_constants c = make_row_constants(*job.params, job.grad_scale);
    switch (job.params->student_type) {
    case scalar_type::f32: return dense_rows_for_student<float>(job, c, begin, end);
    case scalar_type::bf16: return dense_rows_for_student<bf16_bits>(job, c, begin, end);
    case scalar_type::f16: return dense_rows_for_student<fp16>(job, c, begin, end);
    }
}

}  // namespace

void kd_loss_dense(float * row_losses, void * grad, const void * student, const void * teacher,
                   const void * labels, const kd_loss_params & params, float grad_scale,
                   int num_threads) {
    const dense_job job{row_losses, grad, student, teacher, labels, &params, grad_scale};
    for_each_row_range(params.rows, row_threads(params.rows, params.vocab, num_threads),
                       [&](int64_t begin, int64_t end, int) { dense_row_range(job, begin, end); });
}

}  // namespace distill::kernels::cpu::DISTILL_CPU_ISA
