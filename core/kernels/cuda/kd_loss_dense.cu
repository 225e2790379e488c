// Distillation loss against a dense teacher, CUDA. One block per row; each
// thread walks the row with stride blockDim.x (coalesced loads), fp32 in
// registers, block totals merged in a fixed order. The passes are those of
// core/kernels/cpu/kd_loss_dense.cpp:
//   pass 1  online log-sum-exp of s = z/T, of x = t/T, and (hard term with
//           T ≠ 1) of the untempered z                          (reads z, t)
//   pass 2  Σ of the divergence's terms and ḡ = Σ q·∂D/∂q      (reads z, t)
//           forward KL writes its gradient here (ḡ = −1 is known), as does
//           a call without the soft term
//   pass 3  other divergences: gradient q_i·(g_i − ḡ)           (reads z, t; writes grad)
// Shapes: z, t, grad [N, V]; labels [N]; row_losses [N].
#include "kernels/kd_divergence_terms.h"
#include "kd_loss_cuda.cuh"

namespace distill::kernels::cuda {
namespace {

// One vocabulary entry's term, from its tempered logits and the row's
// log-normalisers: {loss, qg} of kd_divergence_terms.h and q itself.
struct entry_term {
    float loss;
    float qg;
    float q;
};

template <divergence_kind D>
__device__ __forceinline__ entry_term dense_entry(float s, float x, float student_lse,
                                                  float teacher_lse, float beta) {
    const float log_q = s - student_lse;
    const float log_p = x - teacher_lse;
    const float q = expf(log_q);
    const float p = expf(log_p);
    const category_term term = divergence_term<D>(beta, p, q, log_p, log_q, fp32_log{});
    return {term.loss, term.qg, q};
}

//   row_losses [N]; grad [N, V] or nullptr; student, teacher [N, V];
//   labels [N] or nullptr; grad_scale device scalar or nullptr (= 1).
template <divergence_kind D, class S, class T>
__global__ void __launch_bounds__(max_row_block_threads)
    kd_loss_dense_kernel(float * __restrict__ row_losses, S * __restrict__ grad,
                         const S * __restrict__ student, const T * __restrict__ teacher,
                         const void * __restrict__ labels, row_constants c,
                         const float * __restrict__ grad_scale) {
    const gradient_factors f = read_gradient_factors(c, grad_scale);
    const int64_t vocab = c.vocab;
    const float inv_t = c.inv_temperature;
    const bool separate_raw_lse = c.hard && !c.temperature_is_one;
    constexpr bool fused = D == divergence_kind::forward_kl;

    for (int64_t row = blockIdx.x; row < c.rows; row += gridDim.x) {
        const S * z = student + row * vocab;
        const T * t = teacher + row * vocab;
        S * g = grad != nullptr ? grad + row * vocab : nullptr;

        // The label is the same for every thread, so every branch on it is
        // taken by the whole block (the reductions below need all threads).
        const row_label label = read_row_label(labels, c, row);
        if (label.ignored || label.invalid) {
            const float value = label.ignored ? 0.0f : quiet_nan();
            if (g != nullptr) fill_row(g, vocab, value);
            if (threadIdx.x == 0) row_losses[row] = value;
            continue;
        }

        // pass 1: (student, teacher, untempered student) log-sum-exp
        tuple_of<lse_state, 3> lse{{lse_empty(), lse_empty(), lse_empty()}};
        for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
            const float zi = to_float(z[i]);
            lse_add(lse.v[0], zi * inv_t);
            if (c.soft) lse_add(lse.v[1], to_float(t[i]) * inv_t);
            if (separate_raw_lse) lse_add(lse.v[2], zi);
        }
        lse = block_reduce(lse, elementwise<lse_merge>{});
        const float student_lse = lse_value(lse.v[0]);
        const float teacher_lse = lse_value(lse.v[1]);
        const float raw_lse =
            c.hard ? (c.temperature_is_one ? student_lse : lse_value(lse.v[2])) : 0.0f;

        // pass 2: Σ loss and Σ qg (and the gradient when it needs no ḡ)
        const bool write_in_pass_2 = g != nullptr && (fused || !c.soft);
        float loss_part = 0.0f;
        float qg_part = 0.0f;
        for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
            float gi = 0.0f;
            if (c.soft) {
                const entry_term e = dense_entry<D>(to_float(z[i]) * inv_t, to_float(t[i]) * inv_t,
                                                    student_lse, teacher_lse, c.beta);
                loss_part += e.loss;
                qg_part += e.qg;
                if constexpr (fused) gi = f.soft_coef * (e.qg - e.q * -1.0f);  // ḡ = −1
            }
            if (write_in_pass_2) {
                if (c.hard)
                    gi =
                        add_hard_gradient(gi, to_float(z[i]), i, label.value, raw_lse, f.hard_coef);
                g[i] = from_float<S>(gi);
            }
        }
        tuple_of<double, 2> totals{{loss_part, qg_part}};
        totals = block_reduce(totals, elementwise<sum_op>{});

        // pass 3: the gradient with the row's ḡ
        if (g != nullptr && !write_in_pass_2) {
            const float g_bar = static_cast<float>(totals.v[1]);
            for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
                const float zi = to_float(z[i]);
                const entry_term e = dense_entry<D>(zi * inv_t, to_float(t[i]) * inv_t, student_lse,
                                                    teacher_lse, c.beta);
                float gi = f.soft_coef * (e.qg - e.q * g_bar);
                if (c.hard) gi = add_hard_gradient(gi, zi, i, label.value, raw_lse, f.hard_coef);
                g[i] = from_float<S>(gi);
            }
        }

        if (threadIdx.x == 0) {
            float row_loss = c.soft ? c.soft_scale * static_cast<float>(totals.v[0]) : 0.0f;
            if (c.hard) row_loss += c.hard_weight * (raw_lse - to_float(z[label.value]));
            row_losses[row] = row_loss;
        }
    }
}

template <divergence_kind D, class S, class T>
cudaError_t launch_typed(float * row_losses, void * grad, const void * student,
                         const void * teacher, const void * labels, const row_constants & c,
                         const float * grad_scale, cudaStream_t stream) {
    kd_loss_dense_kernel<D, S, T>
        <<<row_grid_blocks(c.rows), row_block_threads(c.vocab), 0, stream>>>(
            row_losses, static_cast<S *>(grad), static_cast<const S *>(student),
            static_cast<const T *>(teacher), labels, c, grad_scale);
    return cudaGetLastError();
}

template <class S, class T>
cudaError_t launch_for_types(float * row_losses, void * grad, const void * student,
                             const void * teacher, const void * labels, const row_constants & c,
                             divergence_kind divergence, const float * grad_scale,
                             cudaStream_t stream) {
    switch (divergence) {
    case divergence_kind::forward_kl:
        return launch_typed<divergence_kind::forward_kl, S, T>(row_losses, grad, student, teacher,
                                                               labels, c, grad_scale, stream);
    case divergence_kind::reverse_kl:
        return launch_typed<divergence_kind::reverse_kl, S, T>(row_losses, grad, student, teacher,
                                                               labels, c, grad_scale, stream);
    case divergence_kind::jsd:
        return launch_typed<divergence_kind::jsd, S, T>(row_losses, grad, student, teacher, labels,
                                                        c, grad_scale, stream);
    case divergence_kind::tvd:
        return launch_typed<divergence_kind::tvd, S, T>(row_losses, grad, student, teacher, labels,
                                                        c, grad_scale, stream);
    }
    return cudaErrorInvalidValue;
}

template <class S>
cudaError_t launch_for_student(float * row_losses, void * grad, const void * student,
                               const void * teacher, const void * labels,
                               const kd_loss_params & params, const row_constants & c,
                               const float * grad_scale, cudaStream_t stream) {
    switch (params.teacher_type) {
    case scalar_type::f32:
        return launch_for_types<S, float>(row_losses, grad, student, teacher, labels, c,
                                          params.divergence, grad_scale, stream);
    case scalar_type::bf16:
        return launch_for_types<S, __nv_bfloat16>(row_losses, grad, student, teacher, labels, c,
                                                  params.divergence, grad_scale, stream);
    case scalar_type::f16:
        return launch_for_types<S, __half>(row_losses, grad, student, teacher, labels, c,
                                           params.divergence, grad_scale, stream);
    }
    return cudaErrorInvalidValue;
}

}  // namespace

cudaError_t launch_kd_loss_dense(float * row_losses, void * grad, const void * student,
                                 const void * teacher, const void * labels,
                                 const kd_loss_params & params, const float * grad_scale,
                                 cudaStream_t stream) {
    if (params.rows <= 0) return cudaSuccess;  // an empty grid is not a launch
    const row_constants c = make_row_constants(params);
    switch (params.student_type) {
    case scalar_type::f32:
        return launch_for_student<float>(row_losses, grad, student, teacher, labels, params, c,
                                         grad_scale, stream);
    case scalar_type::bf16:
        return launch_for_student<__nv_bfloat16>(row_losses, grad, student, teacher, labels, params,
                                                 c, grad_scale, stream);
    case scalar_type::f16:
        return launch_for_student<__half>(row_losses, grad, student, teacher, labels, params, c,
                                          grad_scale, stream);
    }
    return cudaErrorInvalidValue;
}

}  // namespace distill::kernels::cuda
