#include "train/training_batch.h"

#include <string>

#include "common/error.h"
#include "tensor/tensor_checks.h"
#include "train/host_tensor.h"

namespace distill {
namespace {

void require_f32_matrix_rows(const DLTensor * t, const char * name, int64_t rows) {
    int64_t r = 0, c = 0;
    require_host_matrix(t, name, -1, &r, &c);
    if (r != rows)
        fail_invalid(std::string(name) + ": expected " + std::to_string(rows) +
                     " rows (those of batch.inputs), got shape " + shape_string(*t));
}

}  // namespace

checked_batch check_batch(const batch_tensors & batch, const kd_loss_options & loss,
                          int64_t features) {
    checked_batch checked;
    int64_t columns = 0;
    checked.inputs =
        require_host_matrix(batch.inputs, "batch.inputs", features, &checked.rows, &columns);
    const int64_t rows = checked.rows;
    const bool dense = batch.teacher_logits != nullptr;
    const bool topk = batch.teacher_topk_ids != nullptr || batch.teacher_topk_logprobs != nullptr;
    if (topk && (!batch.teacher_topk_ids || !batch.teacher_topk_logprobs))
        fail_invalid("batch: teacher_topk_ids and teacher_topk_logprobs go together; got only " +
                     std::string(batch.teacher_topk_ids ? "the ids" : "the log-probabilities"));
    if (dense && topk) fail_invalid("batch: expected teacher_logits or teacher_topk_*, not both");
    if (loss.soft_weight > 0.0f && !dense && !topk)
        fail_invalid("batch: the loss has soft_weight = " + std::to_string(loss.soft_weight) +
                     " > 0 and needs the teacher (teacher_logits, or teacher_topk_ids with "
                     "teacher_topk_logprobs); got neither. For labels only, set soft_weight = 0 "
                     "and hard_weight = 1");
    if (loss.hard_weight > 0.0f && !batch.labels)
        fail_invalid("batch.labels: the loss has hard_weight = " +
                     std::to_string(loss.hard_weight) + " > 0 and needs labels; got NULL");
    if (batch.labels) checked.labels = require_host_labels(batch.labels, "batch.labels", rows);
    if (dense) require_f32_matrix_rows(batch.teacher_logits, "batch.teacher_logits", rows);
    if (topk) {
        require_f32_matrix_rows(batch.teacher_topk_logprobs, "batch.teacher_topk_logprobs", rows);
        // Checked here too: with soft_weight = 0 no loss reads them, but the
        // agreement metric does.
        const DLTensor & ids = require_tensor(batch.teacher_topk_ids, "batch.teacher_topk_ids");
        require_integer(ids, "batch.teacher_topk_ids");
        require_shape(ids, "batch.teacher_topk_ids", {rows, batch.teacher_topk_logprobs->shape[1]},
                      "[B, K] (the shape of batch.teacher_topk_logprobs)");
        require_device(ids, "batch.teacher_topk_ids", expected_device{false, 0});
        require_contiguous(ids, "batch.teacher_topk_ids");
    }
    checked.dense = dense;
    checked.topk = topk;
    return checked;
}

}  // namespace distill
