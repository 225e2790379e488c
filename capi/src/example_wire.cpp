// distill_example_* and distill_teacher_record_set_classification: the
// example wire format of core/teachers/example_wire.h, for teachers that
// live outside the library.
#include <cstring>
#include <string>
#include <vector>

#include "api_guard.h"
#include "teacher_record_handle.h"
#include "teachers/example_wire.h"
#include "teachers/request_key.h"

using distill::capi::guarded;
using distill::capi::require_pointer;
using distill::capi::unwrap;

extern "C" {

distill_status distill_example_request_json(const float * features, int64_t count, char * out,
                                            size_t capacity, size_t * out_length) {
    return guarded([&] {
        require_pointer(features, "features", "[count] floats");
        require_pointer(out_length, "out_length", "a size_t to receive the JSON's length");
        const std::string json = distill::example_request(features, count).dump();
        if (out != nullptr) {
            if (capacity <= json.size())
                distill::fail_invalid("capacity: expected ≥ " + std::to_string(json.size() + 1) +
                                      " chars (the JSON and its NUL), got " +
                                      std::to_string(capacity));
            std::memcpy(out, json.c_str(), json.size() + 1);
        }
        *out_length = json.size();
    });
}

distill_status distill_example_request_features(const char * request_json,
                                                int64_t expected_features, float * out,
                                                int64_t capacity, int64_t * out_count) {
    return guarded([&] {
        require_pointer(out_count, "out_count", "an int64_t to receive the feature count");
        const std::vector<float> features = distill::example_request_features(
            distill::parse_json_argument(request_json, "request_json"), expected_features);
        const auto count = int64_t(features.size());
        if (out != nullptr) {
            if (capacity < count)
                distill::fail_invalid("capacity: the request holds " + std::to_string(count) +
                                      " features, got room for " + std::to_string(capacity));
            std::memcpy(out, features.data(), features.size() * sizeof(float));
        }
        *out_count = count;
    });
}

distill_status distill_teacher_record_set_classification(distill_teacher_record * record,
                                                         const float * logits, int64_t classes,
                                                         float temperature, int32_t top_k) {
    return guarded([&] {
        distill::teacher_record & r = unwrap(record);
        // Built aside, so a failure leaves the record as it was.
        distill::teacher_record answer;
        distill::set_classification_answer(answer, logits, classes, temperature, top_k);
        r.positions = std::move(answer.positions);
        r.text = std::move(answer.text);
        r.kind = answer.kind;
    });
}

}  // extern "C"
