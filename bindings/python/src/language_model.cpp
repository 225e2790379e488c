// distill.h section 15 from Python: a transformer distill.Model's next-token
// logits, its Trainer's token steps and training loops (over a TextDataset,
// or over a teacher's stored answers), and evaluate_lm / evaluate_lm_stored.
// The methods are added to the Model and Trainer classes that students.cpp
// and training.cpp define; tensors in are borrowed (NumPy buffers, DLPack),
// never copied, and the library checks their dtype, shape and layout.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "bindings.h"
#include "common.h"
#include "handles.h"

namespace distill_python {

namespace {

// --- results as dicts -----------------------------------------------------------------

py::dict lm_metrics_dict(const distill_lm_eval_metrics & m) {
    py::dict out;
    out["windows"] = m.windows;
    out["positions"] = m.positions;
    out["loss"] = m.loss;
    out["perplexity"] = m.perplexity;
    out["accuracy"] = m.accuracy;
    out["agreement"] = m.agreement;
    out["mean_kl"] = m.mean_kl;
    return out;
}

py::dict rows_dict(const distill_stored_rows_info & r) {
    py::dict out;
    out["rows"] = r.rows;
    out["topk"] = r.topk;
    out["text_only"] = r.text_only;
    out["failed"] = r.failed;
    out["empty"] = r.empty;
    out["too_long"] = r.too_long;
    out["alternatives"] = r.alternatives;
    out["by_id"] = r.by_id;
    out["by_bytes"] = r.by_bytes;
    out["unmapped"] = r.unmapped;
    return out;
}

py::dict step_dict(const distill_token_step_metrics & m) {
    py::dict out;
    out["step"] = m.step;
    out["loss"] = m.loss;
    out["learning_rate"] = m.learning_rate;
    out["grad_norm"] = m.grad_norm;
    out["soft_loss"] = m.soft_loss;
    out["hard_loss"] = m.hard_loss;
    out["positions"] = m.positions;
    return out;
}

// A validation that evaluated windows (the library reports evaluated = 1
// only after one; the check keeps zero figures out of the history anyway).
bool validated(const distill_text_fit_progress & p) {
    return p.evaluated != 0 && p.validation.windows > 0;
}

py::dict progress_dict(const distill_text_fit_progress & p) {
    py::dict out;
    out["event"] = p.evaluated == 0 ? "step" : "validation";
    out["step"] = p.step;
    out["steps"] = p.steps;
    out["loss"] = p.loss;
    out["tokens_per_second"] = p.tokens_per_second;
    out["seconds"] = p.elapsed_seconds;
    out["validation"] = validated(p) ? py::object(lm_metrics_dict(p.validation)) : py::none();
    return out;
}

py::dict summary_dict(const distill_text_fit_summary & s, py::list history) {
    py::dict out;
    out["steps_run"] = s.steps_run;
    out["global_step"] = s.global_step;
    out["final_loss"] = s.final_loss;
    out["validated"] = s.validated != 0;
    out["validation"] = s.validated != 0 ? py::object(lm_metrics_dict(s.validation)) : py::none();
    out["seconds"] = s.seconds;
    out["history"] = history;
    return out;
}

// The handle of `object` (InvalidArgumentError when closed), held by the
// caller for the length of a call that releases the GIL: another thread's
// close() then cannot free what the library is using.
template <class Py>
auto hold(const Py & object) {
    object.get();
    return object.handle;
}

// --- Model.lm_logits ------------------------------------------------------------------

// out (or a new float32 [B, T, vocab] array) = the logits of tokens int32 [B, T].
py::object lm_logits(PyModel & self, py::handle tokens, py::handle out) {
    const auto held = hold(self);
    distill::Model & model = *held;
    Borrowed t;
    t.acquire(tokens, "tokens", false);
    if (t.get() == nullptr) raise_argument("tokens: expected int32 [B, T], got None");
    if (t.get()->ndim != 2)
        raise_argument("tokens: expected shape [B, T] (int32 token ids), got " +
                       std::to_string(t.get()->ndim) + " dimensions");
    py::object result = py::reinterpret_borrow<py::object>(out);
    if (result.is_none())
        result = py::array_t<float>({t.get()->shape[0], t.get()->shape[1], model.outputs()});
    Borrowed o;
    o.acquire(result, "out", true);
    released([&] { distill::lm_logits(cpu_context(), model, *t.get(), *o.get()); });
    return result;
}

// --- Trainer.step_tokens --------------------------------------------------------------

py::dict step_tokens(PyTrainer & self, py::handle tokens, py::handle labels,
                     py::handle teacher_logits, py::handle teacher_topk_ids,
                     py::handle teacher_topk_logprobs) {
    const auto held = hold(self);
    distill::Trainer & trainer = *held;
    Borrowed x, y, t, ids, logprobs;
    x.acquire(tokens, "tokens", false);
    y.acquire(labels, "labels", false);
    t.acquire(teacher_logits, "teacher_logits", false);
    ids.acquire(teacher_topk_ids, "teacher_topk_ids", false);
    logprobs.acquire(teacher_topk_logprobs, "teacher_topk_logprobs", false);
    if (x.get() == nullptr) raise_argument("tokens: expected int32 [B, T], got None");
    if ((ids.get() == nullptr) != (logprobs.get() == nullptr))
        raise_argument(std::string("teacher_topk_ids, teacher_topk_logprobs: expected both or "
                                   "neither, got only ") +
                       (ids.get() ? "teacher_topk_ids" : "teacher_topk_logprobs"));
    distill::TokenBatch batch;
    batch->tokens = x.get();
    batch->labels = y.get();
    batch->teacher_logits = t.get();
    batch->teacher_topk_ids = ids.get();
    batch->teacher_topk_logprobs = logprobs.get();
    return step_dict(released([&] { return distill::step_tokens(trainer, batch); }));
}

// --- Trainer.fit_text / fit_stored ----------------------------------------------------

// The options both loops share, the checkpoint path kept alive beside them.
struct LoopOptions {
    distill::TextFitOptions options;
    std::optional<std::string> checkpoint_dir;
};

void set_loop_options(LoopOptions & o, int64_t steps, int32_t batch_windows, uint64_t seed,
                      int64_t eval_interval, int64_t eval_windows, py::handle checkpoint_dir) {
    o.options->steps = steps;
    o.options->batch_windows = batch_windows;
    o.options->seed = seed;
    o.options->eval_interval = eval_interval;
    o.options->eval_windows = eval_windows;
    if (!checkpoint_dir.is_none()) {
        o.checkpoint_dir = path_text(checkpoint_dir, "checkpoint_dir");
        o.options->checkpoint_dir = o.checkpoint_dir->c_str();
    }
}

// Runs `loop` (a fit over o.options) with the progress relay installed:
// every event goes to `progress` (True: a distill._progress.TextFitProgress
// bar): "step" after each step, "validation" after each validation (these
// are also the returned history). Returning False
// from the callable cancels (CancelledError); its exception and Ctrl-C come
// out of the call as themselves.
template <class Loop>
std::pair<distill_text_fit_summary, py::list> run_loop(LoopOptions & o, py::object progress,
                                                       Loop && loop) {
    const py::object callable = progress_callable(progress, "TextFitProgress");
    py::list history;
    // Always installed, so that Ctrl-C is noticed with or without a bar.
    o.options.on_progress([&](const distill_text_fit_progress & p) {
        return in_python([&] {
            py::dict event = progress_dict(p);
            if (validated(p)) history.append(event);
            if (callable.is_none()) return DISTILL_STATUS_OK;
            return callable(event).is(py::bool_(false)) ? DISTILL_STATUS_CANCELLED
                                                        : DISTILL_STATUS_OK;
        }) == DISTILL_STATUS_OK;
    });
    distill_text_fit_summary summary{};
    try {
        summary = released([&] { return loop(); });
    } catch (...) {
        close_progress(callable);
        throw;
    }
    close_progress(callable);
    return {summary, history};
}

py::dict fit_text(PyTrainer & self, const PyTextDataset * dataset, int64_t steps,
                  int32_t batch_windows, uint64_t seed, int64_t eval_interval, int64_t eval_windows,
                  py::handle checkpoint_dir, PyModel * teacher, py::object progress) {
    const auto held = hold(self);
    distill::Trainer & trainer = *held;
    const auto data_held = hold(require_given(dataset, "dataset", "a distill.TextDataset"));
    const distill::TextDataset & data = *data_held;
    LoopOptions o;
    set_loop_options(o, steps, batch_windows, seed, eval_interval, eval_windows, checkpoint_dir);
    std::shared_ptr<distill::Model> teacher_held;
    if (teacher != nullptr) {
        teacher_held = hold(*teacher);
        o.options->teacher = teacher_held->get();
    }
    auto [summary, history] =
        run_loop(o, progress, [&] { return distill::fit_text(trainer, data, o.options); });
    return summary_dict(summary, history);
}

std::string identity_text(py::handle identity) {
    return identity.is_none() ? std::string() : json_text(identity, "teacher_identity");
}

py::dict fit_stored(PyTrainer & self, PyStore * store, const PyTokenizer * tokenizer, int64_t steps,
                    int32_t batch_windows, uint64_t seed, int64_t checkpoint_interval,
                    py::handle checkpoint_dir, py::handle teacher_identity, py::object progress) {
    const auto held = hold(self);
    distill::Trainer & trainer = *held;
    const auto store_held = hold(require_given(store, "store", "a distill.Store"));
    const auto tok_held = hold(require_given(tokenizer, "tokenizer", "a distill.Tokenizer"));
    distill::Store & s = *store_held;
    const distill::Tokenizer & tok = *tok_held;
    const std::string identity = identity_text(teacher_identity);
    LoopOptions o;
    set_loop_options(o, steps, batch_windows, seed, checkpoint_interval, 0, checkpoint_dir);
    distill_stored_rows_info rows{};
    auto [summary, history] = run_loop(o, progress, [&] {
        return distill::fit_stored(trainer, s, tok, identity, o.options, &rows);
    });
    py::dict out = summary_dict(summary, history);
    out["rows"] = rows_dict(rows);
    return out;
}

// --- evaluate_lm / evaluate_lm_stored ---------------------------------------------------

int32_t split_code(const std::string & split) {
    if (split == "train") return DISTILL_SPLIT_TRAIN;
    if (split == "validation") return DISTILL_SPLIT_VALIDATION;
    raise_argument("split: expected \"train\" or \"validation\", got \"" + split + "\"");
}

py::dict evaluate_lm(PyModel * model, const PyTextDataset * dataset, const std::string & split,
                     int32_t batch_windows, int64_t max_windows, PyModel * teacher) {
    const auto model_held = hold(require_given(model, "model", "a distill.Model"));
    const auto data_held = hold(require_given(dataset, "dataset", "a distill.TextDataset"));
    distill::Model & m = *model_held;
    const distill::TextDataset & d = *data_held;
    distill::LmEvalOptions options;
    options->split = split_code(split);
    options->batch_windows = batch_windows;
    options->max_windows = max_windows;
    std::shared_ptr<distill::Model> teacher_held;
    if (teacher != nullptr) {
        teacher_held = hold(*teacher);
        options->teacher = teacher_held->get();
    }
    return lm_metrics_dict(
        released([&] { return distill::lm_evaluate(cpu_context(), m, d, options); }));
}

py::dict evaluate_lm_stored(PyModel * model, PyStore * store, const PyTokenizer * tokenizer,
                            py::handle teacher_identity, int32_t batch_windows,
                            int64_t max_windows) {
    const auto model_held = hold(require_given(model, "model", "a distill.Model"));
    const auto store_held = hold(require_given(store, "store", "a distill.Store"));
    const auto tok_held = hold(require_given(tokenizer, "tokenizer", "a distill.Tokenizer"));
    distill::Model & m = *model_held;
    distill::Store & s = *store_held;
    const distill::Tokenizer & tok = *tok_held;
    const std::string identity = identity_text(teacher_identity);
    distill::LmEvalOptions options;
    options->batch_windows = batch_windows;
    options->max_windows = max_windows;
    distill_stored_rows_info rows{};
    py::dict out = lm_metrics_dict(released([&] {
        return distill::lm_evaluate_stored(cpu_context(), m, s, tok, identity, options, &rows);
    }));
    out["rows"] = rows_dict(rows);
    return out;
}

}  // namespace

void bind_language_model(py::module_ & m) {
    // Keyword defaults are the library's (distill_*_options_init).
    const distill::TextFitOptions fit_defaults;
    const distill::LmEvalOptions eval_defaults;
    auto model = py::reinterpret_borrow<py::class_<PyModel>>(m.attr("Model"));
    model.def("lm_logits", &lm_logits, py::arg("tokens"), py::arg("out") = py::none(),
              "A transformer's next-token logits: tokens int32 [B, T] (NumPy or a torch CPU "
              "tensor, contiguous; 1 <= T <= context, borrowed, not copied) -> float32 "
              "[B, T, vocab], position t seeing tokens 0..t of its row. out: a writable "
              "contiguous float32 [B, T, vocab] array or tensor to write into (returned), else "
              "a new NumPy array.");

    auto trainer = py::reinterpret_borrow<py::class_<PyTrainer>>(m.attr("Trainer"));
    trainer
        .def("step_tokens", &step_tokens, py::arg("tokens"), py::arg("labels") = py::none(),
             py::arg("teacher_logits") = py::none(), py::arg("teacher_topk_ids") = py::none(),
             py::arg("teacher_topk_logprobs") = py::none(),
             "One update of a transformer's trainer: tokens int32 [B, T]; labels int32 [B, T] "
             "(-100 where a position counts for nothing; None: the tokens shifted by one, the "
             "last position -100); teacher_logits float32 [B, T, vocab] or teacher_topk_ids "
             "int32 [B, T, K] (-1 an empty slot) with teacher_topk_logprobs float32 [B, T, K]. "
             "Without a teacher the loss is the next-token cross-entropy. Returns {step, loss, "
             "learning_rate, grad_norm, soft_loss, hard_loss, positions}.")
        .def("fit_text", &fit_text, py::arg("dataset"), py::arg("steps"),
             py::arg("batch_windows") = fit_defaults->batch_windows,
             py::arg("seed") = fit_defaults->seed,
             py::arg("eval_interval") = fit_defaults->eval_interval,
             py::arg("eval_windows") = fit_defaults->eval_windows,
             py::arg("checkpoint_dir") = py::none(), py::arg("teacher") = py::none(),
             py::arg("progress") = true,
             "Trains a transformer on dataset's training windows until the trainer's step is "
             "`steps`, batch_windows windows a step in an order fixed by seed (a resumed trainer "
             "continues with the batches of an uninterrupted run). Validates every "
             "eval_interval steps (0: at the end only) on eval_windows windows (0: all), "
             "writing checkpoint_dir then, at the end and on cancel. teacher: a transformer "
             "distill.Model of the same vocabulary whose logits are the dense targets. "
             "progress: True (a bar on stderr), False/None, or a callable(event: dict) "
             "(returning False cancels: CancelledError) given {event: \"step\" or \"validation\", "
             "step, steps, loss (this call's mean), tokens_per_second, seconds, validation (the "
             "figures of evaluate_lm, or None)}; Ctrl-C raises KeyboardInterrupt. "
             "Returns {steps_run, global_step, final_loss, validated, validation, seconds, "
             "history}.")
        .def("fit_stored", &fit_stored, py::arg("store"), py::arg("tokenizer"), py::arg("steps"),
             py::arg("batch_windows") = fit_defaults->batch_windows,
             py::arg("seed") = fit_defaults->seed,
             py::arg("checkpoint_interval") = fit_defaults->eval_interval,
             py::arg("checkpoint_dir") = py::none(), py::arg("teacher_identity") = py::none(),
             py::arg("progress") = true,
             "Token-level distillation from a teacher's stored answers (collect with "
             "top_logprobs): each answer is a row, its prompt (tokenizer: the student's) then "
             "its completion, whose positions are trained against the teacher's top-k "
             "log-probabilities by the trainer's loss. teacher_identity: the provenance's "
             "\"teacher\" (a dict or JSON text), None for the store's only teacher. Checkpoints "
             "every checkpoint_interval steps (0: at the end) when checkpoint_dir is set. "
             "progress as fit_text's (step events only: there is no validation split). Answers "
             "without top-k log-probabilities train by their text (hard term; needs "
             "hard_weight > 0). Returns fit_text's dict plus rows: what was read "
             "{rows, topk, text_only, failed, empty, too_long, alternatives, by_id, "
             "by_bytes, unmapped}.");

    m.def("evaluate_lm", &evaluate_lm, py::arg("model"), py::arg("dataset"),
          py::arg("split") = "validation", py::arg("batch_windows") = eval_defaults->batch_windows,
          py::arg("max_windows") = eval_defaults->max_windows, py::arg("teacher") = py::none(),
          "A transformer's figures on a TextDataset split's windows (the first max_windows; 0: "
          "all): {windows, positions, loss (mean next-token cross-entropy, nats), perplexity "
          "(exp(loss)), accuracy (top-1), agreement (top-1 with teacher), mean_kl "
          "(KL(teacher || model))}; agreement and mean_kl are NaN without a teacher.");
    m.def("evaluate_lm_stored", &evaluate_lm_stored, py::arg("model"), py::arg("store"),
          py::arg("tokenizer"), py::arg("teacher_identity") = py::none(),
          py::arg("batch_windows") = eval_defaults->batch_windows,
          py::arg("max_windows") = eval_defaults->max_windows,
          "evaluate_lm over a teacher's stored answers, read as Trainer.fit_stored reads them: "
          "over the completion positions, loss, perplexity and accuracy against the teacher's "
          "completion, agreement with its top-1 alternative; mean_kl is NaN. batch_windows: rows "
          "per forward; max_windows: the first rows (0: all). Returns evaluate_lm's dict plus "
          "rows (as fit_stored's).");
}

}  // namespace distill_python
