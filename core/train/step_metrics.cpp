#include "train/step_metrics.h"

#include <limits>

#include "tensor/tensor_checks.h"
#include "train/metrics.h"

namespace distill {

step_metrics batch_step_metrics(const float * logits, int64_t classes, const checked_batch & batch,
                                const batch_tensors & tensors, int64_t ignore_index) {
    constexpr float nan = std::numeric_limits<float>::quiet_NaN();
    step_metrics metrics{nan, nan};
    if (!batch.labels && !batch.dense && !batch.topk) return metrics;
    int64_t label_matches = 0, labelled_rows = 0, teacher_matches = 0;
    const float * teacher_logits =
        batch.dense ? static_cast<const float *>(data_pointer(*tensors.teacher_logits)) : nullptr;
    const int64_t teacher_width = batch.dense ? tensors.teacher_logits->shape[1] : 0;
    const float * topk_logprobs =
        batch.topk ? static_cast<const float *>(data_pointer(*tensors.teacher_topk_logprobs))
                   : nullptr;
    const int64_t k = batch.topk ? tensors.teacher_topk_logprobs->shape[1] : 0;
    const bool wide_ids = batch.topk && tensors.teacher_topk_ids->dtype.bits == 64;
    const void * topk_ids = batch.topk ? data_pointer(*tensors.teacher_topk_ids) : nullptr;
    for (int64_t r = 0; r < batch.rows; ++r) {
        const int64_t predicted = top1_class(logits + r * classes, classes);
        if (batch.labels && batch.labels[r] != ignore_index) {
            ++labelled_rows;
            label_matches += predicted == batch.labels[r];
        }
        if (batch.dense) {
            teacher_matches +=
                predicted == top1_class(teacher_logits + r * teacher_width, teacher_width);
        } else if (batch.topk) {
            const float * row_logprobs = topk_logprobs + r * k;
            const int64_t teacher =
                wide_ids ? topk_top1_class(static_cast<const int64_t *>(topk_ids) + r * k,
                                           row_logprobs, k)
                         : topk_top1_class(static_cast<const int32_t *>(topk_ids) + r * k,
                                           row_logprobs, k);
            teacher_matches += predicted == teacher;
        }
    }
    if (batch.labels && labelled_rows > 0)
        metrics.accuracy = float(double(label_matches) / double(labelled_rows));
    if (batch.dense || batch.topk)
        metrics.agreement = float(double(teacher_matches) / double(batch.rows));
    return metrics;
}

}  // namespace distill
