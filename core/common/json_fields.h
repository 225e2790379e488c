// Reading typed fields of JSON objects, with one wording for every refusal
// (configs of students, optimizers and schedules; answers of servers).
//
// Fields are named by a path: field `key` of the object named `what` is
// "<what>.<key>" ("optimizer.lr", "config_json.conv[0].kernel"); element
// i of an array is "<what>[i]". Errors read
//   "<field>: expected <what was expected>, got <the value as JSON>"
//   "<field> is missing (expected <what was expected>)"
//   "<what>: expected only the keys a, b, got unknown key 'k'"
//
// Two kinds of readers:
//  * strict (configs a person wrote): a missing field takes its default or
//    is refused as missing, a present one must have the right type and
//    range, and a key the object does not know is refused (a typo like
//    "weight_deacy" must not pass silently as "no weight decay");
//  * lenient (answers of servers, whose dialects differ): absent, null or
//    mistyped fields read as a fallback.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace distill::json_fields {

// "<what>.<key>", and "<what>[index]".
std::string field_name(const std::string & what, std::string_view key);
std::string element_name(const std::string & what, size_t index);

// The shortest text that reads back as `value` (1e-08, not 0.000000).
std::string number_text(double value);

[[noreturn]] void fail_field(const std::string & field, const std::string & expected,
                             const nlohmann::json & got);

// --- strict ---------------------------------------------------------------

// `object` is a JSON object whose keys are all in `allowed`.
void require_object(const nlohmann::json & object, const std::string & what,
                    std::initializer_list<std::string_view> allowed);

// The field, refused as missing (naming `expected`) when absent.
const nlohmann::json & required(const nlohmann::json & object, std::string_view key,
                                const std::string & what, const std::string & expected);

// A finite number (JSON integers count; booleans do not); fallback when absent.
double number(const nlohmann::json & object, const char * key, double fallback,
              const std::string & what);

// An integer (1.0 and "1" are refused, not converted); fallback when absent.
int64_t integer(const nlohmann::json & object, const char * key, int64_t fallback,
                const std::string & what);

// `value` (the field `field`) as an integer in [low, high].
int64_t integer_in(const nlohmann::json & value, const std::string & field, int64_t low,
                   int64_t high);

// true or false; fallback when absent.
bool boolean(const nlohmann::json & object, const char * key, bool fallback,
             const std::string & what);

// The "kind" string of a config object (refused when missing or not a string).
std::string kind(const nlohmann::json & object, const std::string & what);

// One of the named values ("relu" → activation_kind::relu); fallback when
// absent; refused naming every name otherwise.
template <class Enum>
Enum one_of(const nlohmann::json & object, const char * key, Enum fallback,
            const std::vector<std::pair<std::string, Enum>> & names, const std::string & what) {
    const auto it = object.find(key);
    if (it == object.end()) return fallback;
    if (it->is_string())
        for (const auto & [name, value] : names)
            if (it->template get_ref<const std::string &>() == name) return value;
    std::string expected;
    for (const auto & [name, value] : names)
        expected += (expected.empty() ? "" : " or ") + ('"' + name + '"');
    fail_field(field_name(what, key), expected, *it);
}

// --- lenient --------------------------------------------------------------

// The field, or nullptr when `object` is not an object, or the field is
// absent or null.
const nlohmann::json * member(const nlohmann::json & object, const char * key);

// A string field, or `fallback` when absent, null or not a string.
std::string string_or(const nlohmann::json & object, const char * key,
                      const std::string & fallback = "");

// An integer JSON value as int64 (nlohmann keeps non-negative ones as
// unsigned; those above INT64_MAX saturate).
int64_t saturated_integer(const nlohmann::json & value);

// A count: an integer, or a whole float in range (1.0e3); anything else 0.
// (A float like 7.8e103 must not reach a conversion to int64: undefined.)
int64_t count_or_zero(const nlohmann::json & object, const char * key);

}  // namespace distill::json_fields
