// The CUDA kd-loss ops as seen by cuda_backend.cu: their launchers, and
// the per-call constants and reduction state they share. Each launcher
// enqueues on `stream` and returns the launch's error (cudaGetLastError),
// never synchronising with the host.
//
// Legend: N rows, V vocabulary entries per row, K top-k entries per row.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "backend/kd_loss_params.h"
#include "cuda_math.cuh"

namespace distill::kernels::cuda {

// distill_reduction values (capi/include/distill/distill.h).
enum class reduction_kind : int32_t { batchmean = 0, sum = 1, none = 2 };

// Everything a row kernel needs from the call; fixed for the whole call and
// passed by value (kernel parameter space). The gradient factors that
// depend on the number of active rows are completed on the device.
struct row_constants {
    int64_t rows;
    int64_t vocab;
    int64_t topk;
    int64_t ignore_index;
    float inv_temperature;
    float beta;
    float soft_scale;   // multiplies the divergence in the row loss
    float hard_weight;  // multiplies the hard loss
    index_type label_type;
    index_type topk_id_type;
    bool soft;  // soft_scale != 0
    bool hard;  // hard_weight != 0 and labels given
    bool temperature_is_one;
    bool tail_bucket;
};

inline row_constants make_row_constants(const kd_loss_params & params) {
    row_constants c{};
    c.rows = params.rows;
    c.vocab = params.vocab;
    c.topk = params.topk;
    c.ignore_index = params.ignore_index;
    c.inv_temperature = params.inv_temperature;
    c.beta = params.beta;
    c.soft_scale = params.soft_scale;
    c.hard_weight = params.hard_weight;
    c.label_type = params.label_type;
    c.topk_id_type = params.topk_id_type;
    c.soft = params.soft_scale != 0.0f;
    c.hard = params.hard_weight != 0.0f && params.label_type != index_type::none;
    c.temperature_is_one = params.temperature == 1.0f;
    c.tail_bucket = params.tail_bucket;
    return c;
}

// One row's label: `ignored` when it equals ignore_index, `invalid` when it
// is neither that nor in [0, V) (the row's loss becomes NaN). value = −1
// when there are no labels.
struct row_label {
    int64_t value;
    bool ignored;
    bool invalid;
};

__device__ __forceinline__ row_label read_row_label(const void * labels, const row_constants & c,
                                                    int64_t row) {
    if (c.label_type == index_type::none) return {-1, false, false};
    const int64_t label = load_index(labels, c.label_type, row);
    if (label == c.ignore_index) return {label, true, false};
    return {label, false, label < 0 || label >= c.vocab};
}

// The gradient factors of one call, from the device-side grad_scale
// (nullptr = 1: reductions sum and none).
struct gradient_factors {
    float soft_coef;  // soft_scale / T · grad_scale: the divergence's factor
    float hard_coef;  // hard_weight · grad_scale
};

__device__ __forceinline__ gradient_factors read_gradient_factors(const row_constants & c,
                                                                  const float * grad_scale) {
    const float scale = grad_scale != nullptr ? *grad_scale : 1.0f;
    return {c.soft_scale * c.inv_temperature * scale, c.hard_weight * scale};
}

// Written on the device by the count kernel before the row kernels run.
struct reduction_state {
    long long active_rows;  // rows whose label is not ignore_index
    float grad_scale;       // 1 / active_rows, or 0 when no row is active
};

// The device memory of one call's reduction.
struct reduction_buffers {
    void * allocation = nullptr;         // cudaMallocAsync'd, freed by finish_reduction
    float * row_losses = nullptr;        // [N]: scratch, or loss_out itself for NONE
    reduction_state * state = nullptr;   // BATCHMEAN only
    const float * grad_scale = nullptr;  // &state->grad_scale, or nullptr (= 1)
};

// kd_loss_reduce.cu. Enqueued on `stream`, before the row kernels:
//   NONE            row_losses = loss_out [N]; nothing else.
//   SUM, BATCHMEAN  scratch row_losses [N] (cudaMallocAsync); BATCHMEAN
//                   also counts the active rows into the scratch's state.
//                   N = 0: loss_out[0] = 0 and no scratch.
// labels: NULL or [N]. Call finish_reduction afterwards even on failure.
cudaError_t begin_reduction(reduction_buffers * buffers, float * loss_out, reduction_kind reduction,
                            const void * labels, const row_constants & c, cudaStream_t stream);

// kd_loss_reduce.cu. When there is a scratch: if `reduce` (the row kernels
// were enqueued), sums the row losses in a fixed order into loss_out[0]
// (÷ active rows for BATCHMEAN); then frees the scratch, in any case.
cudaError_t finish_reduction(const reduction_buffers & buffers, float * loss_out, int64_t rows,
                             bool reduce, cudaStream_t stream);

// kd_loss_dense.cu.
//   row_losses  [N] fp32        grad       [N, V] student_type, or nullptr
//   student     [N, V]          teacher    [N, V] teacher_type
//   labels      [N] or nullptr  grad_scale device scalar, or nullptr (= 1)
cudaError_t launch_kd_loss_dense(float * row_losses, void * grad, const void * student,
                                 const void * teacher, const void * labels,
                                 const kd_loss_params & params, const float * grad_scale,
                                 cudaStream_t stream);

// kd_loss_topk.cu.
//   topk_ids [N, K] topk_id_type; topk_logprobs [N, K] teacher_type.
//   Other arguments as launch_kd_loss_dense.
cudaError_t launch_kd_loss_topk(float * row_losses, void * grad, const void * student,
                                const void * topk_ids, const void * topk_logprobs,
                                const void * labels, const kd_loss_params & params,
                                const float * grad_scale, cudaStream_t stream);

// One block per row: 512 threads for long rows (fewer rows in flight need
// more threads each to keep memory busy), 256 otherwise.
inline unsigned row_block_threads(int64_t vocab) { return vocab >= 16384 ? 512u : 256u; }
inline constexpr unsigned max_row_block_threads = 512;

// Rows beyond the grid limit are walked by a grid-stride loop.
inline unsigned row_grid_blocks(int64_t rows) {
    constexpr int64_t max_blocks = 2147483647;
    return static_cast<unsigned>(rows < max_blocks ? rows : max_blocks);
}

// grad[i] = soft part + hard_coef · (softmax(z)_i − [i == label]), in the
// CPU's order of operations (add the softmax, then subtract at the label).
__device__ __forceinline__ float add_hard_gradient(float g, float z, int64_t i, int64_t label,
                                                   float raw_lse, float hard_coef) {
    g += hard_coef * expf(z - raw_lse);
    if (i == label) g -= hard_coef;
    return g;
}

}  // namespace distill::kernels::cuda
