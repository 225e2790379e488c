#include "train/student_config.h"

#include "common/json_fields.h"

namespace distill {

student_config parse_student_config(const nlohmann::json & json, const std::string & what) {
    const std::string kind = json_fields::kind(json, what);
    if (kind == "transformer") return lm::parse_transformer_config(json, what);
    if (kind == "mlp" || kind == "cnn") return parse_model_config(json, what);
    json_fields::fail_field(json_fields::field_name(what, "kind"),
                            R"("mlp", "cnn" or "transformer")", json["kind"]);
}

nlohmann::json to_json(const student_config & config) {
    return std::visit([](const auto & c) { return nlohmann::json(to_json(c)); }, config);
}

}  // namespace distill
