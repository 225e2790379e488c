#include "train/student_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "common/error.h"
#include "common/scoped_omp_threads.h"
#include "losses/kd_loss_validation.h"
#include "students/device_student.h"
#include "students/model.h"
#include "tensor/tensor_checks.h"
#include "train/checkpoint.h"
#include "train/host_tensor.h"
#include "train/lr_schedule.h"
#include "train/model_file.h"
#include "train/run_identity.h"
#include "train/seeded_order.h"

namespace distill {
namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

// The index of the largest of n values (the first of equal ones).
template <typename T>
int64_t argmax(const T * values, int64_t n) {
    return std::max_element(values, values + n) - values;
}

// Top-1 class of a top-k teacher row: the id with the largest log-probability.
int64_t topk_top1(const DLTensor & ids, const float * logprobs, int64_t row, int64_t k) {
    const int64_t best = argmax(logprobs + row * k, k);
    const void * data = data_pointer(ids);
    return ids.dtype.bits == 64 ? static_cast<const int64_t *>(data)[row * k + best]
                                : static_cast<const int32_t *>(data)[row * k + best];
}

void require_f32_matrix_rows(const DLTensor * t, const char * name, int64_t rows) {
    int64_t r = 0, c = 0;
    require_host_matrix(t, name, -1, &r, &c);
    if (r != rows)
        fail_invalid(std::string(name) + ": expected " + std::to_string(rows) +
                     " rows (those of batch.inputs), got shape " + shape_string(*t));
}

// A view of `host`'s shape and dtype over a device copy of its data.
// `host` is compact (checked by step()); the shape stays borrowed from it.
DLTensor device_copy(const DLTensor & host, device_buffer & buffer, int32_t device_id) {
    buffer.upload(data_pointer(host), size_t(byte_size(host)));
    DLTensor view = host;
    view.data = buffer.as<void>();
    view.device = {kDLCUDA, device_id};
    view.strides = nullptr;
    view.byte_offset = 0;
    return view;
}

}  // namespace

// The CUDA path of step(): the student on the device, and device copies of
// the batch's loss inputs and outputs, grown with the batch and kept from
// step to step. The optimiser stays on the host (device_student.h says why).
struct student_trainer::device_step {
    device_student student;
    device_buffer teacher_logits, topk_ids, topk_logprobs, labels;  // copies of the batch's
    device_buffer loss, grad_logits;                                // [1], [B, O]
    device_step(const context & ctx, model & m)
        : student(ctx, m),
          teacher_logits(student.session()),
          topk_ids(student.session()),
          topk_logprobs(student.session()),
          labels(student.session()),
          loss(student.session()),
          grad_logits(student.session()) {}
};

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
    int64_t rows = 0, features = 0;
    const float * inputs =
        require_host_matrix(batch.inputs, "batch.inputs", model_->input_size(), &rows, &features);
    const kd_loss_options & loss_options = settings_.loss;
    const bool dense = batch.teacher_logits != nullptr;
    const bool topk = batch.teacher_topk_ids != nullptr || batch.teacher_topk_logprobs != nullptr;
    if (topk && (!batch.teacher_topk_ids || !batch.teacher_topk_logprobs))
        fail_invalid("batch: teacher_topk_ids and teacher_topk_logprobs go together; got only " +
                     std::string(batch.teacher_topk_ids ? "the ids" : "the log-probabilities"));
    if (dense && topk) fail_invalid("batch: expected teacher_logits or teacher_topk_*, not both");
    if (loss_options.soft_weight > 0.0f && !dense && !topk)
        fail_invalid(
            "batch: the loss has soft_weight = " + std::to_string(loss_options.soft_weight) +
            " > 0 and needs the teacher (teacher_logits, or teacher_topk_ids with "
            "teacher_topk_logprobs); got neither. For labels only, set soft_weight = 0 "
            "and hard_weight = 1");
    if (loss_options.hard_weight > 0.0f && !batch.labels)
        fail_invalid("batch.labels: the loss has hard_weight = " +
                     std::to_string(loss_options.hard_weight) + " > 0 and needs labels; got NULL");
    const int64_t * labels =
        batch.labels ? require_host_labels(batch.labels, "batch.labels", rows) : nullptr;
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
    std::lock_guard lock(model_->usage_mutex());
    const scoped_omp_threads threads(ctx_.num_threads);

    const int64_t classes = model_->output_size();
    float loss_value = 0.0f;
    if (device_) {
        loss_value = forward_and_loss_on_device(batch, inputs, rows);
    } else {
        outputs_.resize(size_t(rows * classes));
        grad_outputs_.resize(size_t(rows * classes));
        model_->forward(inputs, rows, outputs_.data(), true,
                        mix_seed(settings_.seed, uint64_t(global_step_)));

        int64_t logits_shape[2] = {rows, classes};
        DLTensor student = host_tensor(outputs_.data(), logits_shape, 2);
        DLTensor grad = host_tensor(grad_outputs_.data(), logits_shape, 2);
        DLTensor loss = host_tensor(&loss_value, nullptr, 0);
        const DLTensor * loss_labels = loss_options.hard_weight > 0.0f ? batch.labels : nullptr;
        if (loss_options.soft_weight == 0.0f) {
            // Labels only: the soft term is off, so the loss never reads a
            // teacher; the student's own logits fill the teacher's place.
            kd_loss_dense(ctx_, loss_options, &student, &student, loss_labels, &loss, &grad);
        } else if (dense) {
            kd_loss_dense(ctx_, loss_options, &student, batch.teacher_logits, loss_labels, &loss,
                          &grad);
        } else {
            kd_loss_topk(ctx_, loss_options, &student, batch.teacher_topk_ids,
                         batch.teacher_topk_logprobs, loss_labels, &loss, &grad);
        }
    }
    if (!std::isfinite(loss_value))
        fail_invalid("batch: the loss is not finite (" + std::to_string(loss_value) + ") at step " +
                     std::to_string(global_step_ + 1) +
                     "; the update was skipped and the model is unchanged (lower the learning "
                     "rate or set max_grad_norm)");

    if (device_)
        device_->student.backward(device_->grad_logits.as<float>());  // downloads the gradients
    else
        model_->backward(grad_outputs_.data());
    const std::span<float> gradients = model_->gradients();
    const double norm = settings_.max_grad_norm > 0.0f
                            ? clip_grad_norm(gradients, settings_.max_grad_norm, ctx_.num_threads)
                            : global_grad_norm(gradients, ctx_.num_threads);
    if (!std::isfinite(norm))
        fail_invalid("batch: the gradient norm is not finite at step " +
                     std::to_string(global_step_ + 1) +
                     "; the update was skipped and the model is unchanged");
    const double lr =
        learning_rate_at(schedule_, base_learning_rate(optimizer_->config()), global_step_);
    optimizer_->step(model_->parameters(), gradients, lr, ctx_.num_threads);
    ++global_step_;

    step_outcome outcome;
    outcome.step = global_step_;
    outcome.loss = loss_value;
    outcome.learning_rate = float(lr);
    outcome.grad_norm = float(norm);
    outcome.accuracy = outcome.agreement = std::numeric_limits<float>::quiet_NaN();
    if (labels || dense || topk) {
        // Rows labelled ignore_index have no label to be accurate against.
        int64_t label_matches = 0, labelled_rows = 0, teacher_matches = 0;
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t predicted = argmax(outputs_.data() + r * classes, classes);
            if (labels && labels[r] != loss_options.ignore_index) {
                ++labelled_rows;
                label_matches += predicted == labels[r];
            }
            if (dense) {
                const float * t = static_cast<const float *>(data_pointer(*batch.teacher_logits));
                const int64_t width = batch.teacher_logits->shape[1];
                teacher_matches += predicted == argmax(t + r * width, width);
            } else if (topk) {
                const auto * lp =
                    static_cast<const float *>(data_pointer(*batch.teacher_topk_logprobs));
                teacher_matches += predicted == topk_top1(*batch.teacher_topk_ids, lp, r,
                                                          batch.teacher_topk_logprobs->shape[1]);
            }
        }
        if (labels && labelled_rows > 0)
            outcome.accuracy = float(double(label_matches) / double(labelled_rows));
        if (dense || topk) outcome.agreement = float(double(teacher_matches) / double(rows));
    }
    return outcome;
}

float student_trainer::forward_and_loss_on_device(const batch_tensors & batch, const float * inputs,
                                                  int64_t rows) {
    device_step & d = *device_;
    const kd_loss_options & options = settings_.loss;
    const int64_t classes = model_->output_size();
    const int32_t device_id = ctx_.device_id;
    d.student.upload_parameters();  // the host optimiser changed them
    const float * logits =
        d.student.forward(inputs, rows, true, mix_seed(settings_.seed, uint64_t(global_step_)));

    int64_t logits_shape[2] = {rows, classes};
    DLTensor student{};
    student.data = const_cast<float *>(logits);
    student.device = {kDLCUDA, device_id};
    student.ndim = 2;
    student.dtype = {kDLFloat, 32, 1};
    student.shape = logits_shape;
    d.grad_logits.reserve(sizeof(float) * size_t(rows * classes));
    DLTensor grad = student;
    grad.data = d.grad_logits.as<float>();
    d.loss.reserve(sizeof(float));
    DLTensor loss = student;
    loss.data = d.loss.as<float>();
    loss.ndim = 0;
    loss.shape = nullptr;

    // What the CPU's loss checks on the host values (labels in range, top-k
    // ids and log-probabilities), the device kernels only flag with NaN:
    // check the host copies here, after the loss's shape checks, so a bad
    // batch gets the CPU's message rather than a non-finite loss.
    kernels::kd_loss_params values = resolve_options(options);
    values.rows = rows;
    values.vocab = classes;
    DLTensor labels{};
    const DLTensor * loss_labels = nullptr;
    if (options.hard_weight > 0.0f) {
        labels = device_copy(*batch.labels, d.labels, device_id);
        loss_labels = &labels;
    }
    if (options.soft_weight == 0.0f) {
        // Labels only, as on the CPU: the student's logits stand in for the teacher.
        kd_loss_dense(ctx_, options, &student, &student, loss_labels, &loss, &grad);
    } else if (batch.teacher_logits != nullptr) {
        const DLTensor teacher = device_copy(*batch.teacher_logits, d.teacher_logits, device_id);
        kd_loss_dense(ctx_, options, &student, &teacher, loss_labels, &loss, &grad);
    } else {
        const DLTensor ids = device_copy(*batch.teacher_topk_ids, d.topk_ids, device_id);
        const DLTensor logprobs =
            device_copy(*batch.teacher_topk_logprobs, d.topk_logprobs, device_id);
        kd_loss_topk(ctx_, options, &student, &ids, &logprobs, loss_labels, &loss, &grad);
        values.topk = ids.shape[1];
        values.topk_id_type =
            ids.dtype.bits == 64 ? kernels::index_type::i64 : kernels::index_type::i32;
        check_topk_values(data_pointer(*batch.teacher_topk_ids),
                          data_pointer(*batch.teacher_topk_logprobs), values);
    }
    if (loss_labels != nullptr) {
        values.label_type = kernels::index_type::i64;
        check_label_values(data_pointer(*batch.labels), values);
    }

    float loss_value = 0.0f;
    d.student.session().copy(&loss_value, d.loss.as<float>(), sizeof(float), 1);  // waits
    outputs_.resize(size_t(rows * classes));
    d.student.download_logits(outputs_.data());  // for the step's metrics
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
            require_same_identity(resumed_data_identity_, identity, resumed_from_,
                                  "training data",
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
                event.kind = 1;
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
        event.kind = 2;
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
                                   device_ ? &device_->student : nullptr);
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

nlohmann::json student_trainer::trainer_state() const {
    nlohmann::json run = loss_identity(settings_.loss, settings_.max_grad_norm);
    if (!data_identity_.is_null()) run["data"] = data_identity_;
    return {
        {"run", run},
        {"epoch", epoch_},
        {"batch_in_epoch", batch_in_epoch_},
        {"batch_size", batch_size_},
        {"global_step", global_step_},
        {"seed", settings_.seed},
        {"best_val_accuracy", std::isnan(best_val_accuracy_) ? nlohmann::json(nullptr)
                                                             : nlohmann::json(best_val_accuracy_)},
        {"best_epoch", best_epoch_},
        {"epochs_without_improvement", epochs_without_improvement_}};
}

void student_trainer::save(const std::filesystem::path & dir) const {
    std::lock_guard lock(model_->usage_mutex());
    checkpoint_views views;
    views.model_config = to_json(model_->config());
    const std::span<const float> parameters = std::as_const(*model_).parameters();
    for (const parameter_info & p : model_->parameter_table())
        views.model_tensors.push_back(
            {p.name, p.shape, parameters.subspan(size_t(p.offset), size_t(p.count))});
    views.optimizer = {{"optimizer", to_json(optimizer_->config())},
                       {"schedule", to_json(schedule_)},
                       {"step", optimizer_->step_count()}};
    for (const optimizer_state_buffer & b : optimizer_->state())
        views.optimizer_tensors.push_back({b.name, {int64_t(b.values.size())}, b.values});
    views.trainer_state = trainer_state();
    if (!best_parameters_.empty())
        for (const parameter_info & p : model_->parameter_table())
            views.best_model_tensors.push_back(
                {p.name, p.shape,
                 std::span<const float>(best_parameters_).subspan(size_t(p.offset),
                                                                  size_t(p.count))});
    save_checkpoint(dir, views);
}

void student_trainer::resume(const std::filesystem::path & dir) {
    const checkpoint_contents contents = load_checkpoint(dir);
    const std::string source = "checkpoint '" + dir.string() + "'";
    if (parse_model_config(contents.model_config) != model_->config())
        fail_invalid(source + ": its model config " + contents.model_config.dump() +
                     " differs from the trainer's " + to_json(model_->config()).dump());
    try {
        const optimizer_config saved =
            optimizer_config_from_json(contents.optimizer.at("optimizer"));
        if (saved.index() != optimizer_->config().index())
            fail_invalid(source + ": its optimizer " + contents.optimizer.at("optimizer").dump() +
                         " is not of the trainer's kind " + to_json(optimizer_->config()).dump());
        const nlohmann::json & state = contents.trainer_state;
        // Check everything before changing anything.
        const int64_t epoch = state.at("epoch").get<int64_t>();
        const int64_t batch_in_epoch = state.at("batch_in_epoch").get<int64_t>();
        const int32_t batch_size = state.at("batch_size").get<int32_t>();
        const int64_t global_step = state.at("global_step").get<int64_t>();
        const uint64_t seed = state.at("seed").get<uint64_t>();
        const nlohmann::json & best = state.at("best_val_accuracy");
        const int32_t best_epoch = state.at("best_epoch").get<int32_t>();
        const int32_t without = state.at("epochs_without_improvement").get<int32_t>();
        const int64_t optimizer_steps = contents.optimizer.at("step").get<int64_t>();
        nlohmann::json resumed_data = nullptr;
        if (state.contains("run")) {  // absent from checkpoints of older versions
            nlohmann::json run = state.at("run");
            if (run.contains("data")) {
                resumed_data = run["data"];
                run.erase("data");
            }
            require_same_identity(run, loss_identity(settings_.loss, settings_.max_grad_norm),
                                  source, "loss options",
                                  "resume it with the same, or start a new run in another "
                                  "checkpoint directory");
        }
        if (epoch < 0 || batch_in_epoch < 0 || global_step < 0 || optimizer_steps != global_step)
            fail_invalid(source + ": inconsistent trainer state " + state.dump());
        // The optimizer state goes into a fresh optimizer of the trainer's
        // config, swapped in only once everything has been read: a refused
        // checkpoint leaves the trainer exactly as it was.
        auto restored =
            std::make_unique<optimizer>(optimizer_->config(), model_->parameter_count());
        std::vector<std::string> expected, given;
        for (const optimizer_state_buffer & b : restored->state()) expected.push_back(b.name);
        for (const checkpoint_tensor & t : contents.optimizer_tensors) given.push_back(t.name);
        std::sort(expected.begin(), expected.end());
        std::sort(given.begin(), given.end());
        if (expected != given)
            fail_invalid(source + ": its optimizer state holds " + nlohmann::json(given).dump() +
                         "; the trainer's optimizer " + to_json(optimizer_->config()).dump() +
                         " keeps " + nlohmann::json(expected).dump());
        for (const checkpoint_tensor & t : contents.optimizer_tensors) {
            if (int64_t(t.values.size()) != model_->parameter_count())
                fail_invalid(source + ": optimizer tensor '" + t.name + "' has " +
                             std::to_string(t.values.size()) + " values; expected " +
                             std::to_string(model_->parameter_count()));
            restored->set_state(t.name, t.values);
        }
        restored->set_step_count(optimizer_steps);
        std::vector<float> best_parameters;
        if (!contents.best_model_tensors.empty())
            best_parameters = parameters_from_tensors(*model_, contents.best_model_tensors,
                                                      source + "/best_model.safetensors");
        {
            std::lock_guard lock(model_->usage_mutex());
            assign_parameters(*model_, contents.model_tensors, source + "/model.safetensors");
        }
        optimizer_ = std::move(restored);
        epoch_ = epoch;
        batch_in_epoch_ = batch_in_epoch;
        batch_size_ = batch_size;
        global_step_ = global_step;
        settings_.seed = seed;
        best_val_accuracy_ = best.is_null() ? not_a_number : best.get<double>();
        best_epoch_ = best_epoch;
        epochs_without_improvement_ = without;
        best_parameters_ = std::move(best_parameters);
        data_identity_ = resumed_data;
        resumed_data_identity_ = std::move(resumed_data);
        resumed_from_ = source;
    } catch (const nlohmann::json::exception & e) {
        fail_invalid(source + ": malformed trainer state or optimizer metadata (" + e.what() + ")");
    }
}

}  // namespace distill
