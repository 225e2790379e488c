// distill.h section 15: the transformer student's own calls — logits,
// token-distillation steps, evaluation on a token dataset and the training
// loop over one (core/lm, core/train/{token_distillation,lm_evaluation,
// text_fit}.h). The model and trainer calls of section 11 that also take a
// transformer live in model.cpp and trainer.cpp.
#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include "api_guard.h"
#include "common/scoped_omp_threads.h"
#include "context_handle.h"
#include "lm/transformer.h"
#include "student_handles.h"
#include "tensor/tensor_checks.h"
#include "store_handle.h"
#include "teachers/request_key.h"
#include "text_dataset_handle.h"
#include "tokenizer_handle.h"
#include "train/lm_evaluation.h"
#include "train/stored_completions.h"
#include "train/text_fit.h"
#include "train/transformer_trainer.h"
#include "versioned_struct.h"

using distill::capi::guarded;
using distill::capi::require_pointer;
using distill::capi::versioned_result;

namespace {

std::string dims_text(const std::vector<int64_t> & dims) {
    std::string text = "[";
    for (size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
    return text + "]";
}

// A contiguous CPU tensor of `dtype` bits/code and exactly `dims` (a −1
// takes any extent ≥ 1; the extents found are returned).
std::vector<int64_t> require_host_array(const DLTensor * tensor, const char * name,
                                        uint8_t code, const char * dtype_name,
                                        const std::vector<int64_t> & dims,
                                        const std::string & description) {
    const DLTensor & t = distill::require_tensor(tensor, name);
    distill::require_device(t, name, {false, 0});
    if (t.dtype.code != code || t.dtype.bits != 32 || t.dtype.lanes != 1)
        distill::fail_invalid(std::string(name) + ": expected dtype " + dtype_name + ", got " +
                              distill::dtype_string(t.dtype));
    if (t.ndim != int32_t(dims.size()))
        distill::fail_invalid(std::string(name) + ": expected " + std::to_string(dims.size()) +
                              " dimensions " + description + ", got shape " +
                              distill::shape_string(t));
    std::vector<int64_t> found(dims.size());
    for (size_t i = 0; i < dims.size(); ++i) {
        found[i] = t.shape[i];
        if ((dims[i] < 0 && t.shape[i] < 1) || (dims[i] >= 0 && t.shape[i] != dims[i]))
            distill::fail_invalid(std::string(name) + ": expected shape " + description +
                                  ", got " + distill::shape_string(t));
    }
    distill::require_contiguous(t, name);
    return found;
}

// tokens int32 [B, T] with 1 ≤ T ≤ the model's context and ids in range.
std::vector<int64_t> require_token_ids(const DLTensor * tokens, const char * name,
                                       const distill::lm::transformer_config & config) {
    const std::vector<int64_t> bt = require_host_array(
        tokens, name, kDLInt, "int32", {-1, -1},
        "[B, T] (B sequences of T ≤ " + std::to_string(config.context) + " token ids)");
    if (bt[1] > config.context)
        distill::fail_invalid(std::string(name) + ": sequences of " + std::to_string(bt[1]) +
                              " tokens are longer than the model's context of " +
                              std::to_string(config.context));
    const auto * ids = static_cast<const int32_t *>(distill::data_pointer(*tokens));
    for (int64_t i = 0; i < bt[0] * bt[1]; ++i)
        if (ids[i] < 0 || ids[i] >= config.vocab)
            distill::fail_invalid(std::string(name) + "[" + std::to_string(i / bt[1]) + ", " +
                                  std::to_string(i % bt[1]) + "]: expected a token id in [0, " +
                                  std::to_string(config.vocab) + ") (the model's vocabulary), got " +
                                  std::to_string(ids[i]));
    return bt;
}

void require_cpu(const distill::context & ctx, const char * call) {
    if (ctx.cuda)
        distill::fail_unsupported(std::string("context: ") + call +
                                  " runs a transformer on the CPU in this version; pass a CPU "
                                  "context (DISTILL_DEVICE_CPU)");
}

distill_lm_eval_metrics to_abi(const distill::lm_eval_result & r) {
    distill_lm_eval_metrics m{};
    m.struct_size = sizeof m;
    m.windows = r.windows;
    m.positions = r.positions;
    m.loss = r.loss;
    m.perplexity = r.perplexity;
    m.accuracy = r.accuracy;
    m.agreement = r.agreement;
    m.mean_kl = r.mean_kl;
    return m;
}

distill::text_fit_settings settings_of(const distill_text_fit_options & o) {
    distill::text_fit_settings settings;
    settings.steps = o.steps;
    settings.batch_windows = o.batch_windows;
    settings.seed = o.seed;
    settings.eval_interval = o.eval_interval;
    settings.eval_windows = o.eval_windows;
    if (o.checkpoint_dir != nullptr) settings.checkpoint_dir = o.checkpoint_dir;
    return settings;
}

// The caller's callback behind the core's progress function (empty: none).
distill::text_fit_progress progress_of(const distill_text_fit_options & o) {
    if (o.progress == nullptr) return {};
    return [callback = o.progress, user_data = o.progress_user_data](
               const distill::text_fit_event & e) {
        distill_text_fit_progress p{};
        p.struct_size = sizeof p;
        p.evaluated = e.evaluated ? 1 : 0;
        p.step = e.step;
        p.steps = e.steps;
        p.loss = e.loss;
        p.tokens_per_second = e.tokens_per_second;
        p.elapsed_seconds = e.elapsed_seconds;
        if (e.evaluated) p.validation = to_abi(e.validation);
        return callback(user_data, &p) != DISTILL_STATUS_CANCELLED;
    };
}

// Writes the summary of a finished fit, or throws CANCELLED (out untouched,
// as for every failed call).
void finish_fit(const distill::text_fit_outcome & f, const distill::text_fit_settings & settings,
                const versioned_result<distill_text_fit_summary> & result) {
    if (f.cancelled)
        throw distill::error(distill::status::cancelled,
                             "training was cancelled at step " + std::to_string(f.global_step) +
                                 (settings.checkpoint_dir.empty()
                                      ? std::string()
                                      : " (checkpoint written to '" +
                                            settings.checkpoint_dir.string() + "')"));
    distill_text_fit_summary s{};
    s.steps_run = f.steps_run;
    s.global_step = f.global_step;
    s.final_loss = f.final_loss;
    s.validated = f.validated ? 1 : 0;
    if (f.validated) s.validation = to_abi(f.validation);
    s.seconds = f.seconds;
    result.write(s);
}

// The answers of a store as completion rows for `student` (context T).
distill::completion_rows read_rows(distill::store & s, const distill_tokenizer * tokenizer,
                                   const char * teacher_identity_json,
                                   const distill::lm::transformer_config & student) {
    require_pointer(tokenizer, "tokenizer", "the student's tokenizer (distill_tokenizer_load)");
    const distill::tokenizer::bpe_tokenizer & student_tokenizer = *tokenizer->tokenizer;
    distill::completion_rows_settings read;
    read.T = student.context;
    read.pad = student_tokenizer.token_to_id("<|endoftext|>").value_or(0);
    read.tokenizer_name = "the student's tokenizer";
    if (teacher_identity_json != nullptr)
        read.teacher = distill::canonical_json(
            distill::parse_json_argument(teacher_identity_json, "teacher_identity_json"));
    return distill::read_completion_rows(s, student_tokenizer, read);
}

// What was read, for the caller's distill_stored_rows_info.
distill_stored_rows_info rows_info(const distill::completion_rows & rows) {
    distill_stored_rows_info info{};
    info.rows = rows.rows;
    info.topk = rows.K;
    info.text_only = rows.text_only;
    info.failed = rows.failed;
    info.empty = rows.empty;
    info.too_long = rows.too_long;
    info.alternatives = rows.counts.alternatives;
    info.by_id = rows.counts.by_id;
    info.by_bytes = rows.counts.by_bytes;
    info.unmapped = rows.counts.unmapped;
    return info;
}

// A teacher handle's transformer, locked beside the student's. The
// student itself is refused: its forward would overwrite the teacher's
// logits, and agreement with itself says nothing.
struct teacher_lock {
    distill::lm::transformer * model = nullptr;
    std::unique_lock<std::mutex> lock;

    teacher_lock(distill_model * teacher, const distill::capi::shared_transformer & student,
                 const char * name) {
        if (teacher == nullptr) return;
        distill::capi::shared_transformer & t = distill::capi::unwrap_transformer(teacher, name);
        if (&t == &student || t.model == student.model)
            distill::fail_invalid(std::string(name) + ": expected a teacher model other than the "
                                  "student, got the student itself");
        model = t.model.get();
        lock = std::unique_lock(t.mutex);
    }
};

}  // namespace

extern "C" {

distill_status distill_lm_logits(const distill_context * context, distill_model * model,
                                 const DLTensor * tokens, DLTensor * out) {
    return guarded([&] {
        const distill::context & ctx = distill::capi::unwrap(context);
        distill::capi::shared_transformer & shared =
            distill::capi::unwrap_transformer(model, "model");
        require_cpu(ctx, "distill_lm_logits");
        const distill::lm::transformer_config & config = shared.model->config();
        const std::vector<int64_t> bt = require_token_ids(tokens, "tokens", config);
        require_host_array(out, "out", kDLFloat, "float32", {bt[0], bt[1], config.vocab},
                           dims_text({bt[0], bt[1], config.vocab}) +
                               " (B and T of tokens, the model's vocabulary)");
        distill::require_no_overlap(*out, "out", *tokens, "tokens");
        const std::lock_guard lock(shared.mutex);
        const distill::scoped_omp_threads threads(ctx.num_threads);
        const std::span<const float> logits = shared.model->forward(
            static_cast<const int32_t *>(distill::data_pointer(*tokens)), bt[0], bt[1]);
        std::copy(logits.begin(), logits.end(), static_cast<float *>(distill::data_pointer(*out)));
    });
}

distill_status distill_token_batch_init(distill_token_batch * batch) {
    return guarded([&] {
        require_pointer(batch, "batch", "a distill_token_batch to fill");
        *batch = distill_token_batch{};
        batch->struct_size = sizeof(distill_token_batch);
    });
}

distill_status distill_trainer_step_tokens(distill_trainer * trainer,
                                           const distill_token_batch * batch,
                                           distill_token_step_metrics * out) {
    return guarded([&] {
        distill::transformer_trainer & t = distill::capi::unwrap_transformer_trainer(trainer);
        require_pointer(batch, "batch", "a distill_token_batch (distill_token_batch_init)");
        distill_token_batch defaults{};
        distill_token_batch_init(&defaults);
        const distill_token_batch b = distill::capi::read_versioned(batch, defaults, "batch");
        const versioned_result result(out, "out");  // checked before the step
        const distill::lm::transformer_config & config = t.student()->config();
        const std::vector<int64_t> bt = require_token_ids(b.tokens, "batch.tokens", config);
        const int64_t B = bt[0], T = bt[1];
        const std::string bt_text = dims_text({B, T});
        const auto * tokens = static_cast<const int32_t *>(distill::data_pointer(*b.tokens));
        std::vector<int32_t> shifted;
        const int32_t * labels = nullptr;
        if (b.labels != nullptr) {
            require_host_array(b.labels, "batch.labels", kDLInt, "int32", {B, T},
                               bt_text + " (B and T of batch.tokens)");
            labels = static_cast<const int32_t *>(distill::data_pointer(*b.labels));
        } else {
            shifted.resize(size_t(B * T));
            for (int64_t r = 0; r < B; ++r)
                for (int64_t c = 0; c < T; ++c)
                    shifted[size_t(r * T + c)] =
                        c + 1 < T ? tokens[r * T + c + 1] : distill::lm::ignore_target;
            labels = shifted.data();
        }
        distill::token_teacher_targets teacher;
        if (b.teacher_logits != nullptr) {
            if (b.teacher_topk_ids != nullptr || b.teacher_topk_logprobs != nullptr)
                distill::fail_invalid("batch: expected the teacher as dense logits or as top-k ids "
                                      "with log-probabilities, got both forms");
            require_host_array(b.teacher_logits, "batch.teacher_logits", kDLFloat, "float32",
                               {B, T, config.vocab},
                               dims_text({B, T, config.vocab}) +
                                   " (B, T of batch.tokens and the student's vocabulary)");
            teacher.logits = static_cast<const float *>(distill::data_pointer(*b.teacher_logits));
        } else if (b.teacher_topk_ids != nullptr || b.teacher_topk_logprobs != nullptr) {
            if (b.teacher_topk_ids == nullptr || b.teacher_topk_logprobs == nullptr)
                distill::fail_invalid("batch: top-k teacher targets need both teacher_topk_ids "
                                      "and teacher_topk_logprobs, got only one");
            const std::vector<int64_t> k = require_host_array(
                b.teacher_topk_ids, "batch.teacher_topk_ids", kDLInt, "int32", {B, T, -1},
                "[" + std::to_string(B) + ", " + std::to_string(T) +
                    ", K] (B, T of batch.tokens)");
            require_host_array(b.teacher_topk_logprobs, "batch.teacher_topk_logprobs", kDLFloat,
                               "float32", {B, T, k[2]},
                               dims_text({B, T, k[2]}) + " (the shape of teacher_topk_ids)");
            teacher.topk_ids = static_cast<const int32_t *>(distill::data_pointer(*b.teacher_topk_ids));
            teacher.topk_logprobs =
                static_cast<const float *>(distill::data_pointer(*b.teacher_topk_logprobs));
            teacher.topk = k[2];
        }
        distill::transformer_step_outcome s;
        {
            const std::lock_guard lock(trainer->lm_model->mutex);
            s = t.step(tokens, labels, B, T, teacher);
        }
        distill_token_step_metrics m{};
        m.step = s.step;
        m.loss = s.loss;
        m.learning_rate = s.learning_rate;
        m.grad_norm = s.grad_norm;
        m.soft_loss = s.soft_loss;
        m.hard_loss = s.hard_loss;
        m.positions = s.positions;
        result.write(m);
    });
}

distill_status distill_lm_eval_options_init(distill_lm_eval_options * options) {
    return guarded([&] {
        require_pointer(options, "options", "a distill_lm_eval_options to fill");
        *options = distill_lm_eval_options{};
        options->struct_size = sizeof(distill_lm_eval_options);
        options->split = DISTILL_SPLIT_VALIDATION;
        options->batch_windows = 8;
    });
}

distill_status distill_lm_evaluate(const distill_context * context, distill_model * model,
                                   const distill_text_dataset * dataset,
                                   const distill_lm_eval_options * options,
                                   distill_lm_eval_metrics * out) {
    return guarded([&] {
        const distill::context & ctx = distill::capi::unwrap(context);
        distill::capi::shared_transformer & student =
            distill::capi::unwrap_transformer(model, "model");
        const distill::text::text_dataset & data = distill::capi::unwrap_text_dataset(dataset);
        require_pointer(out, "out", "a distill_lm_eval_metrics with struct_size set");
        require_cpu(ctx, "distill_lm_evaluate");
        distill_lm_eval_options defaults{};
        distill_lm_eval_options_init(&defaults);
        const distill_lm_eval_options o = distill::capi::read_versioned(options, defaults, "options");
        const versioned_result result(out, "out");
        distill::lm_eval_settings settings;
        settings.split = distill::capi::split_of(o.split, "options.split");
        settings.batch_windows = o.batch_windows;
        settings.max_windows = o.max_windows;
        settings.num_threads = ctx.num_threads;
        const std::lock_guard lock(student.mutex);
        const teacher_lock teacher(o.teacher, student, "options.teacher");
        result.write(to_abi(
            distill::evaluate_language_model(*student.model, teacher.model, data, settings)));
    });
}

distill_status distill_text_fit_options_init(distill_text_fit_options * options) {
    return guarded([&] {
        require_pointer(options, "options", "a distill_text_fit_options to fill");
        *options = distill_text_fit_options{};
        options->struct_size = sizeof(distill_text_fit_options);
        options->batch_windows = 8;
    });
}

distill_status distill_trainer_fit_text(distill_trainer * trainer,
                                        const distill_text_dataset * dataset,
                                        const distill_text_fit_options * options,
                                        distill_text_fit_summary * out) {
    return guarded([&] {
        distill::transformer_trainer & t = distill::capi::unwrap_transformer_trainer(trainer);
        const distill::text::text_dataset & data = distill::capi::unwrap_text_dataset(dataset);
        require_pointer(options, "options",
                        "a distill_text_fit_options with steps set (distill_text_fit_options_init)");
        distill_text_fit_options defaults{};
        distill_text_fit_options_init(&defaults);
        const distill_text_fit_options o = distill::capi::read_versioned(options, defaults, "options");
        const versioned_result result(out, "out");
        distill::text_fit_settings settings = settings_of(o);
        const distill::text_fit_progress progress = progress_of(o);
        const std::lock_guard lock(trainer->lm_model->mutex);
        const teacher_lock teacher(o.teacher, *trainer->lm_model, "options.teacher");
        const distill::text_fit_outcome f = distill::fit_text(t, teacher.model, data, settings, progress);
        finish_fit(f, settings, result);
    });
}

distill_status distill_trainer_fit_stored(distill_trainer * trainer, distill_store * store,
                                          const distill_tokenizer * tokenizer,
                                          const char * teacher_identity_json,
                                          const distill_text_fit_options * options,
                                          distill_stored_rows_info * out_rows,
                                          distill_text_fit_summary * out) {
    return guarded([&] {
        distill::transformer_trainer & t = distill::capi::unwrap_transformer_trainer(trainer);
        distill::store & s = distill::capi::unwrap(store);
        require_pointer(tokenizer, "tokenizer", "the student's tokenizer (distill_tokenizer_load)");
        require_pointer(options, "options",
                        "a distill_text_fit_options with steps set (distill_text_fit_options_init)");
        distill_text_fit_options defaults{};
        distill_text_fit_options_init(&defaults);
        const distill_text_fit_options o = distill::capi::read_versioned(options, defaults, "options");
        if (o.teacher != nullptr)
            distill::fail_invalid("options.teacher: the teacher of distill_trainer_fit_stored is "
                                  "the store's answers; expected NULL, got a model");
        const versioned_result rows_result(out_rows, "out_rows");
        const versioned_result result(out, "out");
        const distill::text_fit_settings settings = settings_of(o);
        const distill::text_fit_progress progress = progress_of(o);
        const std::lock_guard lock(trainer->lm_model->mutex);
        const distill::completion_rows rows =
            read_rows(s, tokenizer, teacher_identity_json, t.student()->config());
        const distill::text_fit_outcome f = distill::fit_completions(t, rows, settings, progress);
        finish_fit(f, settings, result);  // throws CANCELLED first: outs untouched on failure
        rows_result.write(rows_info(rows));
    });
}

distill_status distill_lm_evaluate_stored(const distill_context * context,
                                          distill_model * model, distill_store * store,
                                          const distill_tokenizer * tokenizer,
                                          const char * teacher_identity_json,
                                          const distill_lm_eval_options * options,
                                          distill_stored_rows_info * out_rows,
                                          distill_lm_eval_metrics * out) {
    return guarded([&] {
        const distill::context & ctx = distill::capi::unwrap(context);
        distill::capi::shared_transformer & student =
            distill::capi::unwrap_transformer(model, "model");
        distill::store & s = distill::capi::unwrap(store);
        require_pointer(tokenizer, "tokenizer", "the student's tokenizer (distill_tokenizer_load)");
        require_pointer(out, "out", "a distill_lm_eval_metrics with struct_size set");
        require_cpu(ctx, "distill_lm_evaluate_stored");
        distill_lm_eval_options defaults{};
        distill_lm_eval_options_init(&defaults);
        const distill_lm_eval_options o = distill::capi::read_versioned(options, defaults, "options");
        if (o.teacher != nullptr || o.split != defaults.split)
            distill::fail_invalid("options: the teacher of distill_lm_evaluate_stored is the "
                                  "store's answers and it has no splits; leave options.teacher "
                                  "NULL and options.split at its default");
        const versioned_result rows_result(out_rows, "out_rows");
        const versioned_result result(out, "out");
        distill::lm_eval_settings settings;
        settings.batch_windows = o.batch_windows;
        settings.max_windows = o.max_windows;
        settings.num_threads = ctx.num_threads;
        const std::lock_guard lock(student.mutex);
        const distill::completion_rows rows =
            read_rows(s, tokenizer, teacher_identity_json, student.model->config());
        result.write(to_abi(distill::evaluate_on_completions(*student.model, rows, settings)));
        rows_result.write(rows_info(rows));
    });
}

}  // extern "C"
