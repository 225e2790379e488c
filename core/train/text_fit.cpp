#include "train/text_fit.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "common/error.h"
#include "text/seeded_permutation.h"
#include "train/token_distillation.h"

namespace distill {
namespace {

// The items of steps [step, step + 1) of the concatenated epoch orders.
class seeded_order {
public:
    seeded_order(int64_t count, uint64_t seed) : count_(count), seed_(seed) {}

    void batch(int64_t step, int64_t B, std::vector<uint64_t> & out) {
        out.resize(size_t(B));
        for (int64_t b = 0; b < B; ++b) {
            const int64_t position = step * B + b;
            const int64_t epoch = position / count_;
            if (epoch != epoch_) {
                order_ = text::seeded_permutation(uint64_t(count_), epoch_seed(seed_, epoch));
                epoch_ = epoch;
            }
            out[size_t(b)] = order_[size_t(position % count_)];
        }
    }

private:
    int64_t count_;
    uint64_t seed_;
    int64_t epoch_ = -1;
    std::vector<uint64_t> order_;
};

void check_settings(const transformer_trainer & trainer, const text_fit_settings & settings) {
    if (settings.steps <= trainer.global_step())
        fail_invalid("steps: expected a step count above the trainer's " +
                     std::to_string(trainer.global_step()) + " (it trains until its global step "
                     "reaches steps), got " + std::to_string(settings.steps));
    if (settings.batch_windows < 1)
        fail_invalid("batch_windows: expected ≥ 1, got " + std::to_string(settings.batch_windows));
    if (settings.eval_interval < 0 || settings.eval_windows < 0)
        fail_invalid("eval_interval, eval_windows: expected ≥ 0, got " +
                     std::to_string(settings.eval_interval) + ", " +
                     std::to_string(settings.eval_windows));
}

// Fills the step's batch (B rows of T) and returns its teacher targets.
using batch_filler = std::function<token_teacher_targets(int64_t step, int32_t * tokens,
                                                         int32_t * labels)>;
// The validation figures, or nothing when there is no validation.
using validator = std::function<std::optional<lm_eval_result>()>;

// The loop both fits share: a step per batch until settings.steps,
// validation and a checkpoint every eval_interval steps and at the end,
// the progress callback after each.
text_fit_outcome fit_loop(transformer_trainer & trainer, int64_t T,
                          const text_fit_settings & settings, const batch_filler & fill,
                          const validator & validate, const text_fit_progress & progress) {
    const auto start = std::chrono::steady_clock::now();
    const auto seconds = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    const int64_t B = settings.batch_windows;
    std::vector<int32_t> tokens(size_t(B * T)), labels(size_t(B * T));
    text_fit_outcome outcome;
    outcome.final_loss = std::numeric_limits<double>::quiet_NaN();
    double loss_sum = 0.0;

    const auto validate_and_save = [&] {
        if (const std::optional<lm_eval_result> figures = validate()) {
            outcome.validation = *figures;
            outcome.validated = true;
        }
        if (!settings.checkpoint_dir.empty()) trainer.save(settings.checkpoint_dir);
    };
    const auto report = [&](bool evaluated) {
        if (!progress) return true;
        text_fit_event event;
        event.evaluated = evaluated;
        event.step = trainer.global_step();
        event.steps = settings.steps;
        event.loss = outcome.steps_run ? loss_sum / double(outcome.steps_run)
                                       : std::numeric_limits<double>::quiet_NaN();
        event.elapsed_seconds = seconds();
        event.tokens_per_second = double(outcome.steps_run * B * T) / event.elapsed_seconds;
        if (evaluated) event.validation = outcome.validation;
        return progress(event);
    };

    while (trainer.global_step() < settings.steps) {
        const token_teacher_targets teacher = fill(trainer.global_step(), tokens.data(), labels.data());
        const transformer_step_outcome step =
            trainer.step(tokens.data(), labels.data(), B, T, teacher);
        ++outcome.steps_run;
        loss_sum += step.loss;
        outcome.final_loss = step.loss;
        const bool last = trainer.global_step() == settings.steps;
        const bool evaluate =
            !last && settings.eval_interval > 0 && trainer.global_step() % settings.eval_interval == 0;
        if (!report(false)) {
            outcome.cancelled = true;
            break;
        }
        if (evaluate) {
            validate_and_save();
            if (outcome.validated && !report(true)) {
                outcome.cancelled = true;
                break;
            }
        }
    }
    if (!outcome.cancelled) {
        validate_and_save();
        // After the last step: nothing is left for a cancel to stop.
        if (outcome.validated) report(true);
    } else if (!settings.checkpoint_dir.empty()) {
        trainer.save(settings.checkpoint_dir);
    }
    outcome.global_step = trainer.global_step();
    outcome.seconds = seconds();
    return outcome;
}

}  // namespace

uint64_t epoch_seed(uint64_t seed, int64_t epoch) {
    text::splitmix64 mix(seed ^ (uint64_t(epoch) * 0x9e3779b97f4a7c15ull));
    return mix.next();
}

text_fit_outcome fit_text(transformer_trainer & trainer, lm::transformer * teacher,
                          const text::text_dataset & data, const text_fit_settings & settings,
                          const text_fit_progress & progress) {
    lm::transformer & student = *trainer.student();
    const lm::transformer_config & config = student.config();
    data.check_fits_model(config.vocab, config.context);
    if (data.windows(text::dataset_split::train) == 0)
        fail_invalid("data: '" + data.path().string() + "' has no training window");
    check_settings(trainer, settings);
    if (teacher != nullptr) {
        require_teacher_fits(teacher->config(), config, int64_t(data.context()));
    }
    const int64_t B = settings.batch_windows, T = data.context();
    seeded_order order(int64_t(data.windows(text::dataset_split::train)), settings.seed);
    std::vector<uint64_t> windows;
    std::vector<float> teacher_logits_buffer;
    const batch_filler fill = [&](int64_t step, int32_t * tokens, int32_t * labels) {
        order.batch(step, B, windows);
        data.copy_batch(text::dataset_split::train, windows.data(), uint64_t(B), tokens, labels);
        token_teacher_targets targets;
        if (teacher != nullptr) {
            teacher_logits(*teacher, config, tokens, B, T, teacher_logits_buffer);
            targets.logits = teacher_logits_buffer.data();
        }
        return targets;
    };
    lm_eval_settings eval;
    eval.batch_windows = settings.batch_windows;
    eval.max_windows = settings.eval_windows;
    eval.num_threads = settings.num_threads;
    const validator validate = [&]() -> std::optional<lm_eval_result> {
        if (data.windows(text::dataset_split::validation) == 0) return std::nullopt;
        return evaluate_language_model(student, teacher, data, eval);
    };
    return fit_loop(trainer, T, settings, fill, validate, progress);
}

text_fit_outcome fit_completions(transformer_trainer & trainer, const completion_rows & rows,
                                 const text_fit_settings & settings,
                                 const text_fit_progress & progress) {
    const lm::transformer_config & config = trainer.student()->config();
    if (rows.rows < 1) fail_invalid("rows: expected at least one completion row, got none");
    if (rows.T > config.context)
        fail_invalid("rows: rows of " + std::to_string(rows.T) +
                     " positions are longer than the student's context of " +
                     std::to_string(config.context));
    check_settings(trainer, settings);
    if (rows.text_only > 0 && !(trainer.loss().hard_weight > 0.0f))
        fail_invalid("rows: " + std::to_string(rows.text_only) + " of the " +
                     std::to_string(rows.rows) + " answers have no top-k log-probabilities, so "
                     "only the hard term (cross-entropy on the teacher's completion) learns from "
                     "them, and the trainer's hard_weight is 0; set hard_weight > 0 "
                     "(sequence-level distillation), or ask the teacher with top_logprobs");
    const int64_t B = settings.batch_windows, T = rows.T, K = rows.K;
    seeded_order order(rows.rows, settings.seed);
    std::vector<uint64_t> picked;
    std::vector<int32_t> ids(size_t(B * T * K));
    std::vector<float> logprobs(size_t(B * T * K));
    const batch_filler fill = [&](int64_t step, int32_t * tokens, int32_t * labels) {
        order.batch(step, B, picked);
        for (int64_t b = 0; b < B; ++b) {
            const size_t r = size_t(picked[size_t(b)]);
            std::copy_n(rows.tokens.begin() + ptrdiff_t(r * T), T, tokens + b * T);
            std::copy_n(rows.labels.begin() + ptrdiff_t(r * T), T, labels + b * T);
            std::copy_n(rows.ids.begin() + ptrdiff_t(r * T * K), T * K, ids.begin() + b * T * K);
            std::copy_n(rows.logprobs.begin() + ptrdiff_t(r * T * K), T * K,
                        logprobs.begin() + b * T * K);
        }
        token_teacher_targets targets;
        targets.topk_ids = ids.data();
        targets.topk_logprobs = logprobs.data();
        targets.topk = K;
        return targets;
    };
    return fit_loop(trainer, T, settings, fill, [] { return std::optional<lm_eval_result>(); },
                    progress);
}

}  // namespace distill
