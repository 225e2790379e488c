// The loss of a `distill train` run: distilling (a teacher or stored
// answers) defaults to the teacher term alone, else to the labels; the
// weights given on the command line override. Shared by the feature and
// the text paths (train.cpp, text_training.cpp).
#pragma once

#include <distill/distill.hpp>

#include <optional>

namespace distill_cli {

inline distill_kd_loss_options distillation_loss(bool distilling, float temperature,
                                                 std::optional<float> soft_weight,
                                                 std::optional<float> hard_weight) {
    distill_kd_loss_options loss;
    distill::check(distill_kd_loss_options_init(&loss));
    loss.temperature = temperature;
    loss.soft_weight = soft_weight.value_or(distilling ? 1.0f : 0.0f);
    loss.hard_weight = hard_weight.value_or(distilling ? 0.0f : 1.0f);
    return loss;
}

}  // namespace distill_cli
