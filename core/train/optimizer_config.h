// The optimizer hyper-parameters, and their JSON form (what a run's config
// file and a checkpoint's optimizer.safetensors metadata hold):
//   {"kind": "adamw", "lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01}
//   {"kind": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": false, "weight_decay": 0}
// Missing fields take the defaults below (PyTorch's); unknown keys and
// out-of-range values are refused.
#pragma once

#include <variant>

#include <nlohmann/json.hpp>

namespace distill {

// torch.optim.SGD with dampening 0: weight decay is coupled (added to the
// gradient), momentum keeps one buffer per parameter.
struct sgd_config {
    double lr = 1e-3;
    double momentum = 0.0;
    bool nesterov = false;  // needs momentum > 0
    double weight_decay = 0.0;
};

// torch.optim.AdamW: decoupled weight decay, bias-corrected moments.
struct adamw_config {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.01;
};

using optimizer_config = std::variant<sgd_config, adamw_config>;

// Refuses a config PyTorch would refuse: lr, eps, weight_decay, momentum
// negative; betas outside [0, 1); nesterov without momentum.
void validate(const optimizer_config & config);

optimizer_config optimizer_config_from_json(const nlohmann::json & json);
nlohmann::json to_json(const optimizer_config & config);

// The learning rate of the config (the schedule's base rate).
double base_learning_rate(const optimizer_config & config);

}  // namespace distill
