// The distillation step and the training loop of a built-in student: a
// model, an optimiser with its schedule, and the loss family. Behind
// distill_trainer_* (distill.h documents the behaviour users rely on).
// The step's parts have their own files: the batch's checks
// (training_batch.h), its CUDA path (device_step.h), its metrics
// (step_metrics.h); save and resume are trainer_checkpoint.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend/context.h"
#include "losses/kd_loss.h"
#include "train/example_set.h"
#include "train/training_batch.h"
#include "train/lr_schedule.h"
#include "train/optimizer.h"

namespace distill {

class device_step;
class model;

struct trainer_settings {
    nlohmann::json optimizer = nlohmann::json::object();  // optimizer.h's JSON
    nlohmann::json schedule = {{"kind", "constant"}};
    kd_loss_options loss;
    float max_grad_norm = 0.0f;  // 0 = no clipping
    uint64_t seed = 0;
};

struct step_outcome {
    int64_t step = 0;
    float loss = 0.0f;
    float learning_rate = 0.0f;
    float grad_norm = 0.0f;
    float accuracy = 0.0f;   // NaN without labels
    float agreement = 0.0f;  // NaN without a teacher
};

struct fit_settings {
    int32_t epochs = 10;
    int32_t batch_size = 128;
    const example_set * validation = nullptr;
    int32_t early_stopping_patience = 0;
    std::filesystem::path checkpoint_dir;  // empty = none
    bool restore_best = false;
};

// Values mirror DISTILL_PROGRESS_STEP and _EPOCH_END (distill_progress_event).
enum class fit_event_kind : int32_t { step = 1, epoch_end = 2 };

struct fit_event {
    fit_event_kind kind = fit_event_kind::step;
    int64_t done = 0, total = 0, epoch = 0, epochs = 0;
    double loss = 0.0, val_accuracy = 0.0, val_agreement = 0.0, elapsed_seconds = 0.0;
};
// Returning false cancels the fit (checkpoint written when configured).
using fit_progress = std::function<bool(const fit_event &)>;

struct fit_outcome {
    int32_t epochs_run = 0;
    bool stopped_early = false;
    int32_t best_epoch = 0;
    double best_val_accuracy = 0.0;  // NaN without validation
    int64_t steps = 0;
    double seconds = 0.0;
};

class student_trainer {
public:
    // On a CUDA context, step() runs the forward, the loss and the backward
    // on the device (students/device_student.h), and fit()'s validation its
    // forward; clipping, the optimiser and the metrics stay on the host.
    // Batches are host tensors either way.
    student_trainer(const context & ctx, std::shared_ptr<model> m, trainer_settings settings);
    ~student_trainer();

    step_outcome step(const batch_tensors & batch);
    fit_outcome fit(const example_set & train, const fit_settings & settings,
                    const fit_progress & progress);
    void save(const std::filesystem::path & dir) const;
    void resume(const std::filesystem::path & dir);

    int64_t epoch() const { return epoch_; }
    int64_t global_step() const { return global_step_; }
    const std::shared_ptr<model> & student() const { return model_; }

private:
    nlohmann::json trainer_state() const;  // trainer_checkpoint.cpp
    // step() on the CPU, up to the loss: the forward (training) into
    // outputs_ [B, C], the loss, and its gradient in grad_outputs_; returns
    // the loss. (device_step.h is the CUDA path.)
    float forward_and_loss_on_host(const batch_tensors & batch, const checked_batch & checked,
                                   uint64_t dropout_seed);

    context ctx_;
    std::shared_ptr<model> model_;
    trainer_settings settings_;
    std::unique_ptr<optimizer> optimizer_;
    lr_schedule_config schedule_;
    int64_t epoch_ = 0;           // completed epochs
    int64_t batch_in_epoch_ = 0;  // next batch of the current epoch (resume mid-epoch)
    int64_t global_step_ = 0;
    int32_t batch_size_ = 0;  // of the epoch in progress (0: none)
    double best_val_accuracy_;
    int32_t best_epoch_ = 0;
    int32_t epochs_without_improvement_ = 0;
    // The parameters at best_epoch_, kept while fits ask for restore_best
    // and saved with checkpoints (best_model.safetensors), so that a resumed
    // run can still end on an epoch from before the resume. Empty: none.
    std::vector<float> best_parameters_;
    // train/run_identity.h: the last fit's training set (saved with
    // checkpoints; null before any fit), and the one a resumed checkpoint
    // was trained on, which the next fit must match (null: none to check).
    nlohmann::json data_identity_, resumed_data_identity_;
    std::string resumed_from_;                   // that checkpoint, for the message
    std::vector<float> outputs_, grad_outputs_;  // [B, O] workspaces
    // Set for a CUDA context: the device student and the step's device
    // buffers (train/device_step.h). After model_, which it refers to.
    std::unique_ptr<device_step> device_;
};

}  // namespace distill
