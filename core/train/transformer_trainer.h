// Training of a transformer student (lm/transformer.h) on token batches:
// the mean cross-entropy against next-token targets, gradient clipping,
// AdamW (or SGD) at a learning-rate schedule, and checkpoints that resume
// exactly — the same optimizer, schedule and clipping as the other
// students' trainer (train/student_trainer.h), over tokens instead of
// feature rows. A step distils from a teacher's per-position targets
// (dense logits or top-k; train/token_distillation.h) or, without them,
// trains on the hard next-token targets (sequence-level distillation when
// those are a teacher's completions).
//
// A checkpoint is train/checkpoint.h's directory: model.safetensors with
// the Hugging Face names of the model's tensors and its config
// (lm/transformer_config.h's JSON), optimizer.safetensors (exp_avg,
// exp_avg_sq, the optimizer and schedule JSON and the step), and
// trainer_state.json ({"kind": "transformer", "global_step", "max_grad_norm",
// "loss": the token loss options, as train/run_identity.h spells them}).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "lm/transformer.h"
#include "losses/kd_loss.h"
#include "train/lr_schedule.h"
#include "train/optimizer.h"
#include "train/token_distillation.h"

namespace distill {

struct transformer_trainer_settings {
    nlohmann::json optimizer = {{"kind", "adamw"}};  // optimizer_config.h's JSON
    nlohmann::json schedule = {{"kind", "constant"}};
    double max_grad_norm = 0.0;  // 0 = no clipping
    int num_threads = 0;         // <= 0: OpenMP's default
    // The token-level loss of steps with teacher targets (divergence, beta,
    // temperature, T², weights, tail); reduction BATCHMEAN and ignore_index
    // −100 (check_token_loss_options). Unused by steps without targets.
    kd_loss_options loss;
};

struct transformer_step_outcome {
    int64_t step = 0;  // updates done, this one included
    double loss = 0.0;
    double learning_rate = 0.0;
    double grad_norm = 0.0;  // before clipping
    // The loss's parts (train/token_distillation.h): the mean divergence
    // (NaN without teacher targets) and cross-entropy, both unweighted, and
    // the positions that counted.
    double soft_loss = 0.0;
    double hard_loss = 0.0;
    int64_t positions = 0;
};

class transformer_trainer {
public:
    // Refuses a null model and invalid settings (the optimizer's and the
    // schedule's checks, a negative or non-finite max_grad_norm, the loss
    // options check_token_loss_options refuses).
    transformer_trainer(std::shared_ptr<lm::transformer> model,
                        transformer_trainer_settings settings);

    // One update from tokens[B, T] and targets[B, T] (token ids, or −100
    // for none; lm/cross_entropy.h). A non-finite loss or gradient norm is
    // refused and leaves the model and the optimizer unchanged.
    transformer_step_outcome step(const int32_t * tokens, const int32_t * targets, int64_t B,
                                  int64_t T);

    // One update from tokens[B, T], labels[B, T] (the next-token targets,
    // −100 at prompt and other masked positions: they count for neither
    // term) and the teacher's per-position targets (their B · T rows; none:
    // the step above, bit for bit), by the settings' loss: the student's
    // forward, the loss and its logits gradient (token_distillation_loss),
    // the backward, clipping and the optimizer update. Refusals as above,
    // and token_distillation_loss's, leave the model unchanged.
    transformer_step_outcome step(const int32_t * tokens, const int32_t * labels, int64_t B,
                                  int64_t T, const token_teacher_targets & teacher);

    void save(const std::filesystem::path & dir) const;
    // Refuses a checkpoint of another model config, optimizer kind,
    // clipping or loss options, leaving the trainer as it was.
    void resume(const std::filesystem::path & dir);

    int64_t global_step() const { return global_step_; }
    const kd_loss_options & loss() const { return settings_.loss; }
    const std::shared_ptr<lm::transformer> & student() const { return model_; }

private:
    nlohmann::json loss_options_json() const;

    std::shared_ptr<lm::transformer> model_;
    transformer_trainer_settings settings_;
    std::unique_ptr<optimizer> optimizer_;
    lr_schedule_config schedule_;
    int64_t global_step_ = 0;
    std::vector<float> d_logits_;  // [B · T, V]: the loss's logits gradient
};

}  // namespace distill
