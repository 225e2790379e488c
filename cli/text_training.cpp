#include "text_training.h"

#include <distill/distill.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "distillation_loss.h"
#include "output_path.h"
#include "training_progress.h"

namespace distill_cli {
namespace {

nlohmann::json number_or_null(double value) {
    return std::isnan(value) ? nlohmann::json() : nlohmann::json(value);
}

nlohmann::json figures_of(const distill_lm_eval_metrics & m) {
    return {{"windows", m.windows},
            {"positions", m.positions},
            {"cross_entropy", m.loss},
            {"perplexity", m.perplexity},
            {"next_token_accuracy", m.accuracy},
            {"agreement_with_teacher", number_or_null(m.agreement)},
            {"mean_kl_to_teacher", number_or_null(m.mean_kl)}};
}

// Progress on stderr: redrawn in place on a terminal; otherwise a line
// every tenth of the steps and one per validation, so logs stay short.
struct text_progress {
    bool terminal = isatty(STDERR_FILENO) != 0;
    bool line_open = false;
    int64_t last_tenth = -1;

    static distill_status callback(void * user_data, const distill_text_fit_progress * p) {
        auto & self = *static_cast<text_progress *>(user_data);
        if (p->evaluated) {
            self.finish();
            std::fprintf(stderr, "train: step %lld/%lld  validation perplexity %.3f  accuracy %.4f",
                         (long long)p->step, (long long)p->steps, p->validation.perplexity,
                         p->validation.accuracy);
            if (!std::isnan(p->validation.agreement))
                std::fprintf(stderr, "  agreement %.4f", p->validation.agreement);
            std::fprintf(stderr, "\n");
        } else {
            const int64_t tenth = p->steps > 0 ? p->step * 10 / p->steps : 0;
            if (self.terminal || tenth != self.last_tenth) {
                self.last_tenth = tenth;
                std::fprintf(stderr, "%strain: step %lld/%lld  loss %.4f  %.0f tokens/s%s",
                             self.terminal ? "\r" : "", (long long)p->step, (long long)p->steps,
                             p->loss, p->tokens_per_second, self.terminal ? "" : "\n");
                self.line_open = self.terminal;
            }
        }
        return interrupted ? DISTILL_STATUS_CANCELLED : DISTILL_STATUS_OK;
    }
    void finish() {
        if (line_open) std::fprintf(stderr, "\n");
        line_open = false;
    }
};

}  // namespace

bool is_token_dataset(const std::string & data) {
    return std::filesystem::path(data).extension() == ".tokens";
}

int run_train_text(const text_train_request & r) {
    install_interrupt_handler();
    namespace fs = std::filesystem;
    if (!r.out.empty()) require_writable_file_path(r.out, "--out");
    if (!r.checkpoint.empty()) require_writable_directory_path(r.checkpoint, "--checkpoint");
    if (r.steps < 1)
        throw distill::Exception(DISTILL_STATUS_INVALID_ARGUMENT,
                                 "--steps: training on a token dataset needs the number of steps "
                                 "in all (a resumed run counts the done ones), e.g. --steps 1000");
    const distill::Context cpu(distill::ContextOptions::cpu(r.threads));
    const bool resuming =
        !r.checkpoint.empty() && fs::exists(fs::path(r.checkpoint) / "manifest.json");
    if (!resuming && r.config.empty())
        throw distill::Exception(DISTILL_STATUS_INVALID_ARGUMENT,
                                 "--config: a new run needs the student's config (or a "
                                 "--checkpoint directory to resume)");
    distill::Model model = resuming ? distill::Model::load(r.checkpoint)
                                    : distill::Model::create(r.config, r.seed);
    if (resuming && !r.config.empty()) {
        const std::string given = distill::Model::create(r.config, r.seed).config_json();
        if (given != model.config_json())
            throw distill::Exception(
                DISTILL_STATUS_INVALID_ARGUMENT,
                "--checkpoint: '" + r.checkpoint + "' holds a model of config " +
                    model.config_json() + "; --config asks for " + given +
                    " (drop --config to resume it, or give a new --checkpoint directory)");
    }
    const bool from_store = !r.teacher_store.empty();
    if (from_store == !r.data.empty() || from_store == r.tokenizer.empty())
        throw distill::Exception(DISTILL_STATUS_INVALID_ARGUMENT,
                                 "--data, --teacher-store: a transformer trains on a token dataset "
                                 "(--data *.tokens) or on a teacher's stored answers "
                                 "(--teacher-store with the student's --tokenizer), one of them");
    std::optional<distill::TextDataset> data;
    std::optional<distill::Store> store;
    std::optional<distill::Tokenizer> tokenizer;
    if (from_store) {
        store.emplace(r.teacher_store, true);
        tokenizer.emplace(distill::Tokenizer::load(r.tokenizer));
        if (tokenizer->vocab_size() > model.outputs())
            throw distill::Exception(
                DISTILL_STATUS_INVALID_ARGUMENT,
                "--tokenizer: its " + std::to_string(tokenizer->vocab_size()) +
                    " ids do not fit the model's vocabulary of " + std::to_string(model.outputs()));
    } else {
        data.emplace(distill::TextDataset::open(r.data));
        data->check_model(model.outputs(), model.inputs());
    }
    std::optional<distill::Model> teacher;
    if (!r.teacher.empty()) teacher.emplace(distill::Model::load(r.teacher));

    const distill_kd_loss_options loss = distillation_loss(
        !r.teacher.empty() || !r.teacher_store.empty(), r.temperature, r.soft_weight, r.hard_weight);
    distill::TrainerOptions options;
    options->optimizer_json = r.optimizer.c_str();
    options->schedule_json = r.schedule.c_str();
    options->loss = &loss;
    options->max_grad_norm = r.max_grad_norm;
    distill::Trainer trainer(cpu, model, options);
    if (resuming) {
        trainer.resume(r.checkpoint);
        std::fprintf(stderr, "train: resuming from %s at step %lld\n", r.checkpoint.c_str(),
                     (long long)trainer.position().second);
    }

    nlohmann::json summary = {{"steps", r.steps}, {"parameters", model.parameter_count()}};
    if (trainer.position().second < r.steps) {
        text_progress progress;
        distill::TextFitOptions fit;
        fit->steps = r.steps;
        fit->batch_windows = r.batch_size;
        fit->seed = r.seed;
        fit->eval_interval = r.eval_interval;
        fit->eval_windows = r.eval_windows;
        fit->checkpoint_dir = r.checkpoint.empty() ? nullptr : r.checkpoint.c_str();
        fit->teacher = teacher ? teacher->get() : nullptr;
        fit->progress = &text_progress::callback;
        fit->progress_user_data = &progress;
        distill_stored_rows_info rows{};
        const distill_text_fit_summary s =
            from_store ? distill::fit_stored(trainer, *store, *tokenizer,
                                             r.teacher_identity.value_or(""), fit, &rows)
                       : distill::fit_text(trainer, *data, fit);
        progress.finish();
        if (from_store)
            summary["answers"] = {{"rows", rows.rows},
                                  {"top_k", rows.topk},
                                  {"text_only", rows.text_only},
                                  {"left_out_failed", rows.failed},
                                  {"left_out_empty", rows.empty},
                                  {"left_out_too_long", rows.too_long},
                                  {"alternatives", rows.alternatives},
                                  {"mapped_by_id", rows.by_id},
                                  {"mapped_by_bytes", rows.by_bytes},
                                  {"unmapped", rows.unmapped}};
        summary["steps_run"] = s.steps_run;
        summary["seconds"] = s.seconds;
        summary["final_loss"] = number_or_null(s.final_loss);
        summary["tokens_per_second"] =
            s.seconds > 0 ? double(s.steps_run) * r.batch_size * model.inputs() / s.seconds : 0.0;
        if (s.validated) summary["validation"] = figures_of(s.validation);
    }
    if (!r.out.empty()) {
        model.save(r.out);
        summary["model"] = r.out;
    }
    if (r.json) {
        std::printf("%s\n", summary.dump(2).c_str());
    } else {
        std::printf("trained %lld parameters to step %lld", (long long)model.parameter_count(),
                    (long long)r.steps);
        if (summary.contains("validation"))
            std::printf(", validation perplexity %.3f",
                        summary["validation"]["perplexity"].get<double>());
        std::printf("%s\n", r.out.empty() ? "" : (", saved to " + r.out).c_str());
    }
    return exit_ok;
}

int run_eval_text(const text_eval_request & r) {
    const distill::Context cpu(distill::ContextOptions::cpu(r.threads));
    distill::Model model = distill::Model::load(r.model);
    distill::LmEvalOptions options;
    options->max_windows = r.windows;
    if (!r.teacher_store.empty()) {
        if (r.tokenizer.empty() || !r.data.empty() || !r.teacher.empty())
            throw distill::Exception(DISTILL_STATUS_INVALID_ARGUMENT,
                                     "--teacher-store: evaluating on stored answers needs the "
                                     "student's --tokenizer, and no --data or --teacher");
        distill::Store store(r.teacher_store, true);
        const distill::Tokenizer tokenizer = distill::Tokenizer::load(r.tokenizer);
        distill_stored_rows_info rows{};
        nlohmann::json figures = figures_of(distill::lm_evaluate_stored(
            cpu, model, store, tokenizer, r.teacher_identity.value_or(""), options, &rows));
        figures.erase("windows");  // rows, not windows
        figures["answers"] = rows.rows;
        if (r.json) {
            std::printf("%s\n", figures.dump(2).c_str());
            return exit_ok;
        }
        for (const auto & [name, value] : figures.items())
            std::printf("%-28s %s\n", name.c_str(), value.is_null() ? "-" : value.dump().c_str());
        return exit_ok;
    }
    if (r.data.empty())
        throw distill::Exception(DISTILL_STATUS_INVALID_ARGUMENT,
                                 "--data: a token dataset (*.tokens), or --teacher-store answers "
                                 "with the student's --tokenizer");
    const distill::TextDataset data = distill::TextDataset::open(r.data);
    std::optional<distill::Model> teacher;
    if (!r.teacher.empty()) teacher.emplace(distill::Model::load(r.teacher));
    if (r.split == "train") {
        options->split = DISTILL_SPLIT_TRAIN;
    } else if (r.split != "validation") {
        throw distill::Exception(DISTILL_STATUS_INVALID_ARGUMENT,
                                 "--split: expected validation or train, got " + r.split);
    }
    options->teacher = teacher ? teacher->get() : nullptr;
    const nlohmann::json figures = figures_of(distill::lm_evaluate(cpu, model, data, options));
    if (r.json) {
        std::printf("%s\n", figures.dump(2).c_str());
        return exit_ok;
    }
    for (const auto & [name, value] : figures.items())
        std::printf("%-28s %s\n", name.c_str(), value.is_null() ? "-" : value.dump().c_str());
    return exit_ok;
}

}  // namespace distill_cli
