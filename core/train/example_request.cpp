#include "train/example_request.h"

#include <cmath>
#include <cstring>
#include <string>

#include "common/base64.h"
#include "common/error.h"

namespace distill {
namespace {

// Images are stored as byte / 255 (data/idx_dataset.h), so that is the
// encoding's divisor.
constexpr float byte_divisor = 255.0f;

// The byte b with float(b) / 255 == value exactly, or -1.
int exact_byte(float value) {
    const float scaled = std::round(value * byte_divisor);
    if (!(scaled >= 0.0f && scaled <= 255.0f)) return -1;
    return scaled / byte_divisor == value ? int(scaled) : -1;
}

[[noreturn]] void bad_request(const std::string & what) { fail_invalid("request: " + what); }

}  // namespace

nlohmann::json example_request(const float * features, int64_t count) {
    std::string bytes(size_t(count), '\0');
    bool all_bytes = true;
    for (int64_t i = 0; i < count && all_bytes; ++i) {
        const int b = exact_byte(features[i]);
        all_bytes = b >= 0;
        bytes[size_t(i)] = char(b);
    }
    nlohmann::json input = {{"shape", {count}}};
    if (all_bytes) {
        input["dtype"] = "uint8";
        input["divisor"] = byte_divisor;
    } else {
        input["dtype"] = "float32";
        bytes.resize(size_t(count) * sizeof(float));
        std::memcpy(bytes.data(), features, bytes.size());  // little-endian hosts only
    }
    input["data"] = base64_encode(bytes);
    return {{"input", std::move(input)}};
}

std::vector<float> example_request_features(const nlohmann::json & request,
                                            int64_t expected_features) {
    if (!request.is_object() || !request.contains("input") || !request["input"].is_object())
        bad_request("expected an object with an \"input\" object, got " +
                    request.dump().substr(0, 80));
    const nlohmann::json & input = request["input"];
    const auto field = [&](const char * name) -> const nlohmann::json & {
        if (!input.contains(name)) bad_request(std::string("input.") + name + " is missing");
        return input[name];
    };
    const nlohmann::json & shape = field("shape");
    if (!shape.is_array() || shape.size() != 1 || !shape[0].is_number_integer() ||
        shape[0].get<int64_t>() != expected_features)
        bad_request("input.shape: expected [" + std::to_string(expected_features) + "], got " +
                    shape.dump());
    const nlohmann::json & dtype = field("dtype");
    const nlohmann::json & data = field("data");
    if (!data.is_string()) bad_request("input.data: expected a base64 string");
    const std::optional<std::string> bytes = base64_decode(data.get_ref<const std::string &>());
    if (!bytes) bad_request("input.data: not valid base64");
    std::vector<float> features(static_cast<size_t>(expected_features));
    if (dtype == "uint8") {
        const nlohmann::json & divisor = field("divisor");
        // Checked as the float it is used as (1e300 would become inf).
        if (!divisor.is_number() || !std::isfinite(divisor.get<float>()) ||
            divisor.get<float>() == 0.0f)
            bad_request("input.divisor: expected a finite nonzero float32, got " + divisor.dump());
        if (int64_t(bytes->size()) != expected_features)
            bad_request("input.data: expected " + std::to_string(expected_features) +
                        " bytes, got " + std::to_string(bytes->size()));
        const float d = divisor.get<float>();
        for (size_t i = 0; i < features.size(); ++i) features[i] = float(uint8_t((*bytes)[i])) / d;
    } else if (dtype == "float32") {
        if (int64_t(bytes->size()) != expected_features * int64_t(sizeof(float)))
            bad_request("input.data: expected " +
                        std::to_string(expected_features * int64_t(sizeof(float))) +
                        " bytes (float32), got " + std::to_string(bytes->size()));
        std::memcpy(features.data(), bytes->data(), bytes->size());
    } else {
        bad_request("input.dtype: expected \"uint8\" or \"float32\", got " + dtype.dump());
    }
    return features;
}

}  // namespace distill
