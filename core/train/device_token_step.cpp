#include "train/device_token_step.h"

#include <limits>
#include <string>

#include "common/error.h"
#include "lm/cross_entropy.h"

namespace distill {

token_loss_parts device_distillation_gradients(lm::device_transformer & student,
                                               const int32_t * tokens, const int32_t * labels,
                                               int64_t B, int64_t T,
                                               const token_teacher_targets & teacher,
                                               const kd_loss_options & options,
                                               std::vector<float> & host_logits,
                                               std::vector<float> & d_logits, int num_threads) {
    if (labels == nullptr) fail_invalid("labels: expected a pointer to [B, T] ids, got null");
    check_token_loss_options(options);
    const int64_t V = student.host().config().vocab;
    if (teacher.any()) {
        student.upload_parameters();
        student.forward(tokens, B, T);
        host_logits.resize(size_t(B * T * V));
        student.download_logits(host_logits.data());
        d_logits.resize(size_t(B * T * V));
        const token_loss_parts parts =
            token_distillation_loss(host_logits.data(), labels, B * T, V, teacher, options,
                                    d_logits.data(), num_threads);
        student.backward_from_host(d_logits.data());
        return parts;
    }
    // The next-token path. token_distillation_loss's label check and
    // message, before any device work (B and T are the forward's to check;
    // with B or T < 1 the loop reads nothing).
    token_loss_parts parts;
    if (B > 0 && T > 0 && tokens != nullptr)
        for (int64_t n = 0; n < B * T; ++n) {
            if (labels[n] == lm::ignore_target) continue;
            if (labels[n] < 0 || labels[n] >= V)
                fail_invalid("labels[" + std::to_string(n) + "]: expected a token id in [0, " +
                             std::to_string(V) + ") or " + std::to_string(lm::ignore_target) +
                             " (a masked position), got " + std::to_string(labels[n]));
            ++parts.positions;
        }
    parts.hard = student.train_step(tokens, labels, B, T);
    parts.loss = parts.hard;
    parts.soft = std::numeric_limits<double>::quiet_NaN();
    return parts;
}

}  // namespace distill
