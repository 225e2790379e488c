// The canonical request key: the same question to the same teacher gets the
// same key whatever job asks it and however its JSON was spelled, so the
// store asks each question once.
//
//   key = hex SHA-256 of canonical({"parameters": P, "request": R, "teacher": T})
//
// Canonical JSON is nlohmann-json's dump(): object keys sorted (its objects
// are std::map), no whitespace, strings as UTF-8. Numbers keep their kind:
// 1 and 1.0 are different requests (servers may treat them differently).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace distill {

std::string canonical_json(const nlohmann::json & value);

// Parses `text` as JSON; throws invalid_argument naming `argument` (the
// parser's position and reason in the message) when it is not.
nlohmann::json parse_json_argument(const char * text, const char * argument);

// The key of a request; each part is any JSON value (null for "none").
std::string request_key(const nlohmann::json & teacher, const nlohmann::json & request,
                        const nlohmann::json & parameters);

}  // namespace distill
