// Test helpers for the students' C ABI: small configs, a seeded synthetic
// classification set (learnable: the class is the argmax of a fixed linear
// map of the features), and reading a model's parameters.
#pragma once

#include <distill/distill.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "host_tensor.h"

namespace test {

inline const std::string small_mlp =
    R"({"kind": "mlp", "inputs": 12, "hidden": [16], "activation": "relu", "dropout": 0.1, "outputs": 4})";

struct synthetic_set {
    int64_t rows, features, classes;
    host_tensor inputs, labels, teacher_logits;
};

// rows examples of `features` features in [0, 1); labels = argmax of W·x;
// teacher logits = 3·W·x (a confident teacher that agrees with the labels).
inline synthetic_set make_synthetic_set(int64_t rows, int64_t features, int64_t classes,
                                        uint32_t seed) {
    std::mt19937 random(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0), weight(-1.0, 1.0);
    std::vector<double> w(static_cast<size_t>(features * classes));
    for (double & v : w) v = weight(random);
    std::vector<double> x(static_cast<size_t>(rows * features));
    std::vector<double> y(static_cast<size_t>(rows));
    std::vector<double> t(static_cast<size_t>(rows * classes));
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t f = 0; f < features; ++f) x[size_t(r * features + f)] = unit(random);
        int64_t best = 0;
        for (int64_t c = 0; c < classes; ++c) {
            double z = 0;
            for (int64_t f = 0; f < features; ++f)
                z += w[size_t(c * features + f)] * (x[size_t(r * features + f)] - 0.5);
            t[size_t(r * classes + c)] = 3.0 * z;
            if (z > t[size_t(r * classes + best)] / 3.0) best = c;
        }
        y[size_t(r)] = double(best);
    }
    return {rows,
            features,
            classes,
            host_tensor(storage::f32, {rows, features}, x),
            host_tensor(storage::i64, {rows}, y),
            host_tensor(storage::f32, {rows, classes}, t)};
}

// Every parameter value of a model, in tensor order.
inline std::vector<float> all_parameters(distill::Model & model) {
    std::vector<float> out;
    for (int64_t i = 0; i < model.tensor_count(); ++i) {
        const DLTensor view = model.parameter(i);
        int64_t count = 1;
        for (int32_t d = 0; d < view.ndim; ++d) count *= view.shape[d];
        const auto * values = static_cast<const float *>(view.data);
        out.insert(out.end(), values, values + count);
    }
    return out;
}

// The message of the last failure on this thread.
inline std::string last_error() { return distill_last_error_message(); }

}  // namespace test
