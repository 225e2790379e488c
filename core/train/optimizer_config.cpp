#include "train/optimizer_config.h"

#include "common/error.h"
#include "common/json_fields.h"

#include <string>

namespace distill {
namespace {

void require_at_least_zero(double value, const char * name) {
    if (!(value >= 0.0))
        fail_invalid(std::string("optimizer.") + name + ": expected a value >= 0, got " +
                     json_fields::number_text(value));
}

void require_beta(double value, const char * name) {
    if (!(value >= 0.0 && value < 1.0))
        fail_invalid(std::string("optimizer.") + name + ": expected a value in [0, 1), got " +
                     json_fields::number_text(value));
}

}  // namespace

void validate(const optimizer_config & config) {
    if (const auto * sgd = std::get_if<sgd_config>(&config)) {
        require_at_least_zero(sgd->lr, "lr");
        require_at_least_zero(sgd->momentum, "momentum");
        require_at_least_zero(sgd->weight_decay, "weight_decay");
        if (sgd->nesterov && sgd->momentum <= 0.0)
            fail_invalid(
                "optimizer.nesterov: expected momentum > 0 with nesterov = true, got "
                "momentum " +
                json_fields::number_text(sgd->momentum));
    } else {
        const adamw_config & adamw = std::get<adamw_config>(config);
        require_at_least_zero(adamw.lr, "lr");
        require_beta(adamw.beta1, "betas[0]");
        require_beta(adamw.beta2, "betas[1]");
        require_at_least_zero(adamw.eps, "eps");
        require_at_least_zero(adamw.weight_decay, "weight_decay");
    }
}

optimizer_config optimizer_config_from_json(const nlohmann::json & json) {
    const std::string what = "optimizer";
    const std::string kind = json_fields::kind(json, what);
    optimizer_config config;
    if (kind == "sgd") {
        json_fields::require_object(json, what,
                                    {"kind", "lr", "momentum", "nesterov", "weight_decay"});
        sgd_config sgd;
        sgd.lr = json_fields::number(json, "lr", sgd.lr, what);
        sgd.momentum = json_fields::number(json, "momentum", sgd.momentum, what);
        sgd.nesterov = json_fields::boolean(json, "nesterov", sgd.nesterov, what);
        sgd.weight_decay = json_fields::number(json, "weight_decay", sgd.weight_decay, what);
        config = sgd;
    } else if (kind == "adamw") {
        json_fields::require_object(json, what, {"kind", "lr", "betas", "eps", "weight_decay"});
        adamw_config adamw;
        adamw.lr = json_fields::number(json, "lr", adamw.lr, what);
        if (json.contains("betas")) {
            const nlohmann::json & betas = json["betas"];
            if (!betas.is_array() || betas.size() != 2 || !betas[0].is_number() ||
                !betas[1].is_number())
                fail_invalid("optimizer.betas: expected [beta1, beta2], got " + betas.dump());
            adamw.beta1 = betas[0].get<double>();
            adamw.beta2 = betas[1].get<double>();
        }
        adamw.eps = json_fields::number(json, "eps", adamw.eps, what);
        adamw.weight_decay = json_fields::number(json, "weight_decay", adamw.weight_decay, what);
        config = adamw;
    } else {
        fail_invalid("optimizer.kind: expected \"sgd\" or \"adamw\", got \"" + kind + "\"");
    }
    validate(config);
    return config;
}

nlohmann::json to_json(const optimizer_config & config) {
    if (const auto * sgd = std::get_if<sgd_config>(&config))
        return {{"kind", "sgd"},
                {"lr", sgd->lr},
                {"momentum", sgd->momentum},
                {"nesterov", sgd->nesterov},
                {"weight_decay", sgd->weight_decay}};
    const adamw_config & adamw = std::get<adamw_config>(config);
    return {{"kind", "adamw"},
            {"lr", adamw.lr},
            {"betas", {adamw.beta1, adamw.beta2}},
            {"eps", adamw.eps},
            {"weight_decay", adamw.weight_decay}};
}

double base_learning_rate(const optimizer_config & config) {
    return std::visit([](const auto & c) { return c.lr; }, config);
}

}  // namespace distill
