// The wire format of one example between a dataset and a classification
// teacher, both ways, written once (the C ABI's "Example wire format"
// block exposes it to the bindings).
//
// The request: a dataset asks its teacher about each example with
//   {"input": {"dtype": "uint8" | "float32", "shape": [D], "divisor": d,
//              "data": base64 of the little-endian values}}
// uint8 (value = byte / d, d = 255) when every feature is exactly a byte
// over 255 — images — so a stored request is a quarter of the float32 one;
// float32 (no "divisor") otherwise. Both are lossless.
//
// The answer: the class distribution of the example's logits [C] as the
// record an OpenAI-compatible server gives for one generated token: one
// position whose top-k alternatives are the classes (id = class index,
// token = its decimal text) with log_softmax(logits / T) (computed in
// double), most likely first, ties by class index; the position's own token
// and the record's text are the most likely class; logprobs kind raw.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "teachers/teacher_record.h"

namespace distill {

// features: [count], count ≥ 1.
nlohmann::json example_request(const float * features, int64_t count);

// Any number of features (the request's shape says how many), for
// example_request_features.
inline constexpr int64_t any_feature_count = -1;

// The features of a request; throws invalid_argument naming what is wrong
// (no "input", an unknown dtype, a shape other than [expected_features] —
// or, for any_feature_count, other than [D] with D ≥ 1 —, data that is not
// base64 of the right length).
std::vector<float> example_request_features(const nlohmann::json & request,
                                            int64_t expected_features);

// Sets record's answer to the class distribution of logits [classes]
// (classes ≥ 1; each logit finite or -inf) at `temperature` (finite, > 0)
// with the `top_k` most likely classes (0 or ≥ classes: all): replaces
// record.positions and record.text, sets record.kind = raw, leaves every
// other field alone. Throws invalid_argument naming a bad argument.
void set_classification_answer(teacher_record & record, const float * logits, int64_t classes,
                               float temperature, int32_t top_k);

}  // namespace distill
