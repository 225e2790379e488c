// The batch of one training step (student_trainer::step), and the checks
// it passes before anything runs: its tensors against each other, the
// model and the loss, so a bad batch is refused with the model unchanged.
#pragma once

#include <cstdint>

#include <dlpack/dlpack.h>

#include "losses/kd_loss.h"

namespace distill {

// One batch; every tensor a CPU tensor; the optional ones may be null.
struct batch_tensors {
    const DLTensor * inputs = nullptr;                 // fp32 [B, D]
    const DLTensor * labels = nullptr;                 // int64 [B]
    const DLTensor * teacher_logits = nullptr;         // [B, C]
    const DLTensor * teacher_topk_ids = nullptr;       // [B, K]
    const DLTensor * teacher_topk_logprobs = nullptr;  // [B, K]
};

// What check_batch found: the inputs and labels as host arrays, and which
// teacher the batch carries.
struct checked_batch {
    const float * inputs = nullptr;    // [B, D]
    int64_t rows = 0;                  // B
    const int64_t * labels = nullptr;  // [B], or null
    bool dense = false;                // teacher_logits given
    bool topk = false;                 // teacher_topk_ids and _logprobs given
};

// Refuses (invalid_argument, naming the tensor, what was expected and what
// was got) a batch whose inputs are not fp32 [B, features]; whose teacher
// is both dense and top-k, or half of a top-k pair; that lacks the teacher
// a loss with soft_weight > 0 needs, or the labels of hard_weight > 0;
// whose labels, teacher logits or top-k tensors do not have B rows, the
// dtypes above, or (ids) the logprobs' shape; or that is not on the CPU.
checked_batch check_batch(const batch_tensors & batch, const kd_loss_options & loss,
                          int64_t features);

}  // namespace distill
