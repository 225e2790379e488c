#include "train/lr_schedule.h"

#include "common/error.h"
#include "common/json_fields.h"

#include <cmath>
#include <numbers>
#include <string>

namespace distill {

void validate(const lr_schedule_config & config) {
    const auto * cosine = std::get_if<warmup_cosine_schedule_config>(&config);
    if (!cosine) return;
    if (cosine->warmup_steps < 0)
        fail_invalid("schedule.warmup_steps: expected a value >= 0, got " +
                     std::to_string(cosine->warmup_steps));
    if (cosine->total_steps <= cosine->warmup_steps)
        fail_invalid("schedule.total_steps: expected a value > warmup_steps (" +
                     std::to_string(cosine->warmup_steps) + "), got " +
                     std::to_string(cosine->total_steps));
    if (!(cosine->min_lr >= 0.0) || !std::isfinite(cosine->min_lr))
        fail_invalid("schedule.min_lr: expected a finite value >= 0, got " +
                     json_fields::number_text(cosine->min_lr));
}

lr_schedule_config lr_schedule_config_from_json(const nlohmann::json & json) {
    const std::string what = "schedule";
    const std::string kind = json_fields::kind(json, what);
    lr_schedule_config config;
    if (kind == "constant") {
        json_fields::require_object(json, what, {"kind"});
        config = constant_schedule_config{};
    } else if (kind == "warmup_cosine") {
        json_fields::require_object(json, what, {"kind", "warmup_steps", "total_steps", "min_lr"});
        json_fields::required(json, "total_steps", what, "an integer");
        warmup_cosine_schedule_config cosine;
        cosine.warmup_steps = json_fields::integer(json, "warmup_steps", 0, what);
        cosine.total_steps = json_fields::integer(json, "total_steps", 0, what);
        cosine.min_lr = json_fields::number(json, "min_lr", 0.0, what);
        config = cosine;
    } else {
        fail_invalid("schedule.kind: expected \"constant\" or \"warmup_cosine\", got \"" + kind +
                     "\"");
    }
    validate(config);
    return config;
}

nlohmann::json to_json(const lr_schedule_config & config) {
    if (std::holds_alternative<constant_schedule_config>(config)) return {{"kind", "constant"}};
    const auto & cosine = std::get<warmup_cosine_schedule_config>(config);
    return {{"kind", "warmup_cosine"},
            {"warmup_steps", cosine.warmup_steps},
            {"total_steps", cosine.total_steps},
            {"min_lr", cosine.min_lr}};
}

double learning_rate_at(const lr_schedule_config & config, double base_lr, int64_t step) {
    if (step < 0) fail_invalid("step: expected a value >= 0, got " + std::to_string(step));
    const auto * cosine = std::get_if<warmup_cosine_schedule_config>(&config);
    if (!cosine) return base_lr;
    validate(config);
    if (cosine->min_lr > base_lr)
        fail_invalid("schedule.min_lr: expected a value <= the optimizer's lr (" +
                     json_fields::number_text(base_lr) + "), got " +
                     json_fields::number_text(cosine->min_lr));
    const int64_t warmup = cosine->warmup_steps;
    if (step < warmup) return base_lr * double(step + 1) / double(warmup);
    if (step >= cosine->total_steps) return cosine->min_lr;
    const double progress = double(step - warmup) / double(cosine->total_steps - warmup);
    return cosine->min_lr +
           (base_lr - cosine->min_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

}  // namespace distill
