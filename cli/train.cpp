// distill train — trains a built-in student on a dataset, from labels, from
// a teacher's answers (a distill model asked through a store, or answers
// read offline from a store without the teacher), or both; resumable from
// its checkpoint directory.
#include <distill/distill.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "data_source.h"
#include "device_option.h"
#include "distillation_loss.h"
#include "file_text.h"
#include "output_path.h"
#include "text_training.h"
#include "training_progress.h"

namespace distill_cli {
namespace {

struct train_options {
    std::string config;  // a JSON file or inline JSON
    std::string data;
    std::string validation;
    std::string teacher;
    std::string store;
    std::string teacher_store;  // offline: answers read from here, no teacher
    std::string tokenizer;      // a transformer's tokenizer.json: --teacher-store answers as text
    std::optional<std::string> teacher_identity, teacher_parameters;
    std::string checkpoint;
    std::string out;
    std::string optimizer = R"({"kind": "adamw", "lr": 1e-3, "weight_decay": 0.01})";
    std::string schedule = R"({"kind": "constant"})";
    int epochs = 10;
    std::optional<int> batch_size;  // 128 for features, 8 windows for a token dataset
    int64_t steps = 0;              // token datasets: steps in all
    int64_t eval_interval = 0, eval_windows = 0;
    int patience = 0;
    int threads = 0;
    std::string device = "cpu";
    uint64_t seed = 0;
    float temperature = 1.0f;
    std::optional<float> soft_weight, hard_weight;
    float max_grad_norm = 0.0f;
    bool json = false;
};

// The text of --config: the file's content when it names a file, else itself.
std::string read_config(const std::string & config) {
    if (!config.empty() && config.front() != '{') return read_file_text(config, "--config");
    return config;
}

// The library's message with its argument names as this verb's flags.
std::string with_flag_names(std::string message) {
    for (const auto & [argument, flag] :
         {std::pair<std::string, std::string>{"teacher_identity_json", "--teacher-identity"},
          {"teacher_parameters_json", "--teacher-parameters"},
          {"options.temperature", "--temperature"},
          {"options.soft_weight", "--soft-weight"},
          {"options.hard_weight", "--hard-weight"},
          {"options.optimizer_json", "--optimizer"},
          {"options.schedule_json", "--schedule"},
          {"hard_weight", "--hard-weight"}})
        for (size_t at = message.find(argument); at != std::string::npos;
             at = message.find(argument, at + flag.size()))
            message.replace(at, argument.size(), flag);
    return message;
}

// One set's teacher targets from --teacher-store (distill_dataset_read_teacher).
void read_teacher(const train_options & o, distill::Dataset & data, distill::Store & store) {
    const distill_status status = distill_dataset_read_teacher(
        data.get(), store.get(), o.teacher_identity ? o.teacher_identity->c_str() : nullptr,
        o.teacher_parameters ? o.teacher_parameters->c_str() : nullptr);
    if (status != DISTILL_STATUS_OK)
        throw distill::Exception(
            status, "--teacher-store: " + with_flag_names(distill_last_error_message()));
}

// --teacher-store: the teacher targets read from a store, with no teacher.
// The validation set's answers only serve the agreement figure: without
// them training goes on, and says so.
void read_stored_answers(const train_options & o, distill::Dataset & train,
                         std::optional<distill::Dataset> & validation) {
    distill::Store store(o.teacher_store, /*read_only=*/true);
    read_teacher(o, train, store);
    if (!validation) return;
    try {
        read_teacher(o, *validation, store);
    } catch (const distill::Exception & e) {
        std::fprintf(stderr,
                     "train: --validation has no teacher targets (%s); its agreement with the "
                     "teacher is not reported\n",
                     e.what());
    }
}

// Resuming with --config: the checkpoint's model must be that config's.
void require_checkpoint_config(const train_options & o, const distill::Model & model) {
    const std::string given = distill::Model::create(read_config(o.config), o.seed).config_json();
    if (given != model.config_json())
        throw distill::Exception(
            DISTILL_STATUS_INVALID_ARGUMENT,
            "--checkpoint: '" + o.checkpoint + "' holds a model of config " + model.config_json() +
                "; --config asks for " + given +
                " (drop --config to resume it, or give a new --checkpoint directory)");
}

// Every check that needs no data comes first (paths, the model, the loss,
// the optimizer, the checkpoint), so that a bad argument is refused before
// the teacher is asked and before any epoch.
int run_train(const train_options & o) {
    if (is_token_dataset(o.data) || !o.tokenizer.empty()) {
        if (!o.store.empty() || !o.validation.empty())
            throw distill::Exception(
                DISTILL_STATUS_INVALID_ARGUMENT,
                "--store, --validation: a transformer trains on a token dataset (its validation "
                "split is the dataset's own) or on --teacher-store answers; --store and "
                "--validation are for feature datasets");
        text_train_request r;
        r.config = o.config.empty() ? "" : read_config(o.config);
        r.data = o.data;
        r.teacher = o.teacher;
        r.teacher_store = o.teacher_store;
        r.tokenizer = o.tokenizer;
        r.teacher_identity = o.teacher_identity;
        r.checkpoint = o.checkpoint;
        r.out = o.out;
        r.optimizer = o.optimizer;
        r.schedule = o.schedule;
        r.steps = o.steps;
        r.batch_size = o.batch_size.value_or(8);
        r.eval_interval = o.eval_interval;
        r.eval_windows = o.eval_windows;
        r.threads = o.threads;
        r.seed = o.seed;
        r.temperature = o.temperature;
        r.soft_weight = o.soft_weight;
        r.hard_weight = o.hard_weight;
        r.max_grad_norm = o.max_grad_norm;
        r.json = o.json;
        if (o.teacher_parameters)
            throw distill::Exception(DISTILL_STATUS_INVALID_ARGUMENT,
                                     "--teacher-parameters: stored answers for a transformer are "
                                     "chosen by --teacher-identity alone");
        try {
            return run_train_text(r);
        } catch (const distill::Exception & e) {
            throw distill::Exception(e.status(), with_flag_names(e.message()));
        }
    }
    if (o.data.empty())
        throw distill::Exception(DISTILL_STATUS_INVALID_ARGUMENT,
                                 "--data: the dataset to train on (or, for a transformer, "
                                 "--teacher-store answers with the student's --tokenizer)");
    install_interrupt_handler();
    namespace fs = std::filesystem;
    if (!o.out.empty()) require_writable_file_path(o.out, "--out");
    if (!o.checkpoint.empty()) require_writable_directory_path(o.checkpoint, "--checkpoint");
    const distill::Context cpu(distill::ContextOptions::cpu(o.threads));
    // The trainer's steps run here; teachers and evaluation use `cpu`.
    const distill::Context device(device_context_options(o.device, o.threads));
    const bool resuming =
        !o.checkpoint.empty() && fs::exists(fs::path(o.checkpoint) / "manifest.json");
    if (!resuming && o.config.empty())
        throw distill::Exception(
            DISTILL_STATUS_INVALID_ARGUMENT,
            "--config: a new run needs the student's config (or a --checkpoint "
            "directory to resume)");
    distill::Model model = resuming ? distill::Model::load(o.checkpoint)
                                    : distill::Model::create(read_config(o.config), o.seed);
    if (resuming && !o.config.empty()) require_checkpoint_config(o, model);

    const distill_kd_loss_options loss = distillation_loss(
        !o.teacher.empty() || !o.teacher_store.empty(), o.temperature, o.soft_weight, o.hard_weight);
    distill_trainer_options options;
    distill::check(distill_trainer_options_init(&options));
    options.optimizer_json = o.optimizer.c_str();
    options.schedule_json = o.schedule.c_str();
    options.loss = &loss;
    options.max_grad_norm = o.max_grad_norm;
    options.seed = o.seed;
    std::optional<distill::Trainer> made;
    try {
        made.emplace(device, model, options);
        if (resuming) made->resume(o.checkpoint);
    } catch (const distill::Exception & e) {
        throw distill::Exception(e.status(), with_flag_names(e.message()));
    }
    distill::Trainer & trainer = *made;

    distill::Dataset train = open_data_source(o.data);
    std::optional<distill::Dataset> validation;
    if (!o.validation.empty()) validation = open_data_source(o.validation);
    if (!o.teacher.empty()) {
        distill::Model teacher_model = distill::Model::load(o.teacher);
        distill::Teacher teacher = distill::Teacher::model(cpu, teacher_model, "teacher");
        std::optional<distill::Store> store;
        if (!o.store.empty()) store.emplace(o.store);
        training_progress asking("asking the teacher");
        distill_ask_options ask;
        distill::check(distill_ask_options_init(&ask));
        ask.progress = training_progress::callback;
        ask.progress_user_data = &asking;
        train.ask_teacher(teacher, store ? &*store : nullptr, &ask);
        asking.finish();
        if (validation) validation->ask_teacher(teacher, store ? &*store : nullptr);
    }
    if (!o.teacher_store.empty()) read_stored_answers(o, train, validation);

    const auto [done_epochs, done_steps] = trainer.position();
    // A run stopped inside an epoch has not completed it: it continues it.
    const int64_t remaining = o.epochs - done_epochs;
    if (resuming)
        std::fprintf(stderr, "train: resuming from %s at epoch %lld, step %lld\n",
                     o.checkpoint.c_str(), (long long)done_epochs, (long long)done_steps);

    nlohmann::json summary = {{"epochs", o.epochs}, {"parameters", model.parameter_count()}};
    if (remaining > 0) {
        training_progress progress("train");
        distill_fit_options fit;
        distill::check(distill_fit_options_init(&fit));
        fit.epochs = int32_t(remaining);
        fit.batch_size = o.batch_size.value_or(128);
        fit.validation = validation ? validation->get() : nullptr;
        fit.early_stopping_patience = o.patience;
        fit.checkpoint_dir = o.checkpoint.empty() ? nullptr : o.checkpoint.c_str();
        fit.progress = training_progress::callback;
        fit.progress_user_data = &progress;
        const distill_fit_summary s = trainer.fit(train, fit);
        progress.finish();
        summary["steps"] = s.steps;
        summary["seconds"] = s.seconds;
        summary["stopped_early"] = s.stopped_early != 0;
        summary["train_loss"] = progress.epoch_losses();
        if (validation) {
            summary["best_epoch"] = s.best_epoch;
            summary["best_val_accuracy"] = s.best_val_accuracy;
        }
    }
    if (validation) {
        const distill_eval_metrics e = distill::evaluate(cpu, model, *validation);
        summary["val_accuracy"] = e.accuracy;
        summary["val_agreement"] =
            std::isnan(e.agreement) ? nlohmann::json() : nlohmann::json(e.agreement);
    }
    if (!o.out.empty()) {
        model.save(o.out);
        summary["model"] = o.out;
    }
    if (o.json) {
        std::printf("%s\n", summary.dump(2).c_str());
    } else {
        std::printf("trained %lld parameters for %d epochs", (long long)model.parameter_count(),
                    o.epochs);
        if (summary.contains("val_accuracy"))
            std::printf(", validation accuracy %.4f", summary["val_accuracy"].get<double>());
        std::printf("%s\n", o.out.empty() ? "" : (", saved to " + o.out).c_str());
    }
    return exit_ok;
}

}  // namespace

void add_train(CLI::App & app, int & exit_code) {
    auto o = std::make_shared<train_options>();
    CLI::App * cmd =
        app.add_subcommand("train", "Train a built-in student (labels, a teacher, or both)");
    cmd->add_option("--config", o->config,
                    "Student config: a JSON file or inline JSON (see distill.h)");
    cmd->add_option("--data", o->data,
                    std::string(data_source_help) +
                        "; or a token dataset (*.tokens, distill tokenize) for a transformer");
    CLI::Option * validation = cmd->add_option("--validation", o->validation,
                                               "Evaluated after each epoch (same forms as --data)");
    cmd->add_option(
        "--teacher", o->teacher,
        "A distill model (file or checkpoint) to distil from: asked about every example");
    cmd->add_option("--store", o->store,
                    "Teacher-answer store (SQLite) for --teacher: a second run asks nothing");
    CLI::Option * teacher_store = cmd->add_option(
        "--teacher-store", o->teacher_store,
        "Distil offline from the answers in this store (SQLite), without the teacher: answers "
        "stored earlier (--teacher with --store, Dataset.ask_teacher) or shipped with the "
        "file. Every example must have one");
    teacher_store->excludes("--teacher")->excludes("--store");
    cmd->add_option("--tokenizer", o->tokenizer,
                    "A transformer student's tokenizer.json: with --teacher-store, each stored "
                    "answer (prompt + completion, top-k log-probabilities) is a training row");
    cmd->add_option("--teacher-identity", o->teacher_identity,
                    "With --teacher-store: whose answers, as JSON (provenance.teacher in "
                    "`distill store export`); default: the only teacher that answered these "
                    "examples")
        ->needs(teacher_store);
    cmd->add_option(
           "--teacher-parameters", o->teacher_parameters,
           "With --teacher-store: the parameters that teacher was asked with, as JSON "
           "(provenance.parameters in the export); default: the only set it was asked with")
        ->needs(teacher_store);
    cmd->add_option("--checkpoint", o->checkpoint,
                    "Checkpoint directory: saved each epoch and on Ctrl-C; resumed when it exists");
    cmd->add_option("--out", o->out, "Write the trained model here (safetensors)");
    cmd->add_option("--optimizer", o->optimizer, "Optimizer JSON")->capture_default_str();
    cmd->add_option("--schedule", o->schedule, "Learning-rate schedule JSON")
        ->capture_default_str();
    cmd->add_option("--epochs", o->epochs, "Epochs in all (a resumed run counts the done ones)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_option("--batch-size", o->batch_size,
                    "Examples per step (default 128), or windows per step with a token "
                    "dataset (default 8)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--steps", o->steps,
                    "Token datasets (*.tokens): optimizer steps in all (a resumed run counts "
                    "the done ones)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--eval-interval", o->eval_interval,
                    "Token datasets: validate (and checkpoint) every N steps; 0 = at the end")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--eval-windows", o->eval_windows,
                    "Token datasets: validation windows per evaluation (0 = all)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--early-stopping", o->patience,
                    "Stop after N epochs without a better validation accuracy")
        ->check(CLI::NonNegativeNumber)
        ->needs(validation);
    cmd->add_option("--temperature", o->temperature, "Distillation temperature")
        ->capture_default_str();
    cmd->add_option("--soft-weight", o->soft_weight,
                    "Weight of the teacher term (default 1 with --teacher or --teacher-store, "
                    "else 0)");
    cmd->add_option("--hard-weight", o->hard_weight,
                    "Weight of the label term (default 0 with --teacher or --teacher-store, "
                    "else 1)");
    cmd->add_option("--max-grad-norm", o->max_grad_norm,
                    "Clip the gradients' global norm (0 = off)");
    cmd->add_option("--seed", o->seed,
                    "Seed of the student's initialisation, dropout and data order (a resumed run "
                    "keeps its checkpoint's)")
        ->capture_default_str();
    cmd->add_option("--threads", o->threads, "CPU threads (0 = all cores)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--device", o->device, train_device_help);
    cmd->add_flag("--json", o->json, "Print the summary as JSON");
    cmd->callback([o, &exit_code] {
        try {
            exit_code = run_train(*o);
        } catch (const distill::Exception & e) {
            std::fprintf(stderr, "\ndistill train: %s\n", e.what());
            exit_code = e.status() == DISTILL_STATUS_CANCELLED ? exit_interrupted : exit_failure;
        }
    });
}

}  // namespace distill_cli
