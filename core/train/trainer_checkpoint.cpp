// student_trainer::save and ::resume: a trainer's whole state as a
// checkpoint directory (train/checkpoint.h's files), and back, refusing a
// checkpoint of another model, optimizer, loss or training set.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/file_error.h"
#include "students/model.h"
#include "train/checkpoint.h"
#include "train/checkpoint_views.h"
#include "train/model_file.h"
#include "train/run_identity.h"
#include "train/student_trainer.h"

namespace distill {
namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

}  // namespace

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
    views.model_tensors =
        parameter_views(model_->parameter_table(), std::as_const(*model_).parameters());
    put_optimizer_views(views, *optimizer_, schedule_);
    views.trainer_state = trainer_state();
    if (!best_parameters_.empty())
        views.best_model_tensors = parameter_views(model_->parameter_table(), best_parameters_);
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
            fail_corrupt(source + ": inconsistent trainer state " + state.dump());
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
                fail_corrupt(source + ": optimizer tensor '" + t.name + "' has " +
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
        fail_corrupt(source + ": malformed trainer state or optimizer metadata (" + e.what() + ")");
    }
}

}  // namespace distill
