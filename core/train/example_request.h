// One example as a teacher request, and back. A dataset asks its teacher
// about each example with
//   {"input": {"dtype": "uint8" | "float32", "shape": [D], "divisor": d,
//              "data": base64 of the little-endian values}}
// uint8 (value = byte / d, d = 255) when every feature is exactly a byte
// over 255 — images — so a stored request is a quarter of the float32 one;
// float32 (no "divisor") otherwise. Both are lossless.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace distill {

nlohmann::json example_request(const float * features, int64_t count);

// The features of a request; throws invalid_argument naming what is wrong
// (no "input", an unknown dtype, a shape other than [expected_features],
// data that is not base64 of the right length).
std::vector<float> example_request_features(const nlohmann::json & request,
                                            int64_t expected_features);

}  // namespace distill
