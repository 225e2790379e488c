// The CUDA path of a training step (student_trainer::step on a CUDA
// context): the student on the device, and device copies of the batch's
// loss inputs and outputs, grown with the batch and kept from step to step.
// The forward, the loss and the backward run on the device; the optimiser
// stays on the host (students/device_student.h says why).
#pragma once

#include <cstdint>
#include <vector>

#include "backend/context.h"
#include "losses/kd_loss.h"
#include "students/device_student.h"
#include "train/training_batch.h"

namespace distill {

class model;

class device_step {
public:
    // m must outlive this object (device_student's rule).
    device_step(const context & ctx, model & m);

    // Up to the loss: uploads the parameters (the host optimiser changed
    // them) and the batch (checked by check_batch), runs the forward
    // (training, dropout seeded by `dropout_seed`) and the loss on the
    // device, leaves the logits' gradient there and the logits [B, C] in
    // host_logits; returns the loss. Label and top-k values the device
    // kernels would only flag with NaN are refused with the CPU's messages.
    float forward_and_loss(const batch_tensors & batch, const checked_batch & checked,
                           const kd_loss_options & options, uint64_t dropout_seed,
                           std::vector<float> & host_logits);
    // The backward from the gradient forward_and_loss left; downloads the
    // parameters' gradients into the model.
    void backward();

    device_student & student() { return student_; }

private:
    context ctx_;
    int64_t classes_;
    device_student student_;
    device_buffer teacher_logits_, topk_ids_, topk_logprobs_, labels_;  // copies of the batch's
    device_buffer loss_, grad_logits_;                                  // [1], [B, C]
};

}  // namespace distill
