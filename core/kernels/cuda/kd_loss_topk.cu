// Distillation loss against a top-k teacher, CUDA. One block per row, the
// passes of core/kernels/cpu/kd_loss_topk.cpp:
//   scan     over K: the ids are in [0, V) and the log-probabilities are
//            not NaN/+inf with Σ exp ≤ 1 + tolerance (else the row is NaN:
//            the checks the CPU path makes on the host), Σ exp(l) and max l/T
//   bitmap   the ids' bits (kd_loss_topk_mask.h says where it lives); an
//            id whose bit is already set is repeated: the row is NaN (the
//            CPU refuses such a row)
//   pass 1   online log-sum-exp of s = z/T (and of z for a hard term with
//            T ≠ 1) over V, and of s over the entries outside the top-k,
//            found in the bitmap                             (reads z)
//   top-k    K + 1 categories, the ids and the rest: teacher p (renormalised,
//            or with the tail as p_rest), student q_k at the ids and
//            q_rest = Σ q outside the ids (summed, never 1 − Σ q_k, which
//            loses the tail when the top-k mass is near 1); Σ of the terms and ḡ
//   pass 2   gradient of every entry as a member of the rest:
//            soft_coef · q_i · (g_rest − ḡ)                    (reads z; writes grad)
//   fix-up   after a barrier, the K ids get soft_coef · (qg_k − q_k · ḡ).
// RENORMALIZE is the same computation with p_rest = 0.
// Shapes: z, grad [N, V]; ids, logprobs [N, K]; labels [N]; row_losses [N].
#include "kernels/kd_divergence_terms.h"
#include "kd_loss_cuda.cuh"
#include "kd_loss_topk_mask.h"

namespace distill::kernels::cuda {
namespace {

// The scan of a row's K teacher entries, merged across threads.
struct teacher_scan {
    double mass;       // Σ exp(l_k), in fp64 as on the CPU
    float max_scaled;  // max l_k / T
    int bad;           // an id outside [0, V) or a NaN/+inf log-probability
};

__device__ __forceinline__ teacher_scan shuffle_xor(teacher_scan v, int mask) {
    return {__shfl_xor_sync(0xffffffffu, v.mass, mask),
            __shfl_xor_sync(0xffffffffu, v.max_scaled, mask),
            __shfl_xor_sync(0xffffffffu, v.bad, mask)};
}

struct teacher_scan_merge {
    __device__ __forceinline__ teacher_scan operator()(teacher_scan a, teacher_scan b) const {
        return {a.mass + b.mass, fmaxf(a.max_scaled, b.max_scaled), a.bad | b.bad};
    }
};

// One top-k category: student mass q, q·∂D/∂q and the divergence's term.
// Called by the loss sum and again by the fix-up, with the same arguments,
// so both see the same bits.
struct topk_category {
    float q;
    float qg;
    float loss;
};

template <divergence_kind D>
__device__ __forceinline__ topk_category topk_entry(float z_at_id, float logprob, float inv_t,
                                                    float student_lse, float teacher_log_norm,
                                                    float beta) {
    const float log_q = z_at_id * inv_t - student_lse;
    const float log_p = logprob * inv_t - teacher_log_norm;
    const float q = expf(log_q);
    const float p = expf(log_p);
    const category_term term = divergence_term<D>(beta, p, q, log_p, log_q, fp32_log{});
    return {q, term.qg, term.loss};
}

//   row_losses [N]; grad [N, V] or nullptr; student [N, V]; topk_ids [N, K]
//   (topk_id_type); logprobs [N, K]; labels [N] or nullptr; grad_scale
//   device scalar or nullptr (= 1). mask_words: ⌈V / 32⌉, the words of a
//   row's id bitmap; global_masks: [gridDim.x, mask_words] scratch, or
//   nullptr when the bitmap is the dynamic shared memory.
template <divergence_kind D, class S, class L>
__global__ void __launch_bounds__(max_row_block_threads)
    kd_loss_topk_kernel(float * __restrict__ row_losses, S * __restrict__ grad,
                        const S * __restrict__ student, const void * __restrict__ topk_ids,
                        const L * __restrict__ topk_logprobs, const void * __restrict__ labels,
                        row_constants c, const float * __restrict__ grad_scale,
                        int64_t mask_words, uint32_t * __restrict__ global_masks) {
    extern __shared__ uint32_t shared_mask[];
    uint32_t * const topk_mask =
        global_masks != nullptr ? global_masks + blockIdx.x * mask_words : shared_mask;
    const gradient_factors f = read_gradient_factors(c, grad_scale);
    const int64_t vocab = c.vocab;
    const int64_t k = c.topk;
    const float inv_t = c.inv_temperature;
    const bool separate_raw_lse = c.hard && !c.temperature_is_one;
    constexpr bool fused = D == divergence_kind::forward_kl;

    for (int64_t row = blockIdx.x; row < c.rows; row += gridDim.x) {
        const S * z = student + row * vocab;
        const L * logprobs = topk_logprobs + row * k;
        const int64_t ids_at = row * k;  // element offset of the row's ids
        S * g = grad != nullptr ? grad + row * vocab : nullptr;

        // Uniform across the block: every branch below is taken by all threads.
        const row_label label = read_row_label(labels, c, row);
        if (label.ignored || label.invalid) {
            const float value = label.ignored ? 0.0f : quiet_nan();
            if (g != nullptr) fill_row(g, vocab, value);
            if (threadIdx.x == 0) row_losses[row] = value;
            continue;
        }

        // scan
        teacher_scan scan{0.0, negative_infinity(), 0};
        for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
            const int64_t id = load_index(topk_ids, c.topk_id_type, ids_at + j);
            const float l = to_float(logprobs[j]);
            scan.bad |= (id < 0 || id >= vocab || l != l || l == INFINITY) ? 1 : 0;
            scan.mass += exp(static_cast<double>(l));
            scan.max_scaled = fmaxf(scan.max_scaled, l * inv_t);
        }
        scan = block_reduce(scan, teacher_scan_merge{});
        if (scan.bad != 0 || scan.mass > 1.0 + static_cast<double>(topk_mass_tolerance)) {
            if (g != nullptr) fill_row(g, vocab, quiet_nan());
            if (threadIdx.x == 0) row_losses[row] = quiet_nan();
            continue;
        }

        // The row's ids in the bitmap; a bit found set is a repeated id.
        // The previous row's last reads of the bitmap (pass 1) are behind
        // the block reductions' barriers (or this row's scan's).
        for (int64_t w = threadIdx.x; w < mask_words; w += blockDim.x) topk_mask[w] = 0u;
        __syncthreads();
        int repeated = 0;
        for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
            const int64_t id = load_index(topk_ids, c.topk_id_type, ids_at + j);
            const uint32_t bit = 1u << (id & 31);
            repeated |= (atomicOr(&topk_mask[id >> 5], bit) & bit) != 0u ? 1 : 0;
        }
        if (__syncthreads_or(repeated) != 0) {
            if (g != nullptr) fill_row(g, vocab, quiet_nan());
            if (threadIdx.x == 0) row_losses[row] = quiet_nan();
            continue;
        }

        // pass 1: (student, untempered student, student outside the top-k)
        // log-sum-exp
        tuple_of<lse_state, 3> lse{{lse_empty(), lse_empty(), lse_empty()}};
        for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
            const float zi = to_float(z[i]);
            lse_add(lse.v[0], zi * inv_t);
            if (separate_raw_lse) lse_add(lse.v[1], zi);
            if (((topk_mask[i >> 5] >> (i & 31)) & 1u) == 0u) lse_add(lse.v[2], zi * inv_t);
        }
        lse = block_reduce(lse, elementwise<lse_merge>{});
        const float student_lse = lse_value(lse.v[0]);
        const float raw_lse =
            c.hard ? (c.temperature_is_one ? student_lse : lse_value(lse.v[1])) : 0.0f;
        const float rest_lse = lse_value(lse.v[2]);  // −inf when K = V

        // top-k categories
        double divergence = 0.0;
        float g_bar = 0.0f;
        float g_rest = 0.0f;
        float teacher_log_norm = 0.0f;
        if (c.soft) {
            // Teacher normaliser over the K entries and the tail (if kept):
            // log Z = log(Σ exp(l_k/T) + tail^(1/T)), shifted by the max.
            float log_tail_scaled = negative_infinity();
            if (c.tail_bucket) {
                const double tail = 1.0 - scan.mass;
                if (tail >= topk_tail_rounding_floor)
                    log_tail_scaled = static_cast<float>(log(tail)) * inv_t;
            }
            const float shift = fmaxf(scan.max_scaled, log_tail_scaled);
            double exp_part = 0.0;
            for (int64_t j = threadIdx.x; j < k; j += blockDim.x)
                exp_part += exp(static_cast<double>(to_float(logprobs[j]) * inv_t - shift));
            double exp_sum = block_reduce(exp_part, sum_op{});
            if (log_tail_scaled != negative_infinity()) exp_sum += expf(log_tail_scaled - shift);
            teacher_log_norm = shift + static_cast<float>(log(exp_sum));
            const float log_p_rest = log_tail_scaled - teacher_log_norm;

            // Σ over the K categories: q, loss, qg.
            tuple_of<double, 3> parts{{0.0, 0.0, 0.0}};
            for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
                const int64_t id = load_index(topk_ids, c.topk_id_type, ids_at + j);
                const topk_category cat =
                    topk_entry<D>(to_float(z[id]), to_float(logprobs[j]), inv_t, student_lse,
                                  teacher_log_norm, c.beta);
                parts.v[0] += cat.q;
                parts.v[1] += cat.loss;
                parts.v[2] += cat.qg;
            }
            parts = block_reduce(parts, elementwise<sum_op>{});

            // The rest.
            const float q_rest = expf(rest_lse - student_lse);
            const float p_rest = expf(log_p_rest);
            const category_term rest =
                divergence_term<D>(c.beta, p_rest, q_rest, log_p_rest, logf(q_rest), fp32_log{});
            divergence = parts.v[1] + rest.loss;
            const double qg_total = parts.v[2] + rest.qg;
            g_bar = fused ? -1.0f : static_cast<float>(qg_total);
            g_rest = q_rest > 0.0f ? rest.qg / q_rest : 0.0f;
        }

        if (g != nullptr) {
            // pass 2: every entry as a member of the rest
            const float rest_factor = c.soft ? f.soft_coef * (g_rest - g_bar) : 0.0f;
            for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
                const float zi = to_float(z[i]);
                float gi = rest_factor * expf(zi * inv_t - student_lse);
                if (c.hard) gi = add_hard_gradient(gi, zi, i, label.value, raw_lse, f.hard_coef);
                g[i] = from_float<S>(gi);
            }
            // fix-up: the ids are categories of their own. The barrier
            // orders pass 2's stores before these (other threads') stores
            // to the same entries. Reads z only (grad never aliases z).
            if (c.soft) {
                __syncthreads();
                for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
                    const int64_t id = load_index(topk_ids, c.topk_id_type, ids_at + j);
                    const float z_id = to_float(z[id]);
                    const topk_category cat = topk_entry<D>(z_id, to_float(logprobs[j]), inv_t,
                                                            student_lse, teacher_log_norm, c.beta);
                    float value = f.soft_coef * (cat.qg - cat.q * g_bar);
                    if (c.hard) {
                        value += f.hard_coef * expf(z_id - raw_lse);
                        if (id == label.value) value -= f.hard_coef;
                    }
                    g[id] = from_float<S>(value);
                }
            }
        }

        if (threadIdx.x == 0) {
            float row_loss = c.soft ? c.soft_scale * static_cast<float>(divergence) : 0.0f;
            if (c.hard) row_loss += c.hard_weight * (raw_lse - to_float(z[label.value]));
            row_losses[row] = row_loss;
        }
    }
}

template <divergence_kind D, class S, class L>
cudaError_t launch_typed(float * row_losses, void * grad, const void * student, const void * ids,
                         const void * logprobs, const void * labels, const row_constants & c,
                         const float * grad_scale, cudaStream_t stream) {
    // The ids' bitmap: in shared memory up to the device's opt-in limit less
    // the kernel's static shared memory, else in global scratch, one per
    // block of a grid of a few blocks per multiprocessor (kd_loss_topk_mask.h).
    const auto kernel = kd_loss_topk_kernel<D, S, L>;
    cudaFuncAttributes attributes{};
    cudaError_t failure = cudaFuncGetAttributes(&attributes, kernel);
    int device = 0;
    int opt_in = 0;
    int multiprocessors = 0;
    if (failure == cudaSuccess) failure = cudaGetDevice(&device);
    if (failure == cudaSuccess)
        failure = cudaDeviceGetAttribute(&opt_in, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    if (failure == cudaSuccess)
        failure = cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, device);
    if (failure != cudaSuccess) return failure;
    const topk_mask_plan plan =
        plan_topk_mask(c.vocab, attributes.sharedSizeBytes, static_cast<size_t>(opt_in));
    if (plan.place == topk_mask_place::shared_opt_in) {
        // The device's whole allowance, not this call's size: concurrent
        // calls with other V then set the same value, and none can lower
        // the limit under another's launch.
        failure = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       opt_in - static_cast<int>(attributes.sharedSizeBytes));
        if (failure != cudaSuccess) return failure;
    }
    unsigned blocks = row_grid_blocks(c.rows);
    uint32_t * global_masks = nullptr;
    if (plan.place == topk_mask_place::global) {
        const int64_t few = 2 * static_cast<int64_t>(multiprocessors);
        blocks = static_cast<unsigned>(c.rows < few ? c.rows : few);
        failure = cudaMallocAsync(reinterpret_cast<void **>(&global_masks),
                                  static_cast<size_t>(blocks) * static_cast<size_t>(plan.words) *
                                      sizeof(uint32_t),
                                  stream);
        if (failure != cudaSuccess) return failure;
    }
    kernel<<<blocks, row_block_threads(c.vocab), plan.shared_bytes, stream>>>(
        row_losses, static_cast<S *>(grad), static_cast<const S *>(student), ids,
        static_cast<const L *>(logprobs), labels, c, grad_scale, plan.words, global_masks);
    failure = cudaGetLastError();
    if (global_masks != nullptr) {
        const cudaError_t freed = cudaFreeAsync(global_masks, stream);
        if (failure == cudaSuccess) failure = freed;
    }
    return failure;
}

template <class S, class L>
cudaError_t launch_for_types(float * row_losses, void * grad, const void * student,
                             const void * ids, const void * logprobs, const void * labels,
                             const row_constants & c, divergence_kind divergence,
                             const float * grad_scale, cudaStream_t stream) {
    switch (divergence) {
    case divergence_kind::forward_kl:
        return launch_typed<divergence_kind::forward_kl, S, L>(
            row_losses, grad, student, ids, logprobs, labels, c, grad_scale, stream);
    case divergence_kind::reverse_kl:
        return launch_typed<divergence_kind::reverse_kl, S, L>(
            row_losses, grad, student, ids, logprobs, labels, c, grad_scale, stream);
    case divergence_kind::jsd:
        return launch_typed<divergence_kind::jsd, S, L>(row_losses, grad, student, ids, logprobs,
                                                        labels, c, grad_scale, stream);
    case divergence_kind::tvd:
        return launch_typed<divergence_kind::tvd, S, L>(row_losses, grad, student, ids, logprobs,
                                                        labels, c, grad_scale, stream);
    }
    return cudaErrorInvalidValue;
}

template <class S>
cudaError_t launch_for_student(float * row_losses, void * grad, const void * student,
                               const void * ids, const void * logprobs, const void * labels,
                               const kd_loss_params & params, const row_constants & c,
                               const float * grad_scale, cudaStream_t stream) {
    switch (params.teacher_type) {
    case scalar_type::f32:
        return launch_for_types<S, float>(row_losses, grad, student, ids, logprobs, labels, c,
                                          params.divergence, grad_scale, stream);
    case scalar_type::bf16:
        return launch_for_types<S, __nv_bfloat16>(row_losses, grad, student, ids, logprobs, labels,
                                                  c, params.divergence, grad_scale, stream);
    case scalar_type::f16:
        return launch_for_types<S, __half>(row_losses, grad, student, ids, logprobs, labels, c,
                                           params.divergence, grad_scale, stream);
    }
    return cudaErrorInvalidValue;
}

}  // namespace

cudaError_t launch_kd_loss_topk(float * row_losses, void * grad, const void * student,
                                const void * topk_ids, const void * topk_logprobs,
                                const void * labels, const kd_loss_params & params,
                                const float * grad_scale, cudaStream_t stream) {
    if (params.rows <= 0) return cudaSuccess;  // an empty grid is not a launch
    const row_constants c = make_row_constants(params);
    switch (params.student_type) {
    case scalar_type::f32:
        return launch_for_student<float>(row_losses, grad, student, topk_ids, topk_logprobs, labels,
                                         params, c, grad_scale, stream);
    case scalar_type::bf16:
        return launch_for_student<__nv_bfloat16>(row_losses, grad, student, topk_ids, topk_logprobs,
                                                 labels, params, c, grad_scale, stream);
    case scalar_type::f16:
        return launch_for_student<__half>(row_losses, grad, student, topk_ids, topk_logprobs,
                                          labels, params, c, grad_scale, stream);
    }
    return cudaErrorInvalidValue;
}

}  // namespace distill::kernels::cuda
