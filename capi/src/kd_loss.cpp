// distill_kd_loss*: options struct → core options, then the core call.
#include "api_guard.h"
#include "context_handle.h"
#include "kd_loss_options.h"
#include "versioned_struct.h"

namespace distill::capi {
distill::kd_loss_options to_core(const distill_kd_loss_options * given) {
    distill_kd_loss_options defaults{};
    distill_kd_loss_options_init(&defaults);
    const distill_kd_loss_options o = read_versioned(given, defaults, "options");
    distill::kd_loss_options core;
    core.divergence = o.divergence;
    core.beta = o.beta;
    core.temperature = o.temperature;
    core.scale_by_t2 = o.scale_by_t2 != 0;
    core.soft_weight = o.soft_weight;
    core.hard_weight = o.hard_weight;
    core.ignore_index = o.ignore_index;
    core.reduction = o.reduction;
    core.tail = o.tail;
    return core;
}
}  // namespace distill::capi

extern "C" {

distill_status distill_kd_loss_options_init(distill_kd_loss_options * options) {
    return distill::capi::guarded([&] {
        distill::capi::require_pointer(options, "options", "a distill_kd_loss_options to fill");
        *options = distill_kd_loss_options{};
        options->struct_size = sizeof(distill_kd_loss_options);
        options->divergence = DISTILL_DIVERGENCE_FORWARD_KL;
        options->beta = 0.5f;
        options->temperature = 1.0f;
        options->scale_by_t2 = 1;
        options->soft_weight = 1.0f;
        options->hard_weight = 0.0f;
        options->ignore_index = -100;
        options->reduction = DISTILL_REDUCTION_BATCHMEAN;
        options->tail = DISTILL_TAIL_RENORMALIZE;
    });
}

distill_status distill_kd_loss(const distill_context * context,
                               const distill_kd_loss_options * options,
                               const DLTensor * student_logits, const DLTensor * teacher_logits,
                               const DLTensor * labels, DLTensor * loss,
                               DLTensor * grad_student_logits) {
    return distill::capi::guarded([&] {
        const distill::context & ctx = distill::capi::unwrap(context);
        distill::kd_loss_dense(ctx, distill::capi::to_core(options), student_logits, teacher_logits,
                               labels, loss, grad_student_logits);
    });
}

distill_status distill_kd_loss_topk(const distill_context * context,
                                    const distill_kd_loss_options * options,
                                    const DLTensor * student_logits,
                                    const DLTensor * teacher_topk_ids,
                                    const DLTensor * teacher_topk_logprobs, const DLTensor * labels,
                                    DLTensor * loss, DLTensor * grad_student_logits) {
    return distill::capi::guarded([&] {
        const distill::context & ctx = distill::capi::unwrap(context);
        distill::kd_loss_topk(ctx, distill::capi::to_core(options), student_logits,
                              teacher_topk_ids, teacher_topk_logprobs, labels, loss,
                              grad_student_logits);
    });
}

}  // extern "C"
