// The one JSON route to every built-in student's config: "kind" picks the
// family, "mlp" and "cnn" (students/model_config.h) or "transformer"
// (lm/transformer_config.h), and that family's parser checks the rest.
// Here, in train, because it is the lowest room that sees both.
#pragma once

#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "lm/transformer_config.h"
#include "students/model_config.h"

namespace distill {

using student_config = std::variant<model_config, lm::transformer_config>;

// Refuses a missing or unknown kind naming the three, and whatever the
// family's parser refuses.
student_config parse_student_config(const nlohmann::json & json,
                                    const std::string & what = "model_config");

nlohmann::json to_json(const student_config & config);

}  // namespace distill
