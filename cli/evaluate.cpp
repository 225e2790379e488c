// distill eval — a model's figures on a dataset; distill predict — its
// predictions, one JSON line per example.
#include <distill/distill.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "data_source.h"
#include "device_option.h"
#include "text_training.h"

namespace distill_cli {
namespace {

// Refuses a model that does not read the dataset's features.
void require_same_features(const distill::Model & model, const distill::Dataset & data,
                           const char * what) {
    if (model.inputs() != data.features())
        throw distill::Exception(DISTILL_STATUS_INVALID_ARGUMENT,
                                 std::string(what) + ": expects " + std::to_string(model.inputs()) +
                                     " features per example; the data has " +
                                     std::to_string(data.features()));
}

nlohmann::json number_or_null(double value) {
    return std::isnan(value) ? nlohmann::json() : nlohmann::json(value);
}

struct eval_options {
    std::string model, data, teacher;
    std::string teacher_store, tokenizer;  // a transformer on stored answers
    std::optional<std::string> teacher_identity;
    std::string split = "validation";  // token datasets
    int64_t windows = 0;               // token datasets
    int threads = 0;
    bool json = false;
};

int run_eval(const eval_options & o) {
    if (is_token_dataset(o.data) || !o.tokenizer.empty())
        return run_eval_text({o.model, o.data, o.teacher, o.teacher_store, o.tokenizer,
                              o.teacher_identity, o.split, o.windows, o.threads, o.json});
    if (o.data.empty())
        throw distill::Exception(DISTILL_STATUS_INVALID_ARGUMENT,
                                 "--data: the dataset to evaluate on");
    const distill::Context cpu(distill::ContextOptions::cpu(o.threads));
    distill::Model model = distill::Model::load(o.model);
    distill::Dataset data = open_data_source(o.data);
    if (!o.teacher.empty()) {
        distill::Model teacher = distill::Model::load(o.teacher);
        require_same_features(teacher, data, "--teacher");
        const DLTensor inputs = *data.field(DISTILL_DATASET_INPUTS);
        std::vector<float> logits =
            teacher.predict(cpu, static_cast<const float *>(inputs.data), data.rows());
        int64_t shape[2] = {data.rows(), teacher.outputs()};
        DLTensor view{logits.data(), {kDLCPU, 0}, 2, {kDLFloat, 32, 1}, shape, nullptr, 0};
        data.set_teacher_logits(view);
    }
    const distill_eval_metrics e = distill::evaluate(cpu, model, data);
    const nlohmann::json figures = {{"examples", e.examples},
                                    {"accuracy", number_or_null(e.accuracy)},
                                    {"agreement_with_teacher", number_or_null(e.agreement)},
                                    {"mean_kl_to_teacher", number_or_null(e.mean_kl)},
                                    {"expected_calibration_error", number_or_null(e.ece)},
                                    {"cross_entropy", number_or_null(e.loss)}};
    if (o.json) {
        std::printf("%s\n", figures.dump(2).c_str());
        return exit_ok;
    }
    for (const auto & [name, value] : figures.items())
        std::printf("%-28s %s\n", name.c_str(), value.is_null() ? "-" : value.dump().c_str());
    return exit_ok;
}

struct predict_options {
    std::string model, data;
    int threads = 0;
    std::string device = "cpu";
    int64_t limit = 0;
    bool probabilities = false;
};

int run_predict(const predict_options & o) {
    const distill::Context device(device_context_options(o.device, o.threads));
    distill::Model model = distill::Model::load(o.model);
    const distill::Dataset data = open_data_source(o.data);
    require_same_features(model, data, "--model");
    const int64_t rows = o.limit > 0 ? std::min(o.limit, data.rows()) : data.rows();
    const DLTensor inputs = *data.field(DISTILL_DATASET_INPUTS);
    const int64_t classes = model.outputs();
    constexpr int64_t batch = 1024;
    for (int64_t begin = 0; begin < rows; begin += batch) {
        const int64_t count = std::min(batch, rows - begin);
        const std::vector<float> probabilities =
            model.predict(device, static_cast<const float *>(inputs.data) + begin * model.inputs(),
                          count, DISTILL_OUTPUT_PROBABILITIES);
        for (int64_t r = 0; r < count; ++r) {
            const float * row = probabilities.data() + r * classes;
            const int64_t best = std::max_element(row, row + classes) - row;
            nlohmann::json line = {
                {"index", begin + r}, {"class", best}, {"probability", row[best]}};
            if (o.probabilities) line["probabilities"] = std::vector<float>(row, row + classes);
            std::printf("%s\n", line.dump().c_str());
        }
    }
    return exit_ok;
}

template <class Run, class Options>
void run_guarded(const char * verb, Run run, const Options & o, int & exit_code) {
    try {
        exit_code = run(o);
    } catch (const distill::Exception & e) {
        std::fprintf(stderr, "distill %s: %s\n", verb, e.what());
        exit_code = exit_failure;
    }
}

}  // namespace

void add_eval(CLI::App & app, int & exit_code) {
    auto o = std::make_shared<eval_options>();
    CLI::App * cmd = app.add_subcommand(
        "eval", "Evaluate a model: accuracy, calibration, agreement with a teacher; on a token "
                "dataset (*.tokens), a transformer's perplexity and next-token agreement");
    cmd->add_option("--model", o->model, "A distill model file or checkpoint directory")
        ->required();
    cmd->add_option("--data", o->data,
                    std::string(data_source_help) + "; or a token dataset (*.tokens)");
    cmd->add_option("--teacher", o->teacher, "A teacher model: adds agreement and KL to it");
    cmd->add_option("--teacher-store", o->teacher_store,
                    "A transformer on a teacher's stored answers (with --tokenizer): "
                    "perplexity of its completions, agreement with its top-1 alternatives");
    cmd->add_option("--tokenizer", o->tokenizer, "The transformer's tokenizer.json");
    cmd->add_option("--teacher-identity", o->teacher_identity,
                    "With --teacher-store: whose answers (provenance.teacher JSON)");
    cmd->add_option("--split", o->split, "Token datasets: validation (default) or train");
    cmd->add_option("--windows", o->windows, "Token datasets: the first N windows (0 = all)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--threads", o->threads, "CPU threads (0 = all cores)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_flag("--json", o->json, "Print JSON");
    cmd->callback([o, &exit_code] { run_guarded("eval", run_eval, *o, exit_code); });
}

void add_predict(CLI::App & app, int & exit_code) {
    auto o = std::make_shared<predict_options>();
    CLI::App * cmd = app.add_subcommand(
        "predict", "Predict: one JSON line per example (index, class, probability)");
    cmd->add_option("--model", o->model, "A distill model file or checkpoint directory")
        ->required();
    cmd->add_option("--data", o->data, data_source_help)->required();
    cmd->add_option("--limit", o->limit, "At most this many examples")
        ->check(CLI::NonNegativeNumber);
    cmd->add_flag("--probabilities", o->probabilities, "Add every class's probability");
    cmd->add_option("--threads", o->threads, "CPU threads (0 = all cores)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--device", o->device, predict_device_help);
    cmd->callback([o, &exit_code] { run_guarded("predict", run_predict, *o, exit_code); });
}

}  // namespace distill_cli
