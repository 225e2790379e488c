// The metrics a training step reports beside its loss, from the logits of
// its own forward pass: accuracy against the batch's labels and top-1
// agreement with its teacher, both by train/metrics.h's top1_class.
#pragma once

#include <cstdint>

#include "train/training_batch.h"

namespace distill {

struct step_metrics {
    float accuracy;   // NaN without labels, or when every row is ignore_index
    float agreement;  // NaN without a teacher
};

// logits: the student's [B, C] for the batch. Rows labelled ignore_index
// have no label to be accurate against and count for neither side of the
// accuracy; every row counts for the agreement (dense teacher: the top-1 of
// its logits; top-k: the id of its largest log-probability).
step_metrics batch_step_metrics(const float * logits, int64_t classes, const checked_batch & batch,
                                const batch_tensors & tensors, int64_t ignore_index);

}  // namespace distill
