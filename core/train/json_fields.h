// Reading the small config objects of core/train from JSON: a missing field
// takes its default, a present one must have the right type, and a key the
// config does not know is refused (a typo like "weight_deacy" must not pass
// silently as "no weight decay"). Errors read "<what>.<key>: expected ..., got ...".
#pragma once

#include "common/error.h"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace distill::json_fields {

// The shortest text that reads back as `value` (1e-08, not 0.000000).
inline std::string number_text(double value) {
    return std::isfinite(value) ? nlohmann::json(value).dump() : std::to_string(value);
}

inline void require_object(const nlohmann::json & object, const std::string & what,
                           std::initializer_list<std::string_view> allowed) {
    if (!object.is_object())
        fail_invalid(what + ": expected a JSON object, got " + std::string(object.type_name()));
    for (const auto & [key, value] : object.items()) {
        bool known = false;
        std::string names;
        for (std::string_view name : allowed) {
            known = known || key == name;
            names += (names.empty() ? "" : ", ") + std::string(name);
        }
        if (!known)
            fail_invalid(what + ": expected only the keys " + names + ", got unknown key '" + key +
                         "'");
    }
}

// A finite number (JSON integers count; booleans do not).
inline double number(const nlohmann::json & object, const char * key, double fallback,
                     const std::string & what) {
    if (!object.contains(key)) return fallback;
    const nlohmann::json & value = object[key];
    if (!value.is_number())
        fail_invalid(what + "." + key + ": expected a number, got " + value.dump());
    const double result = value.get<double>();
    if (!std::isfinite(result))
        fail_invalid(what + "." + key + ": expected a finite number, got " + value.dump());
    return result;
}

inline int64_t integer(const nlohmann::json & object, const char * key, int64_t fallback,
                       const std::string & what) {
    if (!object.contains(key)) return fallback;
    const nlohmann::json & value = object[key];
    if (!value.is_number_integer() ||
        (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(INT64_MAX)))
        fail_invalid(what + "." + key + ": expected an integer, got " + value.dump());
    return value.get<int64_t>();
}

inline bool boolean(const nlohmann::json & object, const char * key, bool fallback,
                    const std::string & what) {
    if (!object.contains(key)) return fallback;
    const nlohmann::json & value = object[key];
    if (!value.is_boolean())
        fail_invalid(what + "." + key + ": expected true or false, got " + value.dump());
    return value.get<bool>();
}

inline std::string kind(const nlohmann::json & object, const std::string & what) {
    if (!object.is_object())
        fail_invalid(what + ": expected a JSON object, got " + std::string(object.type_name()));
    if (!object.contains("kind") || !object["kind"].is_string())
        fail_invalid(what + ".kind: expected a string, got " +
                     (object.contains("kind") ? object["kind"].dump() : "no kind"));
    return object["kind"].get<std::string>();
}

}  // namespace distill::json_fields
