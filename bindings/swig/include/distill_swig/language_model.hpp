// language_model.hpp — section 15 of the C ABI (language models) for the
// bindings: the options and figures of token steps, text training and
// evaluation, the text-fit progress listener, and Lm (evaluation on a token
// dataset or on a teacher's stored answers). The calls that belong to a
// Model (lm_logits) and a Trainer (step_tokens, fit_text, fit_stored) are
// in students.hpp and trainer.hpp.
//
// A transformer is a Model made from {"kind": "transformer", ...}; its
// tokens are int32 [B, T], its logits fp32 [B, T, vocab] (vocab =
// Model.outputs), top-k teacher targets [B, T, K].
#pragma once

#include "students.hpp"
#include "text_dataset.hpp"

#include <optional>

namespace distill_swig {


/// What one token step did (Trainer.stepTokens).
struct TokenStepMetrics {
    int64_t step;         ///< optimizer steps taken, this one included
    double loss;          ///< the batch's loss, before the update
    double learning_rate; ///< the rate this step used
    double grad_norm;     ///< global gradient norm before clipping
    double soft_loss;     ///< mean divergence from the teacher, unweighted; NaN without one
    double hard_loss;     ///< mean cross-entropy against the labels, unweighted
    int64_t positions;    ///< positions that counted (labels != -100)
};

/// A transformer's figures over the positions evaluated (Lm.evaluate).
struct LmEvalMetrics {
    int64_t windows;   ///< windows (or stored rows) evaluated
    int64_t positions; ///< positions evaluated
    double loss;       ///< mean next-token cross-entropy, nats
    double perplexity; ///< exp(loss)
    double accuracy;   ///< top-1 next-token accuracy against the data
    double agreement;  ///< top-1 agreement with the teacher; NaN without one
    double mean_kl;    ///< mean KL(teacher ‖ student) at T = 1; NaN without one

#ifndef SWIG
    static LmEvalMetrics of(const distill_lm_eval_metrics & m) {
        return LmEvalMetrics{m.windows, m.positions, m.loss,   m.perplexity,
                             m.accuracy, m.agreement, m.mean_kl};
    }
#endif
};

#ifndef SWIG
// The teacher model an options object holds: a copy of the caller's Model
// (its handle shared), so the host's Model may be collected or closed
// while the options still name it.
class TeacherSlot {
public:
    void set(const Model * teacher) {
        if (teacher) model_.emplace(*teacher);
        else model_.reset();
    }
    Model * get() const { return model_ ? new Model(*model_) : nullptr; }
    distill_model * handle() const { return model_ ? model_->get() : nullptr; }

private:
    std::optional<Model> model_;
};
#endif

/// Options of Lm.evaluate (see distill_lm_eval_options).
class LmEvalOptions {
public:
    Split split;           ///< which split; default validation
    int32_t batch_windows; ///< windows per forward, ≥ 1
    int64_t max_windows;   ///< the first this many windows; 0 = all

    LmEvalOptions() {
        const distill::LmEvalOptions defaults;
        split = static_cast<Split>(defaults->split);
        batch_windows = defaults->batch_windows;
        max_windows = defaults->max_windows;
    }

    /// A transformer of the same vocabulary whose agreement and KL are
    /// measured; null = none. The options keep it alive.
    void set_teacher_native(const Model * teacher) { teacher_.set(teacher); }
    /// The teacher set, or null.
    Model * get_teacher() const { return teacher_.get(); }

#ifndef SWIG
    distill::LmEvalOptions to_options() const {
        distill::LmEvalOptions options;
        options->split = static_cast<int32_t>(split);
        options->batch_windows = batch_windows;
        options->max_windows = max_windows;
        options->teacher = teacher_.handle();
        return options;
    }
#endif

private:
    TeacherSlot teacher_;
};

/// Options of Trainer.fitText and Trainer.fitStored (see distill_text_fit_options).
class TextFitOptions {
public:
    int64_t steps;              ///< train until the trainer's step is this (must be set)
    int32_t batch_windows;      ///< windows (or stored rows) per step, ≥ 1
    int64_t seed;               ///< of the window order
    int64_t eval_interval;      ///< validate every this many steps, and at the end; 0 = at the end only
    int64_t eval_windows;       ///< validation windows per evaluation; 0 = all
    std::string checkpoint_dir; ///< written at each validation, at the end and on cancel; "" = none

    TextFitOptions() {
        const distill::TextFitOptions defaults;
        steps = defaults->steps;
        batch_windows = defaults->batch_windows;
        seed = static_cast<int64_t>(defaults->seed);
        eval_interval = defaults->eval_interval;
        eval_windows = defaults->eval_windows;
    }

    /// An in-process teacher transformer of the same vocabulary (fitText
    /// only): its logits are each batch's dense targets; null = next-token
    /// training. The options keep it alive.
    void set_teacher_native(const Model * teacher) { teacher_.set(teacher); }
    /// The teacher set, or null.
    Model * get_teacher() const { return teacher_.get(); }

#ifndef SWIG
    // The C options; the checkpoint path points into this object.
    distill::TextFitOptions to_options() const {
        distill::TextFitOptions options;
        options->steps = steps;
        options->batch_windows = batch_windows;
        options->seed = static_cast<uint64_t>(seed);
        options->eval_interval = eval_interval;
        options->eval_windows = eval_windows;
        options->checkpoint_dir = checkpoint_dir.empty() ? nullptr : checkpoint_dir.c_str();
        options->teacher = teacher_.handle();
        return options;
    }
#endif

private:
    TeacherSlot teacher_;
};

/// How far Trainer.fitText (or fitStored) has come, handed to its listener
/// after every step (evaluated false) and after every validation (true).
class TextFitProgress {
public:
    bool evaluated;          ///< a validation has just run (getValidation holds it)
    int64_t step;            ///< the trainer's global step
    int64_t steps;           ///< the step the fit trains to
    double loss;             ///< mean training loss of this call's steps
    double tokens_per_second;///< training positions per second in this call
    double elapsed_seconds;  ///< since the call began

    /// The validation's figures when evaluated; zeros otherwise.
    LmEvalMetrics get_validation() const { return validation_; }

#ifndef SWIG
    TextFitProgress() : TextFitProgress(distill_text_fit_progress{}) {}
    explicit TextFitProgress(const distill_text_fit_progress & p)
        : evaluated(p.evaluated != 0),
          step(p.step),
          steps(p.steps),
          loss(p.loss),
          tokens_per_second(p.tokens_per_second),
          elapsed_seconds(p.elapsed_seconds),
          validation_(LmEvalMetrics::of(p.validation)) {}
#endif

private:
    LmEvalMetrics validation_;
};

/// What Trainer.fitText (or fitStored) did.
class TextFitSummary {
public:
    int64_t steps_run;   ///< in this call
    int64_t global_step; ///< the trainer's, at the end
    double final_loss;   ///< the last step's; NaN if none ran
    bool validated;      ///< the dataset's validation split was evaluated (getValidation)
    double seconds;      ///< wall-clock seconds of this call

    /// The last validation's figures (zeros when not validated).
    LmEvalMetrics get_validation() const { return validation_; }

#ifndef SWIG
    TextFitSummary() : TextFitSummary(distill_text_fit_summary{}) {}
    explicit TextFitSummary(const distill_text_fit_summary & s)
        : steps_run(s.steps_run),
          global_step(s.global_step),
          final_loss(s.final_loss),
          validated(s.validated != 0),
          seconds(s.seconds),
          validation_(LmEvalMetrics::of(s.validation)) {}
#endif

private:
    LmEvalMetrics validation_;
};

/// What a stored-answer call read from the store (see distill_stored_rows_info).
struct StoredRowsInfo {
    int64_t rows;                 ///< answers used, one row each
    int64_t topk;                 ///< K: the most alternatives an answer has
    int64_t text_only;            ///< rows of answers without top-k log-probabilities
                                  ///< (their text, learnt by the hard term alone)
    int64_t failed;               ///< answers left out: failed requests,
    int64_t empty;                ///< empty completions,
    int64_t too_long;             ///< prompt + completion longer than the context
    int64_t alternatives;         ///< alternatives mapped to the student's ids:
    int64_t by_id;                ///<   by the server's token id
    int64_t by_bytes;             ///<   by the token's bytes
    int64_t unmapped;             ///<   not in the student's vocabulary (the tail)

    StoredRowsInfo()
        : rows(0), topk(0), text_only(0), failed(0), empty(0), too_long(0), alternatives(0),
          by_id(0), by_bytes(0), unmapped(0) {}

#ifndef SWIG
    void assign(const distill_stored_rows_info & r) {
        rows = r.rows;
        topk = r.topk;
        text_only = r.text_only;
        failed = r.failed;
        empty = r.empty;
        too_long = r.too_long;
        alternatives = r.alternatives;
        by_id = r.by_id;
        by_bytes = r.by_bytes;
        unmapped = r.unmapped;
    }
#endif
};

/// What Trainer.fitStored did: the training's summary and what was read.
class StoredFitSummary {
public:
    TextFitSummary get_fit() const { return fit_; }
    StoredRowsInfo get_rows() const { return rows_; }

#ifndef SWIG
    StoredFitSummary() = default;
    StoredFitSummary(const TextFitSummary & fit, const StoredRowsInfo & rows)
        : fit_(fit), rows_(rows) {}
#endif

private:
    TextFitSummary fit_;
    StoredRowsInfo rows_;
};

/// What a host-language text-fit listener implements (a SWIG director the
/// bindings derive from, as ProgressListenerNative).
class TextFitListenerNative {
public:
    virtual ~TextFitListenerNative() = default;
    /// Returns false to stop the fit (it then raises CANCELLED, after the
    /// checkpoint when one is configured).
    virtual bool on_progress(TextFitProgress * progress) = 0;
    /// For the bridge, when the host listener threw.
    void fail(const std::string & description) { failure_ = description; }

#ifndef SWIG
    static std::function<bool(const distill_text_fit_progress &)> function(
        TextFitListenerNative * listener) {
        if (listener == nullptr) return {};
        return [listener](const distill_text_fit_progress & p) { return listener->report(p); };
    }
#endif

private:
    bool report(const distill_text_fit_progress & p) {
        CallbackScope scope;
        bool go_on = false;
        try {
            go_on = on_progress(new TextFitProgress(p));  // owned by the host from here on
        } catch (const std::exception & e) {
            fail(e.what());
        } catch (...) {
            fail("an unknown exception");
        }
        if (failure_) {
            const std::string description = std::exchange(failure_, std::nullopt).value();
            throw Error(DISTILL_STATUS_CANCELLED,
                        "CANCELLED: the text-fit listener threw " + description);
        }
        return go_on;
    }

    std::optional<std::string> failure_;
};

/// Evaluation of a transformer: on a token dataset's windows, or on a
/// teacher's stored answers.
class Lm {
public:
    /// Perplexity, accuracy and (with options' teacher) agreement and KL on
    /// the windows of `dataset`; options null = the defaults (the
    /// validation split, all windows).
    static LmEvalMetrics evaluate(const Context * context, Model * model,
                                  const TextDataset * dataset, const LmEvalOptions * options) {
        const distill::Context & on = require(context, "context").native();
        Model & evaluated = require(model, "model");
        const distill::TextDataset & data = require(dataset, "dataset").native();
        const distill::LmEvalOptions o = (options ? *options : LmEvalOptions()).to_options();
        return LmEvalMetrics::of(call([&] {
            distill_lm_eval_metrics m = distill::sized<distill_lm_eval_metrics>();
            distill::check(distill_lm_evaluate(on.get(), evaluated.get(), data.get(), &o.get(), &m));
            return m;
        }));
    }

    /// The same figures over a teacher's stored answers read as
    /// Trainer.fitStored reads them, with the student's `tokenizer`: over
    /// the positions that predict a completion token, agreement with the
    /// teacher's top-1 alternative; mean_kl is NaN (top-k targets are not a
    /// whole distribution). teacher_identity_json "" = the store's only
    /// teacher; options: batch_windows (rows per forward) and max_windows
    /// (the first rows) only. `rows`, unless null, is set to what was read.
    static LmEvalMetrics evaluate_stored_native(const Context * context, Model * model,
                                                Store * store, const Tokenizer * tokenizer,
                                                const std::string & teacher_identity_json,
                                                const LmEvalOptions * options,
                                                StoredRowsInfo * rows) {
        const distill::Context & on = require(context, "context").native();
        Model & evaluated = require(model, "model");
        distill::Store & answers = require(store, "store").native();
        const distill::Tokenizer & student = require(tokenizer, "tokenizer").native();
        const distill::LmEvalOptions o = (options ? *options : LmEvalOptions()).to_options();
        distill_stored_rows_info info = distill::sized<distill_stored_rows_info>();
        const distill_lm_eval_metrics m = call([&] {
            distill_lm_eval_metrics out = distill::sized<distill_lm_eval_metrics>();
            distill::check(distill_lm_evaluate_stored(
                on.get(), evaluated.get(), answers.get(), student.get(),
                teacher_identity_json.empty() ? nullptr : teacher_identity_json.c_str(), &o.get(),
                &info, &out));
            return out;
        });
        if (rows) rows->assign(info);
        return LmEvalMetrics::of(m);
    }
};

}  // namespace distill_swig
