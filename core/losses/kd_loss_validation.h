// Argument checks of the loss family, separate from the dispatch so each
// reads on its own. Every failure throws distill::error with a message that
// names the argument, the expected and the actual value.
#pragma once

#include <cstdint>

#include <dlpack/dlpack.h>

#include "backend/context.h"
#include "backend/kd_loss_params.h"
#include "kd_loss.h"

namespace distill {

// Options → kernel parameters (JSD's endpoints resolved to forward/reverse
// KL). Shapes are filled in by the callers below.
kernels::kd_loss_params resolve_options(const kd_loss_options & options);

// The tensors common to both teacher forms: student [N, V], labels [N],
// loss, gradient. Fills rows, vocab, student_type, label_type.
void check_student_side(const context & ctx, const kd_loss_options & options,
                        const DLTensor * student_logits, const DLTensor * labels,
                        const DLTensor * loss, const DLTensor * grad,
                        kernels::kd_loss_params & params);

void check_dense_teacher(const context & ctx, const DLTensor * teacher_logits,
                         kernels::kd_loss_params & params);

void check_topk_teacher(const context & ctx, const DLTensor * teacher_topk_ids,
                        const DLTensor * teacher_topk_logprobs, kernels::kd_loss_params & params);

// Value checks that need to read host memory (CPU contexts only; on CUDA
// the kernels flag bad rows with NaN instead of synchronising).
void check_label_values(const void * labels, const kernels::kd_loss_params & params);
void check_topk_values(const void * ids, const void * logprobs,
                       const kernels::kd_loss_params & params);

// The number of rows that count: N minus rows whose label is ignore_index.
int64_t count_active_rows(const void * labels, const kernels::kd_loss_params & params);

}  // namespace distill
