#include "teachers/example_wire.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
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
    if (count < 1) fail_invalid("count: expected ≥ 1 features, got " + std::to_string(count));
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
    if (expected_features < 1 && expected_features != any_feature_count)
        fail_invalid("expected_features: expected ≥ 1, or " + std::to_string(any_feature_count) +
                     " for any, got " + std::to_string(expected_features));
    if (!request.is_object() || !request.contains("input") || !request["input"].is_object())
        bad_request("expected an object with an \"input\" object, got " +
                    request.dump().substr(0, 80));
    const nlohmann::json & input = request["input"];
    const auto field = [&](const char * name) -> const nlohmann::json & {
        if (!input.contains(name)) bad_request(std::string("input.") + name + " is missing");
        return input[name];
    };
    const nlohmann::json & shape = field("shape");
    const bool any = expected_features == any_feature_count;
    if (!shape.is_array() || shape.size() != 1 || !shape[0].is_number_integer() ||
        (any ? shape[0].get<int64_t>() < 1 : shape[0].get<int64_t>() != expected_features))
        bad_request(std::string("input.shape: expected ") +
                    (any ? "[D] with D ≥ 1" : "[" + std::to_string(expected_features) + "]") +
                    ", got " + shape.dump());
    if (any) expected_features = shape[0].get<int64_t>();
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

void set_classification_answer(teacher_record & record, const float * logits, int64_t classes,
                               float temperature, int32_t top_k) {
    if (logits == nullptr) fail_invalid("logits: expected [classes] floats, got NULL");
    // Class ids are int32 on the wire (top_logprob::id).
    if (classes < 1 || classes > std::numeric_limits<int32_t>::max())
        fail_invalid("classes: expected 1 to 2^31 - 1, got " + std::to_string(classes));
    if (!(temperature > 0.0f) || !std::isfinite(temperature))
        fail_invalid("temperature: expected a finite value > 0, got " +
                     std::to_string(temperature));
    if (top_k < 0)
        fail_invalid("top_k: expected ≥ 0 (0 = every class), got " + std::to_string(top_k));
    // -inf is a class of probability 0; NaN and +inf have no distribution.
    for (int64_t c = 0; c < classes; ++c)
        if (std::isnan(logits[c]) || logits[c] == INFINITY)
            fail_invalid("logits[" + std::to_string(c) +
                         "]: expected a finite value or -inf, got " + std::to_string(logits[c]));
    double max_logit = -INFINITY;
    for (int64_t c = 0; c < classes; ++c)
        max_logit = std::max(max_logit, double(logits[c]) / temperature);
    if (max_logit == -INFINITY) fail_invalid("logits: every class is -inf (no distribution)");
    std::vector<double> logprobs(static_cast<size_t>(classes));
    double total = 0.0;
    for (int64_t c = 0; c < classes; ++c)
        total += std::exp(double(logits[c]) / temperature - max_logit);
    const double log_total = max_logit + std::log(total);
    for (int64_t c = 0; c < classes; ++c)
        logprobs[size_t(c)] = double(logits[c]) / temperature - log_total;

    std::vector<int32_t> order(static_cast<size_t>(classes));
    std::iota(order.begin(), order.end(), 0);
    const size_t k = top_k > 0 ? std::min<size_t>(size_t(top_k), order.size()) : order.size();
    std::partial_sort(order.begin(), order.begin() + ptrdiff_t(k), order.end(),
                      [&](int32_t a, int32_t b) {
                          return logprobs[size_t(a)] > logprobs[size_t(b)] ||
                                 (logprobs[size_t(a)] == logprobs[size_t(b)] && a < b);
                      });
    token_position position;
    position.id = order[0];
    position.token = std::to_string(order[0]);
    position.bytes = position.token;
    position.logprob = float(logprobs[size_t(order[0])]);
    for (size_t i = 0; i < k; ++i)
        position.top.push_back(
            {order[i], std::to_string(order[i]), float(logprobs[size_t(order[i])])});
    record.text = position.token;
    record.kind = logprob_kind::raw;
    record.positions.assign(1, std::move(position));
}

}  // namespace distill
