#include "teachers/request_key.h"

#include "common/error.h"
#include "common/sha256.h"

namespace distill {

std::string canonical_json(const nlohmann::json & value) { return value.dump(); }

nlohmann::json parse_json_argument(const char * text, const char * argument) {
    if (text == nullptr) fail_invalid(std::string(argument) + ": expected JSON text, got NULL");
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error & e) {
        fail_invalid(std::string(argument) + ": expected valid JSON, got a parse error (" +
                     e.what() + ")");
    }
}

std::string request_key(const nlohmann::json & teacher, const nlohmann::json & request,
                        const nlohmann::json & parameters) {
    const nlohmann::json identity = {
        {"parameters", parameters}, {"request", request}, {"teacher", teacher}};
    return sha256_hex(canonical_json(identity));
}

}  // namespace distill
