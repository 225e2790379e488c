#include "train/student_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include "common/error.h"
#include "common/scoped_omp_threads.h"
#include "losses/kd_loss_validation.h"
#include "students/model.h"
#include "train/device_step.h"
#include "train/evaluation.h"
#include "train/host_tensor.h"
#include "train/lr_schedule.h"
#include "train/run_identity.h"
#include "train/seeded_order.h"
#include "train/step_metrics.h"

namespace distill {
namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

}  // namespace

student_trainer::student_trainer(const context & ctx, std::shared_ptr<model> m,
                                 trainer_settings settings)
    : ctx_(ctx),
      model_(std::move(m)),
      settings_(std::move(settings)),
      best_val_accuracy_(not_a_number) {
    if (!model_) fail_invalid("model: expected a model, got NULL");
    const optimizer_config optimizer_settings = optimizer_config_from_json(settings_.optimizer);
    schedule_ = lr_schedule_config_from_json(settings_.schedule);
    learning_rate_at(schedule_, base_learning_rate(optimizer_settings), 0);  // refuses min_lr > lr
    optimizer_ = std::make_unique<optimizer>(optimizer_settings, model_->parameter_count());
    const kd_loss_options & loss = settings_.loss;
    if (!(loss.soft_weight >= 0.0f) || !(loss.hard_weight >= 0.0f) ||
        loss.soft_weight + loss.hard_weight <= 0.0f)
        fail_invalid("loss: expected soft_weight ≥ 0 and hard_weight ≥ 0, not both 0; got " +
                     std::to_string(loss.soft_weight) + " and " + std::to_string(loss.hard_weight));
    resolve_options(loss);  // refuses what the loss family refuses, now rather than at a step
    if (loss.reduction == int32_t(reduction_kind::none))
        fail_invalid("loss.reduction: expected BATCHMEAN or SUM (a step needs one loss), got NONE");
    if (!(settings_.max_grad_norm >= 0.0f) || !std::isfinite(settings_.max_grad_norm))
        fail_invalid("max_grad_norm: expected a finite value ≥ 0 (0 = no clipping), got " +
                     std::to_string(settings_.max_grad_norm));
    if (model_->config().output != output_kind::logits)
        fail_unsupported(
            "model: the trainer distils classifiers (output \"logits\"); this model "
            "outputs an embedding");
    // Last, once the settings are known good: a CUDA session and the
    // parameter buffers on the device. Validation in fit() runs its forward
    // with the same device student (evaluate_model), from the host
    // parameters, which are current after every step.
    if (ctx_.cuda) device_ = std::make_unique<device_step>(ctx_, *model_);
}

student_trainer::~student_trainer() = default;

step_outcome student_trainer::step(const batch_tensors & batch) {
    const kd_loss_options & loss_options = settings_.loss;
    const checked_batch checked = check_batch(batch, loss_options, model_->input_size());
    std::lock_guard lock(model_->usage_mutex());
    const scoped_omp_threads threads(ctx_.num_threads);

    const uint64_t dropout_seed = mix_seed(settings_.seed, uint64_t(global_step_));
    const float loss_value =
        device_ ? device_->forward_and_loss(batch, checked, loss_options, dropout_seed, outputs_)
                : forward_and_loss_on_host(batch, checked, dropout_seed);
    if (!std::isfinite(loss_value))
        fail_invalid("batch: the loss is not finite (" + std::to_string(loss_value) + ") at step " +
                     std::to_string(global_step_ + 1) +
                     "; the update was skipped and the model is unchanged (lower the learning "
                     "rate or set max_grad_norm)");

    if (device_)
        device_->backward();  // downloads the gradients
    else
        model_->backward(grad_outputs_.data());
    const update_outcome update =
        clipped_update(*optimizer_, schedule_, model_->parameters(), model_->gradients(),
                       settings_.max_grad_norm, global_step_, ctx_.num_threads);
    ++global_step_;

    const step_metrics metrics = batch_step_metrics(outputs_.data(), model_->output_size(), checked,
                                                    batch, loss_options.ignore_index);
    step_outcome outcome;
    outcome.step = global_step_;
    outcome.loss = loss_value;
    outcome.learning_rate = float(update.learning_rate);
    outcome.grad_norm = float(update.grad_norm);
    outcome.accuracy = metrics.accuracy;
    outcome.agreement = metrics.agreement;
    return outcome;
}

float student_trainer::forward_and_loss_on_host(const batch_tensors & batch,
                                                const checked_batch & checked,
                                                uint64_t dropout_seed) {
    const kd_loss_options & loss_options = settings_.loss;
    const int64_t rows = checked.rows;
    const int64_t classes = model_->output_size();
    outputs_.resize(size_t(rows * classes));
    grad_outputs_.resize(size_t(rows * classes));
    model_->forward(checked.inputs, rows, outputs_.data(), true, dropout_seed);

    float loss_value = 0.0f;
    int64_t logits_shape[2] = {rows, classes};
    DLTensor student = host_tensor(outputs_.data(), logits_shape, 2);
    DLTensor grad = host_tensor(grad_outputs_.data(), logits_shape, 2);
    DLTensor loss = host_tensor(&loss_value, nullptr, 0);
    const DLTensor * loss_labels = loss_options.hard_weight > 0.0f ? batch.labels : nullptr;
    if (loss_options.soft_weight == 0.0f) {
        // Labels only: the soft term is off, so the loss never reads a
        // teacher; the student's own logits fill the teacher's place.
        kd_loss_dense(ctx_, loss_options, &student, &student, loss_labels, &loss, &grad);
    } else if (checked.dense) {
        kd_loss_dense(ctx_, loss_options, &student, batch.teacher_logits, loss_labels, &loss,
                      &grad);
    } else {
        kd_loss_topk(ctx_, loss_options, &student, batch.teacher_topk_ids,
                     batch.teacher_topk_logprobs, loss_labels, &loss, &grad);
    }
    return loss_value;
}

fit_outcome student_trainer::fit(const example_set & train, const fit_settings & settings,
                                 const fit_progress & progress) {
    const auto start = std::chrono::steady_clock::now();
    const auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    if (settings.epochs < 1)
        fail_invalid("options.epochs: expected ≥ 1, got " + std::to_string(settings.epochs));
    if (settings.batch_size < 1)
        fail_invalid("options.batch_size: expected ≥ 1, got " +
                     std::to_string(settings.batch_size));
    if (settings.early_stopping_patience < 0)
        fail_invalid("options.early_stopping_patience: expected ≥ 0, got " +
                     std::to_string(settings.early_stopping_patience));
    if (train.rows < 1) fail_invalid("train: expected at least one example, got an empty dataset");
    if (train.features != model_->input_size())
        fail_invalid("train: expected " + std::to_string(model_->input_size()) +
                     " features per example (the model's inputs), got " +
                     std::to_string(train.features));
    if (settings_.loss.soft_weight > 0.0f && !train.has_teacher())
        fail_invalid(
            "train: the loss has soft_weight > 0 but the dataset has no teacher targets "
            "(distill_dataset_ask_teacher or distill_dataset_set_teacher_*)");
    if (settings_.loss.hard_weight > 0.0f && !train.has_labels())
        fail_invalid("train: the loss has hard_weight > 0 but the dataset has no labels");
    if (settings.validation)
        check_evaluation_set(*model_, *settings.validation, "options.validation");
    const bool selects = settings.early_stopping_patience > 0 || settings.restore_best;
    if (selects && (!settings.validation || !settings.validation->has_labels()))
        fail_invalid(
            "options: early stopping and restore_best choose epochs by validation "
            "accuracy, so they need a validation dataset with labels");
    if (batch_in_epoch_ > 0 && batch_size_ != settings.batch_size)
        fail_invalid(
            "options.batch_size: the resumed run stopped inside an epoch with batch size " +
            std::to_string(batch_size_) + "; continue it with the same, got " +
            std::to_string(settings.batch_size));
    if (!resumed_data_identity_.is_null() || !settings.checkpoint_dir.empty()) {
        nlohmann::json identity = data_identity(train);
        if (!resumed_data_identity_.is_null())
            require_same_identity(resumed_data_identity_, identity, resumed_from_, "training data",
                                  "continue it on the data it was trained on, or start a new run "
                                  "in another checkpoint directory");
        data_identity_ = std::move(identity);
    }
    resumed_data_identity_ = nullptr;  // checked once: later fits may use other data
    batch_size_ = settings.batch_size;

    fit_outcome outcome;
    const int64_t last_epoch = epoch_ + settings.epochs;
    const int64_t steps_per_epoch = (train.rows + settings.batch_size - 1) / settings.batch_size;
    example_set batch;
    const auto save_if_asked = [&] {
        if (!settings.checkpoint_dir.empty()) save(settings.checkpoint_dir);
    };

    while (epoch_ < last_epoch) {
        const std::vector<int64_t> order =
            seeded_order(settings_.seed, uint64_t(epoch_), train.rows);
        double loss_sum = 0.0;
        int64_t loss_batches = 0;
        for (; batch_in_epoch_ < steps_per_epoch; ++batch_in_epoch_) {
            const int64_t first = batch_in_epoch_ * settings.batch_size;
            const int64_t count = std::min<int64_t>(settings.batch_size, train.rows - first);
            gather_examples(train, order.data() + first, count, batch);
            int64_t input_shape[2] = {count, batch.features};
            int64_t label_shape[1] = {count};
            int64_t logit_shape[2] = {count, batch.teacher_classes};
            int64_t topk_shape[2] = {count, batch.teacher_k};
            const DLTensor inputs = host_tensor(batch.inputs.data(), input_shape, 2);
            const DLTensor labels = host_tensor(batch.labels.data(), label_shape, 1);
            const DLTensor logits = host_tensor(batch.teacher_logits.data(), logit_shape, 2);
            const DLTensor ids = host_tensor(batch.teacher_topk_ids.data(), topk_shape, 2);
            const DLTensor logprobs =
                host_tensor(batch.teacher_topk_logprobs.data(), topk_shape, 2);
            batch_tensors tensors;
            tensors.inputs = &inputs;
            if (batch.has_labels()) tensors.labels = &labels;
            if (settings_.loss.soft_weight > 0.0f && batch.has_teacher_logits())
                tensors.teacher_logits = &logits;
            if (settings_.loss.soft_weight > 0.0f && batch.has_teacher_topk()) {
                tensors.teacher_topk_ids = &ids;
                tensors.teacher_topk_logprobs = &logprobs;
            }
            const step_outcome s = step(tensors);
            loss_sum += s.loss;
            ++loss_batches;
            if (progress) {
                fit_event event;
                event.kind = fit_event_kind::step;
                event.done = batch_in_epoch_ + 1;
                event.total = steps_per_epoch;
                event.epoch = epoch_ + 1;
                event.epochs = last_epoch;
                event.loss = loss_sum / double(loss_batches);
                event.val_accuracy = event.val_agreement = not_a_number;
                event.elapsed_seconds = elapsed();
                if (!progress(event)) {
                    ++batch_in_epoch_;  // this batch is done
                    save_if_asked();
                    throw error(
                        status::cancelled,
                        "training was cancelled at epoch " + std::to_string(epoch_ + 1) +
                            ", step " + std::to_string(global_step_) +
                            (settings.checkpoint_dir.empty()
                                 ? std::string()
                                 : "; checkpoint saved in " + settings.checkpoint_dir.string()));
                }
            }
        }
        ++epoch_;
        batch_in_epoch_ = 0;
        ++outcome.epochs_run;

        fit_event event;
        event.kind = fit_event_kind::epoch_end;
        event.done = event.total = steps_per_epoch;
        event.epoch = epoch_;
        event.epochs = last_epoch;
        event.loss = loss_batches > 0 ? loss_sum / double(loss_batches) : not_a_number;
        event.val_accuracy = event.val_agreement = not_a_number;
        if (settings.validation) {
            evaluation v;
            {
                std::lock_guard lock(model_->usage_mutex());
                const scoped_omp_threads threads(ctx_.num_threads);
                v = evaluate_model(*model_, *settings.validation, ctx_,
                                   device_ ? &device_->student() : nullptr);
            }
            event.val_accuracy = v.accuracy;
            event.val_agreement = v.agreement;
            if (!settings.validation->has_labels()) {
                // No accuracy to select by (refused above when selection was asked).
            } else if (std::isnan(best_val_accuracy_) || v.accuracy > best_val_accuracy_) {
                best_val_accuracy_ = v.accuracy;
                best_epoch_ = int32_t(epoch_);
                epochs_without_improvement_ = 0;
                if (settings.restore_best)
                    best_parameters_.assign(model_->parameters().begin(),
                                            model_->parameters().end());
                else
                    best_parameters_.clear();  // no longer the best epoch's
            } else {
                ++epochs_without_improvement_;
            }
        }
        event.elapsed_seconds = elapsed();
        save_if_asked();
        if (progress && !progress(event))
            throw error(status::cancelled,
                        "training was cancelled after epoch " + std::to_string(epoch_));
        if (settings.validation && settings.early_stopping_patience > 0 &&
            epochs_without_improvement_ >= settings.early_stopping_patience) {
            outcome.stopped_early = true;
            break;
        }
    }
    // Empty when the best epoch came from a fit without restore_best: its
    // weights were not kept, so the model keeps the last epoch's.
    if (settings.restore_best && !best_parameters_.empty()) {
        std::lock_guard lock(model_->usage_mutex());
        std::copy(best_parameters_.begin(), best_parameters_.end(), model_->parameters().begin());
    }
    outcome.best_epoch = best_epoch_;
    outcome.best_val_accuracy = best_val_accuracy_;
    outcome.steps = global_step_;
    outcome.seconds = elapsed();
    return outcome;
}

}  // namespace distill
