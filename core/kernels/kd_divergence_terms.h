// Per-category terms of the divergence family, shared by the CPU and CUDA
// kernels. A "category" is one vocabulary entry (dense and the part of a
// top-k row inside the top-k) or the bucket of everything outside the top-k.
//
// For a category with teacher mass p and student mass q (and their logs):
//   loss  its contribution to D(p, q)
//   qg    q · ∂D/∂q
// With ḡ = Σ_c qg_c (over all categories), the gradient with respect to
// the tempered student logit s_i = z_i / T of a vocabulary entry i in
// category c is  q_i · (g_c − ḡ)  where g_c = qg_c / q_c; for a category of
// one entry that is  qg_c − q_c · ḡ. (Softmax Jacobian: ∂q_c/∂s_j =
// q_j (δ_{c,c(j)} − q_c).) Forward KL has ḡ = −Σ p = −1 exactly.
#pragma once

#include "backend/kd_loss_params.h"

#if defined(__CUDACC__)
#define DISTILL_HD __host__ __device__ __forceinline__
#else
#define DISTILL_HD [[gnu::always_inline]] inline
#endif

namespace distill::kernels {

struct category_term {
    float loss;
    float qg;
};

// LogFn: a functor float -> float computing the natural log (the CPU and
// the GPU each bring their own). Used by JSD only, for log m.
// Written branch-free (selects between values already computed, never a
// conditional operation), so that the CPU's vectoriser can if-convert the
// loops that call it; on the GPU it is equally cheap.
template <divergence_kind D, class LogFn>
DISTILL_HD category_term divergence_term(float beta, float p, float q, float log_p, float log_q,
                                         LogFn log_fn) {
    category_term term{0.0f, 0.0f};
    if constexpr (D == divergence_kind::forward_kl) {
        const float log_ratio = log_p - log_q;
        term.loss = p * (p > 0.0f ? log_ratio : 0.0f);  // 0·log 0 = 0
        term.qg = -p;
    } else if constexpr (D == divergence_kind::reverse_kl) {
        const float log_ratio = log_q - log_p;
        const bool has_mass = q > 0.0f;
        term.loss = q * (has_mass ? log_ratio : 0.0f);
        term.qg = q * (has_mass ? log_ratio + 1.0f : 0.0f);
    } else if constexpr (D == divergence_kind::jsd) {
        const float m = beta * p + (1.0f - beta) * q;
        const float log_m = log_fn(m);
        const float teacher_log_ratio = log_p - log_m;
        const float student_log_ratio = log_q - log_m;
        const float teacher_part = beta * p * (p > 0.0f ? teacher_log_ratio : 0.0f);
        const float student_part = (1.0f - beta) * q * (q > 0.0f ? student_log_ratio : 0.0f);
        term.loss = teacher_part + student_part;
        term.qg = student_part;
    } else {  // tvd
        const float diff = q - p;
        const float sign = diff > 0.0f ? 1.0f : (diff < 0.0f ? -1.0f : 0.0f);
        term.loss = 0.5f * sign * diff;  // ½|q − p|
        term.qg = 0.5f * sign * q;
    }
    return term;
}

}  // namespace distill::kernels
