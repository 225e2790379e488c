// distillation_gradients (train/token_distillation.h) with the student on
// a GPU (lm/device_transformer.h): what transformer_trainer::step runs on a
// CUDA context, the optimiser update staying on the host.
//
//   no teacher targets   the device's train_step: forward, the mean
//                        cross-entropy and its logits gradient, backward,
//                        all on the device (only the loss comes back)
//   dense or top-k       forward on the device, the logits [B · T, V]
//                        downloaded, token_distillation_loss on the host
//                        (the CPU trainer's loss, bit for bit on the same
//                        logits), its gradient uploaded, backward on the
//                        device
// Either way the parameters are uploaded first (the host optimiser has
// changed them) and the gradients end in the host model's gradients().
#pragma once

#include <cstdint>
#include <vector>

#include "lm/device_transformer.h"
#include "losses/kd_loss.h"
#include "train/token_distillation.h"

namespace distill {

// As distillation_gradients, for the host model of `student`; refuses what
// it refuses, with its messages. host_logits and d_logits are scratch
// (resized to [B · T, V] on the teacher path only).
token_loss_parts device_distillation_gradients(lm::device_transformer & student,
                                               const int32_t * tokens, const int32_t * labels,
                                               int64_t B, int64_t T,
                                               const token_teacher_targets & teacher,
                                               const kd_loss_options & options,
                                               std::vector<float> & host_logits,
                                               std::vector<float> & d_logits, int num_threads);

}  // namespace distill
