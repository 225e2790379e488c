// Learning-rate schedules: the rate used by the update of step s (0-based:
// s = 0 is the first update), from the optimizer's base rate `base_lr`.
//
//   constant:       lr(s) = base_lr
//   warmup_cosine:  with W = warmup_steps, T = total_steps,
//     s < W:        lr(s) = base_lr · (s + 1) / W
//                   (linear; the first update is not wasted at 0, and
//                   update W − 1 runs at base_lr)
//     W ≤ s < T:    lr(s) = min_lr + (base_lr − min_lr) · ½ (1 + cos(π (s − W) / (T − W)))
//                   (base_lr at s = W, falling to min_lr as s approaches T)
//     s ≥ T:        lr(s) = min_lr
//
// JSON: {"kind": "constant"}
//       {"kind": "warmup_cosine", "warmup_steps": 100, "total_steps": 1000, "min_lr": 0}
#pragma once

#include <cstdint>
#include <variant>

#include <nlohmann/json.hpp>

namespace distill {

struct constant_schedule_config {};

struct warmup_cosine_schedule_config {
    int64_t warmup_steps = 0;  // >= 0
    int64_t total_steps = 1;   // > warmup_steps
    double min_lr = 0.0;       // >= 0, and <= the base rate it is used with
};

using lr_schedule_config = std::variant<constant_schedule_config, warmup_cosine_schedule_config>;

void validate(const lr_schedule_config & config);

lr_schedule_config lr_schedule_config_from_json(const nlohmann::json & json);
nlohmann::json to_json(const lr_schedule_config & config);

// lr(step) by the formulas above, in double. Refuses step < 0 and a min_lr
// above base_lr.
double learning_rate_at(const lr_schedule_config & config, double base_lr, int64_t step);

}  // namespace distill
