#include "common/json_fields.h"

#include <algorithm>
#include <cmath>

namespace distill::json_fields {

std::string field_name(const std::string & what, std::string_view key) {
    return what + "." + std::string(key);
}

std::string element_name(const std::string & what, size_t index) {
    return what + "[" + std::to_string(index) + "]";
}

std::string number_text(double value) {
    return std::isfinite(value) ? nlohmann::json(value).dump() : std::to_string(value);
}

void fail_field(const std::string & field, const std::string & expected,
                const nlohmann::json & got) {
    fail_invalid(field + ": expected " + expected + ", got " + got.dump());
}

void require_object(const nlohmann::json & object, const std::string & what,
                    std::initializer_list<std::string_view> allowed) {
    if (!object.is_object())
        fail_invalid(what + ": expected a JSON object, got " + std::string(object.type_name()));
    for (const auto & [key, value] : object.items()) {
        if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
        std::string names;
        for (std::string_view name : allowed)
            names += (names.empty() ? "" : ", ") + std::string(name);
        fail_invalid(what + ": expected only the keys " + names + ", got unknown key '" + key +
                     "'");
    }
}

const nlohmann::json & required(const nlohmann::json & object, std::string_view key,
                                const std::string & what, const std::string & expected) {
    const auto it = object.find(key);
    if (it == object.end())
        fail_invalid(field_name(what, key) + " is missing (expected " + expected + ")");
    return *it;
}

double number(const nlohmann::json & object, const char * key, double fallback,
              const std::string & what) {
    const auto it = object.find(key);
    if (it == object.end()) return fallback;
    if (!it->is_number()) fail_field(field_name(what, key), "a number", *it);
    const double result = it->get<double>();
    if (!std::isfinite(result)) fail_field(field_name(what, key), "a finite number", *it);
    return result;
}

int64_t integer(const nlohmann::json & object, const char * key, int64_t fallback,
                const std::string & what) {
    const auto it = object.find(key);
    if (it == object.end()) return fallback;
    if (!it->is_number_integer() ||
        (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(INT64_MAX)))
        fail_field(field_name(what, key), "an integer", *it);
    return it->get<int64_t>();
}

int64_t integer_in(const nlohmann::json & value, const std::string & field, int64_t low,
                   int64_t high) {
    const std::string expected =
        "an integer in [" + std::to_string(low) + ", " + std::to_string(high) + "]";
    if (!value.is_number_integer()) fail_field(field, expected, value);
    if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(std::max<int64_t>(high, 0)))
        fail_field(field, expected, value);
    const int64_t v = value.get<int64_t>();
    if (v < low || v > high) fail_field(field, expected, value);
    return v;
}

bool boolean(const nlohmann::json & object, const char * key, bool fallback,
             const std::string & what) {
    const auto it = object.find(key);
    if (it == object.end()) return fallback;
    if (!it->is_boolean()) fail_field(field_name(what, key), "true or false", *it);
    return it->get<bool>();
}

std::string kind(const nlohmann::json & object, const std::string & what) {
    if (!object.is_object())
        fail_invalid(what + ": expected a JSON object, got " + std::string(object.type_name()));
    const nlohmann::json & value = required(object, "kind", what, "a string");
    if (!value.is_string()) fail_field(field_name(what, "kind"), "a string", value);
    return value.get<std::string>();
}

const nlohmann::json * member(const nlohmann::json & object, const char * key) {
    if (!object.is_object()) return nullptr;
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string string_or(const nlohmann::json & object, const char * key,
                      const std::string & fallback) {
    const nlohmann::json * v = member(object, key);
    return v && v->is_string() ? v->get<std::string>() : fallback;
}

int64_t saturated_integer(const nlohmann::json & value) {
    return value.is_number_unsigned()
               ? int64_t(std::min<uint64_t>(value.get<uint64_t>(), uint64_t(INT64_MAX)))
               : value.get<int64_t>();
}

int64_t count_or_zero(const nlohmann::json & object, const char * key) {
    const nlohmann::json * v = member(object, key);
    if (v == nullptr || !v->is_number()) return 0;
    if (v->is_number_integer()) return saturated_integer(*v);
    const double d = v->get<double>();
    return std::isfinite(d) && std::fabs(d) < 9.0e18 && d == std::floor(d) ? int64_t(d) : 0;
}

}  // namespace distill::json_fields
