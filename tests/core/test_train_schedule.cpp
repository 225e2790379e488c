// Learning-rate schedules at their key steps, and the JSON of the optimizer
// and schedule configs: round trips and each refusal.
#include <doctest/doctest.h>

#include "common/error.h"
#include "train/lr_schedule.h"
#include "train/optimizer_config.h"

#include <cmath>
#include <numbers>

using nlohmann::json;

TEST_CASE("warmup_cosine: linear warm-up, cosine decay to min_lr, then flat") {
    const distill::lr_schedule_config schedule =
        distill::warmup_cosine_schedule_config{10, 110, 1e-4};
    const double base = 1e-2;
    CHECK(distill::learning_rate_at(schedule, base, 0) == doctest::Approx(1e-3));  // 1/10
    CHECK(distill::learning_rate_at(schedule, base, 4) == doctest::Approx(5e-3));  // 5/10
    CHECK(distill::learning_rate_at(schedule, base, 9) == doctest::Approx(1e-2));  // 10/10
    CHECK(distill::learning_rate_at(schedule, base, 10) == base);                  // cos(0)
    // Half-way through the decay: the mean of base and min_lr.
    CHECK(distill::learning_rate_at(schedule, base, 60) == doctest::Approx((1e-2 + 1e-4) / 2));
    // A quarter: min + (base − min) · (1 + cos(π/4)) / 2.
    CHECK(distill::learning_rate_at(schedule, base, 35) ==
          doctest::Approx(1e-4 + (1e-2 - 1e-4) * (1 + std::cos(std::numbers::pi / 4)) / 2));
    CHECK(distill::learning_rate_at(schedule, base, 109) > 1e-4);
    CHECK(distill::learning_rate_at(schedule, base, 110) == 1e-4);
    CHECK(distill::learning_rate_at(schedule, base, 100000) == 1e-4);
    // Decreasing over the decay.
    for (int64_t s = 11; s < 110; ++s)
        CHECK(distill::learning_rate_at(schedule, base, s) <
              distill::learning_rate_at(schedule, base, s - 1));
}

TEST_CASE("warmup_cosine without warm-up starts at the base rate; constant is constant") {
    const distill::lr_schedule_config no_warmup = distill::warmup_cosine_schedule_config{0, 4, 0};
    CHECK(distill::learning_rate_at(no_warmup, 1.0, 0) == 1.0);
    CHECK(distill::learning_rate_at(no_warmup, 1.0, 2) == doctest::Approx(0.5));
    CHECK(distill::learning_rate_at(distill::constant_schedule_config{}, 0.3, 12345) == 0.3);
    CHECK_THROWS_WITH(distill::learning_rate_at(no_warmup, 1.0, -1),
                      "step: expected a value >= 0, got -1");
    CHECK_THROWS_WITH(
        distill::learning_rate_at(distill::warmup_cosine_schedule_config{0, 4, 2.0}, 1.0, 0),
        "schedule.min_lr: expected a value <= the optimizer's lr (1.0), got 2.0");
}

TEST_CASE("schedule JSON: round trip and refusals") {
    const json cosine = {
        {"kind", "warmup_cosine"}, {"warmup_steps", 100}, {"total_steps", 1000}, {"min_lr", 0.0}};
    CHECK(distill::to_json(distill::lr_schedule_config_from_json(cosine)) == cosine);
    const json constant = {{"kind", "constant"}};
    CHECK(distill::to_json(distill::lr_schedule_config_from_json(constant)) == constant);

    CHECK_THROWS_WITH(distill::lr_schedule_config_from_json(json{{"kind", "step"}}),
                      "schedule.kind: expected \"constant\" or \"warmup_cosine\", got \"step\"");
    CHECK_THROWS_WITH(distill::lr_schedule_config_from_json(json{{"kind", "constant"}, {"lr", 1}}),
                      "schedule: expected only the keys kind, got unknown key 'lr'");
    CHECK_THROWS_WITH(distill::lr_schedule_config_from_json(json{
                          {"kind", "warmup_cosine"}, {"warmup_steps", 10}, {"total_steps", 10}}),
                      "schedule.total_steps: expected a value > warmup_steps (10), got 10");
    CHECK_THROWS_WITH(distill::lr_schedule_config_from_json(
                          json{{"kind", "warmup_cosine"}, {"total_steps", 1.5}}),
                      "schedule.total_steps: expected an integer, got 1.5");
    CHECK_THROWS_WITH(distill::lr_schedule_config_from_json(json{{"kind", "warmup_cosine"}}),
                      "schedule.total_steps is missing (expected an integer)");
    CHECK_THROWS_WITH(distill::lr_schedule_config_from_json(json::array()),
                      "schedule: expected a JSON object, got array");
}

TEST_CASE("optimizer JSON: round trip, defaults and refusals") {
    const json adamw = {{"kind", "adamw"},
                        {"lr", 1e-3},
                        {"betas", {0.9, 0.999}},
                        {"eps", 1e-8},
                        {"weight_decay", 0.01}};
    CHECK(distill::to_json(distill::optimizer_config_from_json(adamw)) == adamw);
    const json sgd = {
        {"kind", "sgd"}, {"lr", 0.1}, {"momentum", 0.9}, {"nesterov", true}, {"weight_decay", 0.0}};
    CHECK(distill::to_json(distill::optimizer_config_from_json(sgd)) == sgd);
    // Defaults are PyTorch's.
    const auto defaults = distill::optimizer_config_from_json(json{{"kind", "adamw"}});
    CHECK(distill::to_json(defaults) == adamw);
    CHECK(distill::base_learning_rate(distill::optimizer_config_from_json(sgd)) == 0.1);

    auto refusal = [](const json & config) {
        try {
            distill::optimizer_config_from_json(config);
        } catch (const distill::error & e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK(refusal(json{{"kind", "adam"}}) ==
          "optimizer.kind: expected \"sgd\" or \"adamw\", got \"adam\"");
    CHECK(refusal(json{{"lr", 1}}) == "optimizer.kind is missing (expected a string)");
    CHECK(refusal(json{{"kind", "sgd"}, {"weight_deacy", 0.1}}) ==
          "optimizer: expected only the keys kind, lr, momentum, nesterov, weight_decay, got "
          "unknown key 'weight_deacy'");
    CHECK(refusal(json{{"kind", "adamw"}, {"lr", "fast"}}) ==
          "optimizer.lr: expected a number, got \"fast\"");
    CHECK(refusal(json{{"kind", "adamw"}, {"lr", -1e-3}}) ==
          "optimizer.lr: expected a value >= 0, got -0.001");
    CHECK(refusal(json{{"kind", "adamw"}, {"betas", {0.9, 1.0}}}) ==
          "optimizer.betas[1]: expected a value in [0, 1), got 1.0");
    CHECK(refusal(json{{"kind", "adamw"}, {"betas", {0.9}}}) ==
          "optimizer.betas: expected [beta1, beta2], got [0.9]");
    CHECK(refusal(json{{"kind", "sgd"}, {"nesterov", 1}}) ==
          "optimizer.nesterov: expected true or false, got 1");
    CHECK(refusal(json{{"kind", "sgd"}, {"momentum", -0.5}}) ==
          "optimizer.momentum: expected a value >= 0, got -0.5");
}
