// The description of a built-in student, read from and written to JSON.
//
// MLP:  {"kind": "mlp", "inputs": 784, "hidden": [1200, 1200],
//        "activation": "relu" | "gelu", "dropout": 0.2, "outputs": 10,
//        "output": "logits" | "embedding"}
// CNN:  {"kind": "cnn", "input_shape": [1, 28, 28],
//        "conv": [{"channels": 16, "kernel": 5, "padding": 2}, ...],
//        "hidden": [128], "activation": "relu", "dropout": 0.0, "outputs": 10,
//        "output": "logits"}
// Each convolution (stride 1) is followed by the activation and a 2 × 2 max
// pool; then the features are flattened into the MLP head. Dropout follows
// each hidden activation of the MLP (head). Optional, with their defaults:
// "hidden": [], "activation": "relu", "dropout": 0, "output": "logits",
// "padding": 0. "output" only says what the last layer's vector means to the
// losses ("embedding": a vector to match, not logits); the model is the same.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace distill {

enum class model_kind { mlp, cnn };
enum class activation_kind { relu, gelu };
enum class output_kind { logits, embedding };

struct conv_layer_config {
    int64_t channels = 0;
    int64_t kernel = 0;
    int64_t padding = 0;
    bool operator==(const conv_layer_config &) const = default;
};

struct model_config {
    model_kind kind = model_kind::mlp;
    int64_t inputs = 0;                    // MLP: features per sample
    std::array<int64_t, 3> input_shape{};  // CNN: channels, height, width
    std::vector<conv_layer_config> conv;   // CNN only
    std::vector<int64_t> hidden;
    activation_kind activation = activation_kind::relu;
    double dropout = 0.0;
    int64_t outputs = 0;
    output_kind output = output_kind::logits;
    bool operator==(const model_config &) const = default;
};

// Limits that keep every size and offset well inside int32 for OpenBLAS.
inline constexpr int64_t max_model_parameters = (int64_t{1} << 31) - 1;
inline constexpr int64_t max_layer_width = int64_t{1} << 24;
inline constexpr int64_t max_kernel = 64;

// Checks every field (unknown keys, types, ranges, the spatial size after
// each convolution and pool, the total parameter count) and throws
// distill::error (invalid_argument) naming the field ("<what>.hidden[1]",
// common/json_fields.h's wording), what was expected and what was given.
model_config parse_model_config(const nlohmann::json & json,
                                const std::string & what = "model_config");

// Every field written out, defaults included; parse_model_config of it
// gives back an equal config.
nlohmann::json to_json(const model_config & config);

// The spatial size [channels, height, width] after the convolutions and
// pools of a CNN config (the head's input is their product).
std::array<int64_t, 3> cnn_feature_shape(const model_config & config);

// How many weights and biases the model of a (valid) config has.
int64_t model_parameter_count(const model_config & config);

}  // namespace distill
