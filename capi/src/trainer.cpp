// distill_trainer_*, distill_model_evaluate: the distillation step, the
// training loop and checkpoints of built-in students.
#include <chrono>
#include <cmath>
#include <memory>
#include <string>

#include "api_guard.h"
#include "common/scoped_omp_threads.h"
#include "context_handle.h"
#include "kd_loss_options.h"
#include "student_handles.h"
#include "students/model.h"
#include "teachers/request_key.h"
#include "train/evaluation.h"
#include "train/student_trainer.h"
#include "train/transformer_trainer.h"
#include "versioned_struct.h"

distill_trainer::~distill_trainer() = default;

namespace distill::capi {
namespace {
[[noreturn]] void refuse_transformer_trainer() {
    fail_invalid(
        "trainer: expected the trainer of an MLP or CNN model, got a transformer's; it trains "
        "through distill.h section 15 (distill_trainer_step_tokens, distill_trainer_fit_text)");
}
}  // namespace

distill::student_trainer & unwrap(distill_trainer * trainer) {
    require_pointer(trainer, "trainer", "a trainer from distill_trainer_create");
    if (!trainer->impl) refuse_transformer_trainer();
    return *trainer->impl;
}
const distill::student_trainer & unwrap(const distill_trainer * trainer) {
    require_pointer(trainer, "trainer", "a trainer from distill_trainer_create");
    if (!trainer->impl) refuse_transformer_trainer();
    return *trainer->impl;
}
distill::transformer_trainer & unwrap_transformer_trainer(distill_trainer * trainer) {
    require_pointer(trainer, "trainer", "a trainer from distill_trainer_create");
    if (!trainer->lm)
        fail_invalid("trainer: expected the trainer of a transformer model, got an MLP or CNN's "
                     "(it trains through distill_trainer_step and distill_trainer_fit)");
    return *trainer->lm;
}
}  // namespace distill::capi

using distill::capi::guarded;
using distill::capi::require_pointer;
using distill::capi::unwrap;
using distill::capi::versioned_result;

namespace {

static_assert(int32_t(distill::fit_event_kind::step) == DISTILL_PROGRESS_STEP &&
              int32_t(distill::fit_event_kind::epoch_end) == DISTILL_PROGRESS_EPOCH_END);

}  // namespace

extern "C" {

distill_status distill_trainer_options_init(distill_trainer_options * options) {
    return guarded([&] {
        require_pointer(options, "options", "a distill_trainer_options to fill");
        *options = distill_trainer_options{};
        options->struct_size = sizeof(distill_trainer_options);
    });
}

distill_status distill_trainer_create(const distill_context * context, distill_model * model,
                                      const distill_trainer_options * options,
                                      distill_trainer ** out) {
    return guarded([&] {
        const distill::context & ctx = unwrap(context);  // CPU or CUDA
        require_pointer(model, "model", "a model from distill_model_create or distill_model_load");
        if (!model->lm) unwrap(model);
        require_pointer(out, "out", "a place for the new trainer");
        distill_trainer_options defaults{};
        distill_trainer_options_init(&defaults);
        const distill_trainer_options o =
            distill::capi::read_versioned(options, defaults, "options");
        distill::trainer_settings settings;
        settings.optimizer = o.optimizer_json ? distill::parse_json_argument(
                                                    o.optimizer_json, "options.optimizer_json")
                                              : nlohmann::json{{"kind", "adamw"}};
        if (o.schedule_json)
            settings.schedule =
                distill::parse_json_argument(o.schedule_json, "options.schedule_json");
        settings.loss = distill::capi::to_core(o.loss);
        settings.max_grad_norm = o.max_grad_norm;
        settings.seed = o.seed;
        if (model->lm) {
            if (ctx.cuda)
                distill::fail_unsupported(
                    "context: a transformer trains on the CPU in this version; pass a CPU "
                    "context (distill_context_create with DISTILL_DEVICE_CPU)");
            distill::transformer_trainer_settings lm_settings;
            lm_settings.optimizer = settings.optimizer;
            lm_settings.schedule = settings.schedule;
            lm_settings.max_grad_norm = settings.max_grad_norm;
            lm_settings.num_threads = ctx.num_threads;
            lm_settings.loss = settings.loss;
            auto handle = std::make_unique<distill_trainer>();
            handle->lm_model = model->lm;
            handle->lm = std::make_unique<distill::transformer_trainer>(model->lm->model,
                                                                        std::move(lm_settings));
            *out = handle.release();
            return;
        }
        auto handle = std::make_unique<distill_trainer>();
        handle->impl =
            std::make_unique<distill::student_trainer>(ctx, model->impl, std::move(settings));
        *out = handle.release();
    });
}

void distill_trainer_free(distill_trainer * trainer) { delete trainer; }

distill_status distill_batch_init(distill_batch * batch) {
    return guarded([&] {
        require_pointer(batch, "batch", "a distill_batch to fill");
        *batch = distill_batch{};
        batch->struct_size = sizeof(distill_batch);
    });
}

distill_status distill_trainer_step(distill_trainer * trainer, const distill_batch * batch,
                                    distill_step_metrics * out) {
    return guarded([&] {
        distill::student_trainer & t = unwrap(trainer);
        require_pointer(batch, "batch", "a distill_batch (distill_batch_init)");
        distill_batch defaults{};
        distill_batch_init(&defaults);
        const distill_batch b = distill::capi::read_versioned(batch, defaults, "batch");
        require_pointer(b.inputs, "batch.inputs", "the batch's inputs [B, D]");
        distill::batch_tensors tensors;
        tensors.inputs = b.inputs;
        tensors.labels = b.labels;
        tensors.teacher_logits = b.teacher_logits;
        tensors.teacher_topk_ids = b.teacher_topk_ids;
        tensors.teacher_topk_logprobs = b.teacher_topk_logprobs;
        const versioned_result result(out, "out");  // checked before the step
        const distill::step_outcome s = t.step(tensors);
        if (out) {
            distill_step_metrics m{};
            m.step = s.step;
            m.loss = s.loss;
            m.learning_rate = s.learning_rate;
            m.grad_norm = s.grad_norm;
            m.accuracy = s.accuracy;
            m.agreement = s.agreement;
            result.write(m);
        }
    });
}

distill_status distill_model_evaluate(const distill_context * context, distill_model * model,
                                      const distill_dataset * dataset, distill_eval_metrics * out) {
    return guarded([&] {
        const distill::context & ctx = unwrap(context);
        distill::model & m = unwrap(model);
        const distill::example_set & set = unwrap(dataset);
        require_pointer(out, "out", "a distill_eval_metrics with struct_size set");
        const versioned_result written(out, "out");  // checked before the work
        distill::evaluation e;
        {
            std::lock_guard lock(m.usage_mutex());
            const distill::scoped_omp_threads threads(ctx.num_threads);
            e = distill::evaluate_model(m, set, ctx);
        }
        distill_eval_metrics result{};
        result.examples = e.examples;
        result.accuracy = e.accuracy;
        result.agreement = e.agreement;
        result.mean_kl = e.mean_kl;
        result.ece = e.ece;
        result.loss = e.loss;
        written.write(result);
    });
}

distill_status distill_fit_options_init(distill_fit_options * options) {
    return guarded([&] {
        require_pointer(options, "options", "a distill_fit_options to fill");
        *options = distill_fit_options{};
        options->struct_size = sizeof(distill_fit_options);
        options->epochs = 10;
        options->batch_size = 128;
    });
}

distill_status distill_trainer_fit(distill_trainer * trainer, const distill_dataset * train,
                                   const distill_fit_options * options, distill_fit_summary * out) {
    return guarded([&] {
        distill::student_trainer & t = unwrap(trainer);
        const distill::example_set & set = unwrap(train);
        distill_fit_options defaults{};
        distill_fit_options_init(&defaults);
        const distill_fit_options o = distill::capi::read_versioned(options, defaults, "options");
        const versioned_result result(out, "out");  // checked before the work
        distill::fit_settings settings;
        settings.epochs = o.epochs;
        settings.batch_size = o.batch_size;
        settings.validation = o.validation ? &o.validation->examples : nullptr;
        settings.early_stopping_patience = o.early_stopping_patience;
        if (o.checkpoint_dir) settings.checkpoint_dir = o.checkpoint_dir;
        settings.restore_best = o.restore_best != 0;
        distill::fit_progress progress;
        if (o.progress)
            progress = [&](const distill::fit_event & e) {
                distill_progress p{};
                p.struct_size = sizeof p;
                p.event = int32_t(e.kind);
                p.done = e.done;
                p.total = e.total;
                p.epoch = e.epoch;
                p.epochs = e.epochs;
                p.loss = e.loss;
                p.val_accuracy = e.val_accuracy;
                p.val_agreement = e.val_agreement;
                p.elapsed_seconds = e.elapsed_seconds;
                return o.progress(o.progress_user_data, &p) != DISTILL_STATUS_CANCELLED;
            };
        const distill::fit_outcome f = t.fit(set, settings, progress);
        if (out) {
            distill_fit_summary s{};
            s.epochs_run = f.epochs_run;
            s.stopped_early = f.stopped_early ? 1 : 0;
            s.best_epoch = f.best_epoch;
            s.best_val_accuracy = f.best_val_accuracy;
            s.steps = f.steps;
            s.seconds = f.seconds;
            result.write(s);
        }
    });
}

distill_status distill_trainer_save(const distill_trainer * trainer, const char * dir) {
    return guarded([&] {
        require_pointer(trainer, "trainer", "a trainer from distill_trainer_create");
        require_pointer(dir, "dir", "the checkpoint directory");
        if (trainer->lm) {
            const std::lock_guard lock(trainer->lm_model->mutex);
            trainer->lm->save(dir);
            return;
        }
        unwrap(trainer).save(dir);
    });
}

distill_status distill_trainer_resume(distill_trainer * trainer, const char * dir) {
    return guarded([&] {
        require_pointer(trainer, "trainer", "a trainer from distill_trainer_create");
        require_pointer(dir, "dir", "a checkpoint directory from distill_trainer_save");
        if (trainer->lm) {
            const std::lock_guard lock(trainer->lm_model->mutex);
            trainer->lm->resume(dir);
            return;
        }
        unwrap(trainer).resume(dir);
    });
}

distill_status distill_trainer_position(const distill_trainer * trainer, int64_t * out_epoch,
                                        int64_t * out_step) {
    return guarded([&] {
        require_pointer(trainer, "trainer", "a trainer from distill_trainer_create");
        if (trainer->lm) {
            if (out_epoch) *out_epoch = 0;
            if (out_step) *out_step = trainer->lm->global_step();
            return;
        }
        const distill::student_trainer & t = unwrap(trainer);
        if (out_epoch) *out_epoch = t.epoch();
        if (out_step) *out_step = t.global_step();
    });
}

}  // extern "C"
