// answers.hpp — what a host-language classification teacher needs to read
// a Dataset.ask_teacher request and answer it like a model teacher does
// (the Python package's request_features / classification_answer).
#pragma once

#include "teachers.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <numeric>

namespace distill_swig {

namespace detail {
// Standard base64 (RFC 4648, padded), as the library writes it.
inline std::vector<uint8_t> base64_decode(const std::string & text) {
    auto value_of = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::vector<uint8_t> bytes;
    uint32_t bits = 0;
    int pending = 0;
    for (char c : text) {
        if (c == '=') break;
        const int value = value_of(c);
        if (value < 0) throw std::invalid_argument("data: not base64");
        bits = (bits << 6) | static_cast<uint32_t>(value);
        pending += 6;
        if (pending >= 8) {
            pending -= 8;
            bytes.push_back(static_cast<uint8_t>(bits >> pending));
        }
    }
    return bytes;
}
}  // namespace detail

inline std::vector<float> Teacher::request_features(const std::string & request_json) {
    try {
        const nlohmann::json input = nlohmann::json::parse(request_json).at("input");
        const std::vector<uint8_t> raw = detail::base64_decode(input.at("data").get<std::string>());
        const std::string dtype = input.at("dtype").get<std::string>();
        std::vector<float> values;
        if (dtype == "uint8") {
            const float divisor = input.at("divisor").get<float>();
            for (uint8_t byte : raw) values.push_back(static_cast<float>(byte) / divisor);
        } else if (dtype == "float32") {
            values.resize(raw.size() / sizeof(float));
            std::memcpy(values.data(), raw.data(), values.size() * sizeof(float));
        } else {
            throw std::invalid_argument("unknown dtype \"" + dtype + "\"");
        }
        return values;
    } catch (const std::exception & e) {
        throw Error(DISTILL_STATUS_INVALID_ARGUMENT,
                    "request_json: expected a Dataset.ask_teacher request, got " +
                        request_json.substr(0, 80) + ": " + e.what());
    }
}

inline void TeacherRecord::answer_classification(FloatArray logits, int32_t top_k,
                                                 float temperature) {
    if (logits.data == nullptr || logits.length < 1)
        throw Error(DISTILL_STATUS_INVALID_ARGUMENT, "logits: expected at least one class");
    if (!(temperature > 0.0f))
        throw Error(DISTILL_STATUS_INVALID_ARGUMENT,
                    "temperature: expected > 0, got " + std::to_string(temperature));
    // log_softmax in double, as the model teacher computes it.
    std::vector<double> logprobs(logits.data, logits.data + logits.length);
    double max = logprobs[0];
    for (double & z : logprobs) max = std::max(max, z /= temperature);
    double sum = 0.0;
    for (double z : logprobs) sum += std::exp(z - max);
    const double log_normaliser = max + std::log(sum);
    for (double & z : logprobs) z -= log_normaliser;

    std::vector<int32_t> order(logprobs.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return logprobs[a] > logprobs[b]; });
    if (top_k > 0 && static_cast<size_t>(top_k) < order.size()) order.resize(top_k);

    std::vector<float> top_logprobs;
    std::vector<std::string> texts;
    std::vector<const char *> tokens;
    for (int32_t c : order) {
        top_logprobs.push_back(static_cast<float>(logprobs[c]));
        texts.push_back(std::to_string(c));
    }
    for (const std::string & text : texts) tokens.push_back(text.c_str());
    check(distill_teacher_record_append_position(
        get(), tokens[0], nullptr, 0, order[0], top_logprobs[0], static_cast<int32_t>(order.size()),
        order.data(), tokens.data(), top_logprobs.data()));
    set_int(RecordInt::logprobs_kind, DISTILL_LOGPROBS_RAW);
}

}  // namespace distill_swig
