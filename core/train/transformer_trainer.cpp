#include "train/transformer_trainer.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/json_fields.h"
#include "common/scoped_omp_threads.h"
#include "train/checkpoint.h"
#include "train/checkpoint_views.h"
#include "train/run_identity.h"

namespace distill {

transformer_trainer::transformer_trainer(std::shared_ptr<lm::transformer> model,
                                         transformer_trainer_settings settings)
    : model_(std::move(model)), settings_(std::move(settings)) {
    if (!model_) fail_invalid("model: expected a transformer, got NULL");
    const optimizer_config optimizer_settings = optimizer_config_from_json(settings_.optimizer);
    schedule_ = lr_schedule_config_from_json(settings_.schedule);
    learning_rate_at(schedule_, base_learning_rate(optimizer_settings), 0);  // refuses min_lr > lr
    if (!(settings_.max_grad_norm >= 0.0) || !std::isfinite(settings_.max_grad_norm))
        fail_invalid("max_grad_norm: expected a finite value >= 0 (0 = no clipping), got " +
                     json_fields::number_text(settings_.max_grad_norm));
    check_token_loss_options(settings_.loss);
    optimizer_ = std::make_unique<optimizer>(optimizer_settings, model_->parameter_count());
}

transformer_step_outcome transformer_trainer::step(const int32_t * tokens, const int32_t * targets,
                                                   int64_t B, int64_t T) {
    return step(tokens, targets, B, T, token_teacher_targets{});
}

transformer_step_outcome transformer_trainer::step(const int32_t * tokens, const int32_t * labels,
                                                   int64_t B, int64_t T,
                                                   const token_teacher_targets & teacher) {
    const scoped_omp_threads threads(settings_.num_threads);
    const token_loss_parts parts = distillation_gradients(
        *model_, tokens, labels, B, T, teacher, settings_.loss, d_logits_, settings_.num_threads);
    const double loss = parts.loss;
    if (!std::isfinite(loss))
        fail_invalid("batch: the loss is not finite (" + json_fields::number_text(loss) +
                     ") at step " + std::to_string(global_step_ + 1) +
                     "; the update was skipped and the model is unchanged (lower the learning "
                     "rate or set max_grad_norm)");
    const update_outcome update =
        clipped_update(*optimizer_, schedule_, model_->parameters(), model_->gradients(),
                       settings_.max_grad_norm, global_step_, settings_.num_threads);
    ++global_step_;
    transformer_step_outcome outcome{global_step_, loss, update.learning_rate, update.grad_norm};
    outcome.soft_loss = parts.soft;
    outcome.hard_loss = parts.hard;
    outcome.positions = parts.positions;
    return outcome;
}

nlohmann::json transformer_trainer::loss_options_json() const {
    return loss_identity(settings_.loss, float(settings_.max_grad_norm)).at("loss");
}

void transformer_trainer::save(const std::filesystem::path & dir) const {
    checkpoint_views views;
    views.model_config = lm::to_json(model_->config());
    views.model_tensors =
        parameter_views(model_->parameter_table(), std::as_const(*model_).parameters());
    put_optimizer_views(views, *optimizer_, schedule_);
    views.trainer_state = {{"kind", "transformer"},
                           {"global_step", global_step_},
                           {"max_grad_norm", settings_.max_grad_norm},
                           {"loss", loss_options_json()}};
    save_checkpoint(dir, views);
}

void transformer_trainer::resume(const std::filesystem::path & dir) {
    const checkpoint_contents contents = load_checkpoint(dir);
    const std::string source = "checkpoint '" + dir.string() + "'";
    if (lm::parse_transformer_config(contents.model_config, source + ": model config") !=
        model_->config())
        fail_invalid(source + ": its model config " + contents.model_config.dump() +
                     " differs from the trainer's " + lm::to_json(model_->config()).dump());
    try {
        const nlohmann::json & state = contents.trainer_state;
        if (state.value("kind", "") != "transformer")
            fail_invalid(source + ": expected the checkpoint of a transformer trainer, got trainer "
                         "state " + state.dump());
        const int64_t global_step = state.at("global_step").get<int64_t>();
        const double max_grad_norm = state.at("max_grad_norm").get<double>();
        if (max_grad_norm != settings_.max_grad_norm)
            fail_invalid(source + ": it was trained with max_grad_norm " +
                         json_fields::number_text(max_grad_norm) + ", the trainer clips at " +
                         json_fields::number_text(settings_.max_grad_norm) +
                         "; resume it with the same, or start a new run in another directory");
        if (state.contains("loss"))  // absent from checkpoints before token distillation
            require_same_identity(state.at("loss"), loss_options_json(), source,
                                  "token loss options",
                                  "resume it with the same, or start a new run in another "
                                  "directory");
        const optimizer_config saved =
            optimizer_config_from_json(contents.optimizer.at("optimizer"));
        if (saved.index() != optimizer_->config().index())
            fail_invalid(source + ": its optimizer " + contents.optimizer.at("optimizer").dump() +
                         " is not of the trainer's kind " + to_json(optimizer_->config()).dump());
        const int64_t optimizer_steps = contents.optimizer.at("step").get<int64_t>();
        if (global_step < 0 || optimizer_steps != global_step)
            fail_invalid(source + ": inconsistent trainer state " + state.dump() +
                         " for optimizer step " + std::to_string(optimizer_steps));
        // Everything is read into new buffers first: a refused checkpoint
        // leaves the trainer as it was.
        auto restored =
            std::make_unique<optimizer>(optimizer_->config(), model_->parameter_count());
        std::vector<std::string> expected, given;
        for (const optimizer_state_buffer & b : restored->state()) expected.push_back(b.name);
        for (const checkpoint_tensor & t : contents.optimizer_tensors) given.push_back(t.name);
        std::sort(expected.begin(), expected.end());
        std::sort(given.begin(), given.end());
        if (expected != given)
            fail_invalid(source + ": its optimizer state holds " + nlohmann::json(given).dump() +
                         ", the trainer's optimizer keeps " + nlohmann::json(expected).dump());
        for (const checkpoint_tensor & t : contents.optimizer_tensors) restored->set_state(t.name, t.values);
        restored->set_step_count(optimizer_steps);
        std::vector<float> parameters(size_t(model_->parameter_count()));
        std::vector<bool> seen(model_->parameter_table().size(), false);
        for (const checkpoint_tensor & t : contents.model_tensors) {
            const auto & table = model_->parameter_table();
            const auto it = std::find_if(table.begin(), table.end(),
                                         [&](const parameter_info & p) { return p.name == t.name; });
            if (it == table.end())
                fail_invalid(source + "/model.safetensors: tensor '" + t.name +
                             "' is not a parameter of this transformer");
            if (t.shape != it->shape)
                fail_invalid(source + "/model.safetensors: tensor '" + t.name + "' has shape " +
                             nlohmann::json(t.shape).dump() + ", expected " +
                             nlohmann::json(it->shape).dump());
            seen[size_t(it - table.begin())] = true;
            std::copy(t.values.begin(), t.values.end(), parameters.begin() + it->offset);
        }
        for (size_t i = 0; i < seen.size(); ++i)
            if (!seen[i])
                fail_invalid(source + "/model.safetensors: tensor '" +
                             model_->parameter_table()[i].name + "' is missing");
        std::copy(parameters.begin(), parameters.end(), model_->parameters().begin());
        optimizer_ = std::move(restored);
        global_step_ = global_step;
    } catch (const nlohmann::json::exception & e) {
        fail_invalid(source + ": malformed trainer state or optimizer metadata (" + e.what() + ")");
    }
}

}  // namespace distill
