// The example wire format through the C ABI: requests encoded and decoded,
// the classification answer, and that a callback teacher built on them
// answers exactly as the model teacher does.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "student_test_support.h"

namespace {

std::string request_json(const std::vector<float> & features) {
    size_t length = 0;
    REQUIRE(distill_example_request_json(features.data(), int64_t(features.size()), nullptr, 0,
                                         &length) == DISTILL_STATUS_OK);
    std::string json(length + 1, '\0');
    REQUIRE(distill_example_request_json(features.data(), int64_t(features.size()), json.data(),
                                         json.size(), &length) == DISTILL_STATUS_OK);
    json.resize(length);
    return json;
}

std::vector<float> features_of(const std::string & json, int64_t expected = -1) {
    int64_t count = 0;
    REQUIRE(distill_example_request_features(json.c_str(), expected, nullptr, 0, &count) ==
            DISTILL_STATUS_OK);
    std::vector<float> features(static_cast<size_t>(count));
    REQUIRE(distill_example_request_features(json.c_str(), expected, features.data(), count,
                                             &count) == DISTILL_STATUS_OK);
    return features;
}

// The status of decoding `json`, and the message of its failure.
distill_status decode_status(const std::string & json, int64_t expected = -1) {
    float out[16];
    int64_t count = -7;
    const distill_status status =
        distill_example_request_features(json.c_str(), expected, out, 16, &count);
    if (status != DISTILL_STATUS_OK) CHECK(count == -7);  // untouched on failure
    return status;
}

struct position {
    std::string token;
    int32_t id = 0;
    float logprob = 0;
    std::vector<int32_t> ids;
    std::vector<float> logprobs;
    std::vector<std::string> tokens;
};

position answer_position(const distill_teacher_record * record, int64_t index) {
    position p;
    const char * token = nullptr;
    int32_t top_k = 0;
    REQUIRE(distill_teacher_record_get_position(record, index, &token, nullptr, nullptr, &p.id,
                                                &p.logprob, &top_k) == DISTILL_STATUS_OK);
    p.token = token;
    p.ids.resize(size_t(top_k));
    p.logprobs.resize(size_t(top_k));
    std::vector<const char *> tokens(static_cast<size_t>(top_k));
    int32_t count = 0;
    REQUIRE(distill_teacher_record_get_topk(record, index, top_k, p.ids.data(), p.logprobs.data(),
                                            tokens.data(), &count) == DISTILL_STATUS_OK);
    REQUIRE(count == top_k);
    for (const char * t : tokens) p.tokens.emplace_back(t);
    return p;
}

std::string text_of(const distill_teacher_record * record) {
    const char * text = nullptr;
    REQUIRE(distill_teacher_record_get_string(record, DISTILL_RECORD_TEXT, &text) ==
            DISTILL_STATUS_OK);
    return text;
}

int64_t int_of(const distill_teacher_record * record, distill_record_int field) {
    int64_t value = 0;
    REQUIRE(distill_teacher_record_get_int(record, field, &value) == DISTILL_STATUS_OK);
    return value;
}

}  // namespace

TEST_CASE("example wire: a request holds its features losslessly, bytes/255 as uint8") {
    const std::vector<float> image = {0.0f, 1.0f / 255, 128.0f / 255, 1.0f};
    const std::string bytes = request_json(image);
    CHECK(bytes.find(R"("dtype":"uint8")") != std::string::npos);
    CHECK(bytes.find(R"("shape":[4])") != std::string::npos);
    CHECK(features_of(bytes) == image);
    CHECK(features_of(bytes, 4) == image);

    const std::vector<float> values = {0.5f, -3.25f, 1e-20f, 0.3f, 7.0f};
    const std::string floats = request_json(values);
    CHECK(floats.find(R"("dtype":"float32")") != std::string::npos);
    CHECK(floats.find("divisor") == std::string::npos);
    CHECK(features_of(floats) == values);
}

TEST_CASE("example wire: request encoding errors leave the outputs alone") {
    const float features[3] = {0.25f, 0.5f, 2.0f};
    size_t length = 99;
    CHECK(distill_example_request_json(nullptr, 3, nullptr, 0, &length) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("features") != std::string::npos);
    CHECK(distill_example_request_json(features, 3, nullptr, 0, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("out_length") != std::string::npos);
    CHECK(distill_example_request_json(features, 0, nullptr, 0, &length) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("count: expected ≥ 1 features, got 0") != std::string::npos);
    CHECK(length == 99);

    REQUIRE(distill_example_request_json(features, 3, nullptr, 0, &length) == DISTILL_STATUS_OK);
    std::vector<char> out(length, 'x');  // no room for the NUL
    CHECK(distill_example_request_json(features, 3, out.data(), out.size(), &length) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("capacity: expected ≥ " + std::to_string(length + 1)) !=
          std::string::npos);
    CHECK(out[0] == 'x');
}

TEST_CASE("example wire: a malformed request is refused, naming the field") {
    const std::string good = request_json({0.5f, -1.0f, 2.0f});
    CHECK(decode_status(good) == DISTILL_STATUS_OK);

    CHECK(decode_status("{not json") == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("request_json: expected valid JSON") != std::string::npos);
    CHECK(decode_status(R"({"prompt": "x"})") == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("\"input\" object") != std::string::npos);
    CHECK(
        decode_status(R"({"input": {"dtype": "float64", "shape": [1], "data": "AAAAAAAAAAA="}})") ==
        DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find(R"(input.dtype: expected "uint8" or "float32", got "float64")") !=
          std::string::npos);
    CHECK(decode_status(good, 4) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("input.shape: expected [4], got [3]") != std::string::npos);
    CHECK(decode_status(R"({"input": {"dtype": "float32", "shape": [0], "data": ""}})") ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("input.shape: expected [D] with D ≥ 1, got [0]") !=
          std::string::npos);
    CHECK(decode_status(R"({"input": {"dtype": "float32", "shape": [1], "data": "A*=="}})") ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("input.data: not valid base64") != std::string::npos);
    CHECK(decode_status(R"({"input": {"dtype": "float32", "shape": [2], "data": "AAAAAA=="}})") ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("input.data: expected 8 bytes (float32), got 4") !=
          std::string::npos);
    CHECK(decode_status(
              R"({"input": {"dtype": "uint8", "shape": [1], "divisor": 0, "data": "AA=="}})") ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("input.divisor: expected a finite nonzero float32, got 0") !=
          std::string::npos);
    CHECK(decode_status(R"({"input": {"dtype": "uint8", "shape": [1], "data": "AA=="}})") ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("input.divisor is missing") != std::string::npos);
    CHECK(decode_status(good, 0) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("expected_features: expected ≥ 1, or -1 for any, got 0") !=
          std::string::npos);
    CHECK(decode_status(good, -2) == DISTILL_STATUS_INVALID_ARGUMENT);

    float out[2];
    int64_t count = -7;
    CHECK(distill_example_request_features(good.c_str(), -1, out, 2, &count) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("capacity: the request holds 3 features, got room for 2") !=
          std::string::npos);
    CHECK(count == -7);
    CHECK(distill_example_request_features(nullptr, -1, out, 2, &count) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("request_json: expected JSON text, got NULL") !=
          std::string::npos);
    CHECK(distill_example_request_features(good.c_str(), -1, out, 2, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("out_count") != std::string::npos);
}

TEST_CASE("example wire: the classification answer is log_softmax(logits / T), best first") {
    distill_teacher_record * record = nullptr;
    REQUIRE(distill_teacher_record_create(&record) == DISTILL_STATUS_OK);
    // Classes 1 and 3 tie: the lower index comes first.
    const float logits[5] = {0.5f, 2.0f, -1.0f, 2.0f, -INFINITY};
    const float temperature = 2.0f;
    REQUIRE(distill_teacher_record_set_classification(record, logits, 5, temperature, 4) ==
            DISTILL_STATUS_OK);
    double total = 0;
    for (float z : logits) total += std::exp(double(z) / temperature);
    const auto expected = [&](int c) {
        return float(double(logits[c]) / temperature - std::log(total));
    };

    int64_t count = 0;
    REQUIRE(distill_teacher_record_position_count(record, &count) == DISTILL_STATUS_OK);
    REQUIRE(count == 1);
    const position p = answer_position(record, 0);
    CHECK(p.ids == std::vector<int32_t>{1, 3, 0, 2});
    CHECK(p.tokens == std::vector<std::string>{"1", "3", "0", "2"});
    for (size_t i = 0; i < p.ids.size(); ++i) CHECK(p.logprobs[i] == expected(p.ids[i]));
    CHECK(p.id == 1);
    CHECK(p.token == "1");
    CHECK(p.logprob == expected(1));
    CHECK(text_of(record) == "1");
    CHECK(int_of(record, DISTILL_RECORD_LOGPROBS_KIND) == DISTILL_LOGPROBS_RAW);

    // Set again: replaced, not appended; top_k 0 (or more than C) is every class.
    const float two[2] = {-1.0f, 3.0f};
    REQUIRE(distill_teacher_record_set_classification(record, two, 2, 1.0f, 0) ==
            DISTILL_STATUS_OK);
    REQUIRE(distill_teacher_record_position_count(record, &count) == DISTILL_STATUS_OK);
    CHECK(count == 1);
    CHECK(answer_position(record, 0).ids == std::vector<int32_t>{1, 0});
    REQUIRE(distill_teacher_record_set_classification(record, two, 2, 1.0f, 9) ==
            DISTILL_STATUS_OK);
    CHECK(answer_position(record, 0).ids == std::vector<int32_t>{1, 0});
    CHECK(text_of(record) == "1");
    distill_teacher_record_free(record);
}

TEST_CASE("example wire: classification errors name the argument and leave the record alone") {
    distill_teacher_record * record = nullptr;
    REQUIRE(distill_teacher_record_create(&record) == DISTILL_STATUS_OK);
    const float logits[3] = {1.0f, 0.0f, -1.0f};
    REQUIRE(distill_teacher_record_set_classification(record, logits, 3, 1.0f, 0) ==
            DISTILL_STATUS_OK);

    struct bad_call {
        const float * logits;
        int64_t classes;
        float temperature;
        int32_t top_k;
        const char * message;
    };
    const float nan_logit[2] = {0.0f, std::numeric_limits<float>::quiet_NaN()};
    const float inf_logit[2] = {INFINITY, 0.0f};
    const float no_class[2] = {-INFINITY, -INFINITY};
    const bad_call calls[] = {
        {nullptr, 3, 1.0f, 0, "logits: expected [classes] floats, got NULL"},
        {logits, 0, 1.0f, 0, "classes: expected 1 to 2^31 - 1, got 0"},
        {logits, 3, 0.0f, 0, "temperature: expected a finite value > 0"},
        {logits, 3, std::numeric_limits<float>::quiet_NaN(), 0, "temperature"},
        {logits, 3, INFINITY, 0, "temperature"},
        {logits, 3, 1.0f, -1, "top_k: expected ≥ 0 (0 = every class), got -1"},
        {nan_logit, 2, 1.0f, 0, "logits[1]: expected a finite value or -inf, got nan"},
        {inf_logit, 2, 1.0f, 0, "logits[0]: expected a finite value or -inf, got inf"},
        {no_class, 2, 1.0f, 0, "logits: every class is -inf"},
    };
    for (const bad_call & call : calls) {
        CAPTURE(call.message);
        CHECK(distill_teacher_record_set_classification(record, call.logits, call.classes,
                                                        call.temperature, call.top_k) ==
              DISTILL_STATUS_INVALID_ARGUMENT);
        CHECK(test::last_error().find(call.message) != std::string::npos);
        const position p = answer_position(record, 0);
        CHECK(p.ids == std::vector<int32_t>{0, 1, 2});  // the earlier answer, unchanged
    }
    CHECK(distill_teacher_record_set_classification(nullptr, logits, 3, 1.0f, 0) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("record: expected a record") != std::string::npos);
    distill_teacher_record_free(record);
}

namespace {

// A host-language classification teacher as a binding writes one: decode
// the request, run the model, answer through the ABI.
struct host_teacher {
    const distill::Context * context;
    distill::Model * model;
    float temperature;
    int32_t top_k;
};

distill_status answer_with_model(void * user_data, const char * request_json,
                                 distill_teacher_record * record) {
    const auto & teacher = *static_cast<const host_teacher *>(user_data);
    int64_t count = 0;
    distill_status status =
        distill_example_request_features(request_json, teacher.model->inputs(), nullptr, 0, &count);
    if (status != DISTILL_STATUS_OK) return status;
    std::vector<float> features(static_cast<size_t>(count));
    status = distill_example_request_features(request_json, teacher.model->inputs(),
                                              features.data(), count, &count);
    if (status != DISTILL_STATUS_OK) return status;
    const std::vector<float> logits =
        teacher.model->predict(*teacher.context, features.data(), 1, DISTILL_OUTPUT_RAW);
    return distill_teacher_record_set_classification(record, logits.data(), int64_t(logits.size()),
                                                     teacher.temperature, teacher.top_k);
}

}  // namespace

TEST_CASE("example wire: a callback teacher on the ABI answers exactly as the model teacher") {
    const distill::Context cpu;
    distill::Model model = distill::Model::create(test::small_mlp, 11);
    test::synthetic_set set = test::make_synthetic_set(3, 12, 4, 5);
    const auto * x = static_cast<const float *>(set.inputs.dl()->data);
    for (const auto & [temperature, top_k] : {std::pair{1.0f, 0}, std::pair{2.5f, 3}}) {
        CAPTURE(temperature);
        distill::Teacher model_teacher =
            distill::Teacher::model(cpu, model, "unit", top_k, temperature);
        host_teacher host{&cpu, &model, temperature, top_k};
        distill::Teacher callback = distill::Teacher::callback(answer_with_model, &host, "host");
        for (int64_t row = 0; row < 3; ++row) {
            const std::string request =
                request_json(std::vector<float>(x + row * 12, x + (row + 1) * 12));
            distill::TeacherRecord expected = model_teacher.query(request);
            distill::TeacherRecord got = callback.query(request);
            REQUIRE_FALSE(expected.failed());
            REQUIRE_FALSE(got.failed());
            CHECK(got.text() == expected.text());
            CHECK(got.integer(DISTILL_RECORD_LOGPROBS_KIND) ==
                  expected.integer(DISTILL_RECORD_LOGPROBS_KIND));
            REQUIRE(got.position_count() == 1);
            REQUIRE(expected.position_count() == 1);
            const position a = answer_position(got.get(), 0);
            const position b = answer_position(expected.get(), 0);
            CHECK(a.token == b.token);
            CHECK(a.id == b.id);
            CHECK(a.logprob == b.logprob);
            CHECK(a.ids == b.ids);
            CHECK(a.tokens == b.tokens);
            CHECK(a.logprobs == b.logprobs);
            CHECK(a.ids.size() == size_t(top_k == 0 ? 4 : top_k));
        }
    }
}

TEST_CASE("model teacher: its records name the teacher and the model's fingerprint") {
    const distill::Context cpu;
    distill::Model model = distill::Model::create(test::small_mlp, 3);
    distill::Teacher teacher = distill::Teacher::model(cpu, model, "fingerprinted");
    test::synthetic_set set = test::make_synthetic_set(1, 12, 4, 2);
    const auto * x = static_cast<const float *>(set.inputs.dl()->data);
    distill::TeacherRecord record = teacher.query(request_json(std::vector<float>(x, x + 12)));
    CHECK(record.string(DISTILL_RECORD_PROVIDER) == "model");
    CHECK(record.string(DISTILL_RECORD_ENDPOINT) == "fingerprinted");
    const std::string fingerprint = record.string(DISTILL_RECORD_MODEL);
    CHECK(fingerprint.size() == 16);
    CHECK(record.string(DISTILL_RECORD_TEACHER_JSON).find(fingerprint) != std::string::npos);
}
