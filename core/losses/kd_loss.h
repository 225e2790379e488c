// The distillation-loss family: checks every argument, resolves the options
// into kernel parameters, and dispatches by device to the CPU kernels or
// the CUDA backend. Definitions: capi/include/distill/distill.h.
#pragma once

#include <cstdint>

#include <dlpack/dlpack.h>

#include "backend/context.h"
#include "backend/kd_loss_params.h"

namespace distill {

enum class reduction_kind : int32_t { batchmean = 0, sum = 1, none = 2 };

struct kd_loss_options {
    int32_t divergence = 0;  // distill_divergence, as given (checked here)
    float beta = 0.5f;
    float temperature = 1.0f;
    bool scale_by_t2 = true;
    float soft_weight = 1.0f;
    float hard_weight = 0.0f;
    int64_t ignore_index = -100;
    int32_t reduction = 0;  // distill_reduction
    int32_t tail = 0;       // distill_tail
};

// Throw distill::error on any invalid argument (nothing is written then).
void kd_loss_dense(const context & ctx, const kd_loss_options & options,
                   const DLTensor * student_logits, const DLTensor * teacher_logits,
                   const DLTensor * labels, DLTensor * loss, DLTensor * grad_student_logits);

void kd_loss_topk(const context & ctx, const kd_loss_options & options,
                  const DLTensor * student_logits, const DLTensor * teacher_topk_ids,
                  const DLTensor * teacher_topk_logprobs, const DLTensor * labels, DLTensor * loss,
                  DLTensor * grad_student_logits);

}  // namespace distill
