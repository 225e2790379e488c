// The distillation step and the training loop of a built-in student: a
// model, an optimiser with its schedule, and the loss family. Behind
// distill_trainer_* (distill.h documents the behaviour users rely on).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <dlpack/dlpack.h>
#include <nlohmann/json.hpp>

#include "backend/context.h"
#include "losses/kd_loss.h"
#include "train/example_set.h"
#include "train/lr_schedule.h"
#include "train/optimizer.h"

namespace distill {

class device_student;
class model;

struct trainer_settings {
    nlohmann::json optimizer = nlohmann::json::object();  // optimizer.h's JSON
    nlohmann::json schedule = {{"kind", "constant"}};
    kd_loss_options loss;
    float max_grad_norm = 0.0f;  // 0 = no clipping
    uint64_t seed = 0;
};

// One batch; every tensor a CPU tensor; the optional ones may be null.
struct batch_tensors {
    const DLTensor * inputs = nullptr;                 // fp32 [B, D]
    const DLTensor * labels = nullptr;                 // int64 [B]
    const DLTensor * teacher_logits = nullptr;         // [B, C]
    const DLTensor * teacher_topk_ids = nullptr;       // [B, K]
    const DLTensor * teacher_topk_logprobs = nullptr;  // [B, K]
};

struct step_outcome {
    int64_t step = 0;
    float loss = 0.0f;
    float learning_rate = 0.0f;
    float grad_norm = 0.0f;
    float accuracy = 0.0f;   // NaN without labels
    float agreement = 0.0f;  // NaN without a teacher
};

struct evaluation {
    int64_t examples = 0;
    double accuracy, agreement, mean_kl, ece, loss;  // NaN when not defined
};

// Evaluation of `m` on `set` (eval mode, batches of 512): the forward on
// the context's device (a CUDA context: students/device_student.h), the
// metrics on the host. `device`, when given, is a device student of `m` on
// that context to run it with (a trainer's: no second session or buffers);
// its parameters are uploaded first. The caller holds m.usage_mutex().
evaluation evaluate_model(model & m, const example_set & set, const context & ctx,
                          device_student * device = nullptr);
// What evaluate_model refuses (a non-classifier, other features, labels or
// teacher classes outside the model's), checked without running the model;
// errors name the set `name`.
void check_evaluation_set(const model & m, const example_set & set, const std::string & name);

struct fit_settings {
    int32_t epochs = 10;
    int32_t batch_size = 128;
    const example_set * validation = nullptr;
    int32_t early_stopping_patience = 0;
    std::filesystem::path checkpoint_dir;  // empty = none
    bool restore_best = false;
};

struct fit_event {
    int32_t kind = 0;  // distill_progress_event: 1 step, 2 epoch end
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
    struct device_step;  // the CUDA path of step() (student_trainer.cpp)

    nlohmann::json trainer_state() const;
    // step() on a CUDA context, up to the loss: uploads the parameters and
    // the batch, runs the forward (training) and the loss on the device,
    // leaves the logits' gradient there and the logits in outputs_ [B, O];
    // returns the loss.
    float forward_and_loss_on_device(const batch_tensors & batch, const float * inputs,
                                     int64_t rows);

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
    // buffers. After model_, which it refers to.
    std::unique_ptr<device_step> device_;
};

}  // namespace distill
