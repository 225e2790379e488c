#include "kd_loss.h"

#include <string>
#include <vector>

#include "common/error.h"
#include "kernels/cpu/kd_loss_cpu.h"
#include "tensor/tensor_checks.h"
#include "kd_loss_validation.h"

namespace distill {
namespace {

// Runs `kernel(row_losses, grad_scale)` on the CPU and reduces the row
// losses into `loss` in row order (so the result does not depend on the
// thread count).
template <class Kernel>
void run_on_cpu(const kd_loss_options & options, const kernels::kd_loss_params & params,
                const void * labels, DLTensor * loss, Kernel && kernel) {
    check_label_values(labels, params);
    const auto reduction = static_cast<reduction_kind>(options.reduction);
    const int64_t active = count_active_rows(labels, params);
    const float grad_scale =
        reduction == reduction_kind::batchmean ? (active > 0 ? 1.0f / float(active) : 0.0f) : 1.0f;
    auto * loss_out = static_cast<float *>(data_pointer(*loss));
    if (reduction == reduction_kind::none) {
        kernel(loss_out, grad_scale);
        return;
    }
    std::vector<float> row_losses(static_cast<size_t>(params.rows));
    kernel(row_losses.data(), grad_scale);
    double total = 0.0;
    for (float row_loss : row_losses) total += row_loss;
    if (reduction == reduction_kind::batchmean) total = active > 0 ? total / double(active) : 0.0;
    *loss_out = static_cast<float>(total);
}

void raise_backend_failure(int32_t code, const char * message) {
    if (code != 0) throw error(static_cast<status>(code), message);
}

const void * optional_data(const DLTensor * tensor) {
    return tensor != nullptr ? data_pointer(*tensor) : nullptr;
}

void * optional_data(DLTensor * tensor) {
    return tensor != nullptr ? data_pointer(*tensor) : nullptr;
}

}  // namespace

void kd_loss_dense(const context & ctx, const kd_loss_options & options,
                   const DLTensor * student_logits, const DLTensor * teacher_logits,
                   const DLTensor * labels, DLTensor * loss, DLTensor * grad_student_logits) {
    kernels::kd_loss_params params = resolve_options(options);
    check_student_side(ctx, options, student_logits, labels, loss, grad_student_logits, params);
    check_dense_teacher(ctx, teacher_logits, params);
    if (grad_student_logits != nullptr)
        require_no_overlap(*grad_student_logits, "grad_student_logits", *teacher_logits,
                           "teacher_logits");
    const void * student = data_pointer(*student_logits);
    const void * teacher = data_pointer(*teacher_logits);
    const void * label_data = optional_data(labels);
    void * grad = optional_data(grad_student_logits);

    if (ctx.cuda) {
        char message[512] = {0};
        const distill_cuda_loss_output output{static_cast<float *>(data_pointer(*loss)),
                                              options.reduction};
        raise_backend_failure(ctx.cuda_backend->kd_loss_dense(
                                  &params, output, grad, student, teacher, label_data,
                                  ctx.device_id, ctx.cuda_stream, message, sizeof message),
                              message);
        return;
    }
    run_on_cpu(options, params, label_data, loss, [&](float * row_losses, float grad_scale) {
        kernels::cpu::kd_loss_dense(row_losses, grad, student, teacher, label_data, params,
                                    grad_scale, ctx.num_threads);
    });
}

void kd_loss_topk(const context & ctx, const kd_loss_options & options,
                  const DLTensor * student_logits, const DLTensor * teacher_topk_ids,
                  const DLTensor * teacher_topk_logprobs, const DLTensor * labels, DLTensor * loss,
                  DLTensor * grad_student_logits) {
    kernels::kd_loss_params params = resolve_options(options);
    check_student_side(ctx, options, student_logits, labels, loss, grad_student_logits, params);
    check_topk_teacher(ctx, teacher_topk_ids, teacher_topk_logprobs, params);
    if (grad_student_logits != nullptr) {
        require_no_overlap(*grad_student_logits, "grad_student_logits", *teacher_topk_ids,
                           "teacher_topk_ids");
        require_no_overlap(*grad_student_logits, "grad_student_logits", *teacher_topk_logprobs,
                           "teacher_topk_logprobs");
    }
    const void * student = data_pointer(*student_logits);
    const void * ids = data_pointer(*teacher_topk_ids);
    const void * logprobs = data_pointer(*teacher_topk_logprobs);
    const void * label_data = optional_data(labels);
    void * grad = optional_data(grad_student_logits);

    if (ctx.cuda) {
        char message[512] = {0};
        const distill_cuda_loss_output output{static_cast<float *>(data_pointer(*loss)),
                                              options.reduction};
        raise_backend_failure(ctx.cuda_backend->kd_loss_topk(
                                  &params, output, grad, student, ids, logprobs, label_data,
                                  ctx.device_id, ctx.cuda_stream, message, sizeof message),
                              message);
        return;
    }
    check_topk_values(ids, logprobs, params);
    run_on_cpu(options, params, label_data, loss, [&](float * row_losses, float grad_scale) {
        kernels::cpu::kd_loss_topk(row_losses, grad, student, ids, logprobs, label_data, params,
                                   grad_scale, ctx.num_threads);
    });
}

}  // namespace distill
