// trainer.hpp — training a built-in student (distill_trainer_*): one step
// on arrays, or fit over a dataset with progress, checkpoints and resume;
// for a transformer, token steps and training on a token dataset or on a
// teacher's stored answers (section 15; language_model.hpp).
#pragma once

#include "language_model.hpp"
#include "students.hpp"

namespace distill_swig {

/// A trainer's optimiser, schedule and clipping (see distill_trainer_options).
struct TrainerOptions {
    /// {"kind": "adamw", "lr": 1e-3, ...} or {"kind": "sgd", ...}; "" = AdamW defaults.
    std::string optimizer_json;
    /// {"kind": "constant"} or {"kind": "warmup_cosine", ...}; "" = constant.
    std::string schedule_json;
    float max_grad_norm; ///< clip the global norm; 0 = off
    int64_t seed;        ///< dropout and shuffling

    TrainerOptions() {
        const distill::TrainerOptions defaults;
        max_grad_norm = defaults->max_grad_norm;
        seed = static_cast<int64_t>(defaults->seed);
    }
};

/// Options of Trainer.fit (see distill_fit_options).
struct FitOptions {
    int32_t epochs;                  ///< ≥ 1
    int32_t batch_size;              ///< ≥ 1
    int32_t early_stopping_patience; ///< epochs without a better validation accuracy; 0 = off
    std::string checkpoint_dir;      ///< saved after each epoch; "" = none
    bool restore_best;               ///< end with the best validation epoch's weights

    FitOptions() {
        const distill::FitOptions defaults;
        epochs = defaults->epochs;
        batch_size = defaults->batch_size;
        early_stopping_patience = defaults->early_stopping_patience;
        restore_best = defaults->restore_best != 0;
    }
};

/// What one step did.
struct StepMetrics {
    int64_t step;        ///< optimizer steps taken, this one included
    float loss;          ///< the batch's loss (before the update)
    float learning_rate; ///< the rate this step used
    float grad_norm;     ///< global gradient norm before clipping
    float accuracy;      ///< vs labels; NaN without labels
    float agreement;     ///< top-1 agreement with the teacher; NaN without one
};

/// What a fit did.
struct FitSummary {
    int32_t epochs_run;       ///< epochs completed in this call
    bool stopped_early;       ///< early stopping ended the run
    int32_t best_epoch;       ///< 1-based; 0 without validation
    double best_val_accuracy; ///< NaN without validation
    int64_t steps;            ///< optimizer steps in all, resumed ones included
    double seconds;           ///< wall-clock seconds of this call
};

/// A model, an optimiser, a learning-rate schedule and a loss. Keeps its
/// model and context alive: closing them first is safe.
class Trainer {
public:
    /// options and loss may be null (defaults). Labels only: a loss with
    /// soft weight 0 and hard weight 1.
    Trainer(const Context * context, Model * model, const TrainerOptions * options,
            const LossOptions * loss)
        : context_(require(context, "context").shared()), model_(require(model, "model").shared()) {
        const TrainerOptions defaults;
        const TrainerOptions & o = options ? *options : defaults;
        const distill::KdLossOptions loss_options = (loss ? *loss : LossOptions()).to_options();
        distill::TrainerOptions c;
        c->optimizer_json = o.optimizer_json.empty() ? nullptr : o.optimizer_json.c_str();
        c->schedule_json = o.schedule_json.empty() ? nullptr : o.schedule_json.c_str();
        c->loss = &loss_options.get();
        c->max_grad_norm = o.max_grad_norm;
        c->seed = static_cast<uint64_t>(o.seed);
        handle_ = share([&] { return distill::Trainer(*context_, *model_, c); });
    }

    /// One step on a batch: inputs [rows, D], labels [rows] or null, dense
    /// teacher logits [rows, C] or null.
    StepMetrics step(FloatArray inputs, int64_t rows, LongArray labels,
                     FloatArray teacher_logits) {
        const int64_t features = columns_of(inputs.length, rows, "inputs");
        TensorView inputs_t(inputs.data, float32, rows, features, 2);
        std::optional<TensorView> labels_t, logits_t;
        if (labels.data) {
            expect_length(labels.length, rows, "labels");
            labels_t.emplace(labels.data, int64, rows, 0, 1);
        }
        if (teacher_logits.data)
            logits_t.emplace(teacher_logits.data, float32, rows,
                             columns_of(teacher_logits.length, rows, "teacher_logits"), 2);
        distill::Batch batch;
        batch->inputs = &inputs_t.tensor;
        batch->labels = labels_t ? &labels_t->tensor : nullptr;
        batch->teacher_logits = logits_t ? &logits_t->tensor : nullptr;
        return run_step(batch);
    }

    /// One step against a top-k teacher: ids [rows, K], logprobs [rows, K].
    StepMetrics step_topk(FloatArray inputs, int64_t rows, LongArray labels, IntArray teacher_ids,
                          FloatArray teacher_logprobs) {
        const int64_t features = columns_of(inputs.length, rows, "inputs");
        const int64_t k = columns_of(teacher_ids.length, rows, "teacher_ids");
        expect_length(teacher_logprobs.length, rows * k, "teacher_logprobs");
        TensorView inputs_t(inputs.data, float32, rows, features, 2);
        TensorView ids_t(teacher_ids.data, int32, rows, k, 2);
        TensorView logprobs_t(teacher_logprobs.data, float32, rows, k, 2);
        std::optional<TensorView> labels_t;
        if (labels.data) {
            expect_length(labels.length, rows, "labels");
            labels_t.emplace(labels.data, int64, rows, 0, 1);
        }
        distill::Batch batch;
        batch->inputs = &inputs_t.tensor;
        batch->labels = labels_t ? &labels_t->tensor : nullptr;
        batch->teacher_topk_ids = &ids_t.tensor;
        batch->teacher_topk_logprobs = &logprobs_t.tensor;
        return run_step(batch);
    }

    /// Trains for options.epochs epochs from the trainer's current epoch
    /// (a resumed trainer continues); validation may be null.
    FitSummary fit_native(const Dataset * train, const Dataset * validation,
                          const FitOptions * options, ProgressListenerNative * progress) {
        const FitOptions defaults;
        const FitOptions & o = options ? *options : defaults;
        const distill::Dataset & data = require(train, "train").native();
        distill::FitOptions c;
        c->epochs = o.epochs;
        c->batch_size = o.batch_size;
        c->validation = validation ? validation->get() : nullptr;
        c->early_stopping_patience = o.early_stopping_patience;
        c->checkpoint_dir = o.checkpoint_dir.empty() ? nullptr : o.checkpoint_dir.c_str();
        c->restore_best = o.restore_best ? 1 : 0;
        c.on_progress(ProgressListenerNative::function(progress));
        const distill_fit_summary s = call([&] { return (*handle_).fit(data, c); });
        return FitSummary{s.epochs_run, s.stopped_early != 0, s.best_epoch, s.best_val_accuracy,
                          s.steps, s.seconds};
    }

    /// One token-distillation step of a transformer's trainer (see
    /// distill_token_batch): tokens [rows, T]; labels [rows, T] (-100 = no
    /// term) or null = the tokens shifted by one, the last position -100;
    /// the teacher as dense logits [rows, T, vocab], or top-k ids and
    /// log-probabilities [rows, T, k] (-1 = an empty slot), or neither
    /// (plain next-token cross-entropy); k is ignored without top-k arrays.
    TokenStepMetrics step_tokens(IntArray tokens, int64_t rows, IntArray labels,
                                 FloatArray teacher_logits, IntArray topk_ids,
                                 FloatArray topk_logprobs, int32_t k) {
        const int64_t T = positions_of(tokens, rows);
        const int64_t vocab = (*model_).outputs();
        TensorView tokens_t(tokens.data, int32, rows, T, 2);
        std::optional<TensorView> labels_t;
        std::optional<TensorView3> logits_t, ids_t, logprobs_t;
        if (labels.data) {
            expect_length(labels.length, rows * T, "labels");
            labels_t.emplace(labels.data, int32, rows, T, 2);
        }
        if (teacher_logits.data) {
            expect_positions(teacher_logits.length, rows, T, vocab, "teacher_logits", "logits");
            logits_t.emplace(teacher_logits.data, float32, rows, T, vocab);
        }
        if (topk_ids.data || topk_logprobs.data) {
            if (k < 1)
                throw Error(DISTILL_STATUS_INVALID_ARGUMENT,
                            "k: expected the number of top-k alternatives per position (>= 1) "
                            "with top-k arrays, got " + std::to_string(k));
            if (topk_ids.data) {
                expect_positions(topk_ids.length, rows, T, k, "topk_ids", "ids");
                ids_t.emplace(topk_ids.data, int32, rows, T, k);
            }
            if (topk_logprobs.data) {
                expect_positions(topk_logprobs.length, rows, T, k, "topk_logprobs", "log-probabilities");
                logprobs_t.emplace(topk_logprobs.data, float32, rows, T, k);
            }
        }
        // One half of a top-k pair passes as it is: the library refuses it.
        distill::TokenBatch batch;
        batch->tokens = &tokens_t.tensor;
        batch->labels = labels_t ? &labels_t->tensor : nullptr;
        batch->teacher_logits = logits_t ? &logits_t->tensor : nullptr;
        batch->teacher_topk_ids = ids_t ? &ids_t->tensor : nullptr;
        batch->teacher_topk_logprobs = logprobs_t ? &logprobs_t->tensor : nullptr;
        const distill_token_step_metrics m =
            call([&] { return distill::step_tokens(*handle_, batch); });
        return TokenStepMetrics{m.step,      m.loss,      m.learning_rate, m.grad_norm,
                                m.soft_loss, m.hard_loss, m.positions};
    }

    /// Trains a transformer's trainer on the training windows of `dataset`
    /// until its step is options.steps, validating as options say.
    TextFitSummary fit_text_native(const TextDataset * dataset, const TextFitOptions * options,
                                   TextFitListenerNative * progress) {
        const distill::TextDataset & data = require(dataset, "dataset").native();
        distill::TextFitOptions c = require(options, "options").to_options();
        c.on_progress(TextFitListenerNative::function(progress));
        return TextFitSummary(call([&] { return distill::fit_text(*handle_, data, c); }));
    }

    /// Trains a transformer's trainer on a teacher's stored answers (prompt
    /// as the student's tokens, completion positions against the teacher's
    /// top-k); teacher_identity_json "" = the store's only teacher.
    StoredFitSummary fit_stored_native(Store * store, const Tokenizer * tokenizer,
                                       const std::string & teacher_identity_json,
                                       const TextFitOptions * options,
                                       TextFitListenerNative * progress) {
        distill::Store & answers = require(store, "store").native();
        const distill::Tokenizer & student = require(tokenizer, "tokenizer").native();
        distill::TextFitOptions c = require(options, "options").to_options();
        c.on_progress(TextFitListenerNative::function(progress));
        distill_stored_rows_info info = distill::sized<distill_stored_rows_info>();
        const distill_text_fit_summary s = call([&] {
            return distill::fit_stored(*handle_, answers, student, teacher_identity_json, c, &info);
        });
        StoredRowsInfo rows;
        rows.assign(info);
        return StoredFitSummary(TextFitSummary(s), rows);
    }

    /// Writes a checkpoint directory (weights, optimizer state, position).
    void save(const std::string & dir) const { call([&] { (*handle_).save(dir); }); }
    /// Loads a checkpoint so that fit continues where the saved run stopped.
    void resume(const std::string & dir) { call([&] { (*handle_).resume(dir); }); }

    /// Completed epochs.
    int64_t epoch() const { return call([&] { return (*handle_).position().first; }); }
    /// Optimizer steps taken.
    int64_t step_count() const { return call([&] { return (*handle_).position().second; }); }

private:
    StepMetrics run_step(const distill::Batch & batch) {
        const distill_step_metrics m = call([&] { return (*handle_).step(batch); });
        return StepMetrics{m.step, m.loss, m.learning_rate, m.grad_norm, m.accuracy, m.agreement};
    }

    shared_handle<distill::Context> context_;
    shared_handle<distill::Model> model_;
    shared_handle<distill::Trainer> handle_;
};

}  // namespace distill_swig
