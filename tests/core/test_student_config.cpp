// Student model configs (core/students/model_config.h): defaults, the JSON
// round trip, and an actionable message for every kind of bad field.
#include <doctest/doctest.h>

#include <string>

#include "common/error.h"
#include "students/model_config.h"

using distill::model_config;
using distill::parse_model_config;
using nlohmann::json;

namespace {

const json mlp_example = json::parse(R"({"kind": "mlp", "inputs": 784, "hidden": [1200, 1200],
    "activation": "relu", "dropout": 0.2, "outputs": 10})");
const json cnn_example = json::parse(R"({"kind": "cnn", "input_shape": [1, 28, 28],
    "conv": [{"channels": 16, "kernel": 5, "padding": 2}, {"channels": 32, "kernel": 5, "padding": 2}],
    "hidden": [128], "activation": "gelu", "dropout": 0.0, "outputs": 10, "output": "embedding"})");

// The message parse_model_config throws for `config`, or "" if it accepts it.
std::string parse_error(const json & config) {
    try {
        parse_model_config(config);
    } catch (const distill::error & e) {
        CHECK(e.code() == distill::status::invalid_argument);
        return e.what();
    }
    return "";
}

json with(json config, const std::string & key, const json & value) {
    config[key] = value;
    return config;
}

}  // namespace

TEST_CASE("model config: the MLP example, with the defaults filled in") {
    const model_config c = parse_model_config(mlp_example);
    CHECK(c.kind == distill::model_kind::mlp);
    CHECK(c.inputs == 784);
    CHECK(c.hidden == std::vector<int64_t>{1200, 1200});
    CHECK(c.activation == distill::activation_kind::relu);
    CHECK(c.dropout == 0.2);
    CHECK(c.outputs == 10);
    CHECK(c.output == distill::output_kind::logits);
    CHECK(distill::model_parameter_count(c) == 784 * 1200 + 1200 + 1200 * 1200 + 1200 + 12010);

    const model_config minimal =
        parse_model_config(json::parse(R"({"kind":"mlp","inputs":3,"outputs":2})"));
    CHECK(minimal.hidden.empty());
    CHECK(minimal.dropout == 0.0);
    CHECK(minimal.activation == distill::activation_kind::relu);
}

TEST_CASE("model config: the CNN example; feature shape and parameter count") {
    const model_config c = parse_model_config(cnn_example);
    CHECK(c.kind == distill::model_kind::cnn);
    CHECK(c.input_shape == std::array<int64_t, 3>{1, 28, 28});
    CHECK(c.inputs == 784);
    REQUIRE(c.conv.size() == 2);
    CHECK(c.conv[1] == distill::conv_layer_config{32, 5, 2});
    CHECK(c.activation == distill::activation_kind::gelu);
    CHECK(c.output == distill::output_kind::embedding);
    CHECK(distill::cnn_feature_shape(c) == std::array<int64_t, 3>{32, 7, 7});
    CHECK(distill::model_parameter_count(c) ==
          (16 * 25 + 16) + (32 * 16 * 25 + 32) + (1568 * 128 + 128) + (128 * 10 + 10));
}

TEST_CASE("model config: to_json round-trips") {
    for (const json & example : {mlp_example, cnn_example}) {
        const model_config c = parse_model_config(example);
        const json written = distill::to_json(c);
        CHECK(parse_model_config(written) == c);
        CHECK(distill::to_json(parse_model_config(written)) == written);
    }
    CHECK(distill::to_json(parse_model_config(mlp_example))["output"] == "logits");
}

TEST_CASE("model config: bad fields are refused with the field, the expectation and the value") {
    CHECK(parse_error(json::array()) == "model_config: expected a JSON object, got []");
    CHECK(parse_error(json::parse(R"({"inputs": 3, "outputs": 2})")) ==
          "model_config.kind is missing (expected \"mlp\" or \"cnn\")");
    CHECK(parse_error(with(mlp_example, "kind", "rnn")) ==
          "model_config.kind: expected \"mlp\" or \"cnn\", got \"rnn\"");
    CHECK(parse_error(with(mlp_example, "hiden", json::array())) ==
          "model_config (kind \"mlp\"): expected only the keys kind, inputs, hidden, "
          "activation, dropout, outputs, output, got unknown key 'hiden'");
    CHECK(parse_error(with(mlp_example, "input_shape", {1, 28, 28}))
              .find("model_config (kind \"mlp\"): expected only the keys") != std::string::npos);
    CHECK(parse_error(with(mlp_example, "input_shape", {1, 28, 28}))
              .find("got unknown key 'input_shape'") != std::string::npos);
    CHECK(
        parse_error(with(cnn_example, "inputs", 784))
            .find("model_config (kind \"cnn\"): expected only the keys kind, input_shape, conv") !=
        std::string::npos);
    CHECK(parse_error(with(cnn_example, "inputs", 784)).find("got unknown key 'inputs'") !=
          std::string::npos);
    json no_inputs = mlp_example;
    no_inputs.erase("inputs");
    CHECK(parse_error(no_inputs) ==
          "model_config.inputs is missing (expected an integer in [1, 16777216])");
    CHECK(parse_error(with(mlp_example, "inputs", 784.0)) ==
          "model_config.inputs: expected an integer in [1, 16777216], got 784.0");
    CHECK(parse_error(with(mlp_example, "inputs", "784")) ==
          "model_config.inputs: expected an integer in [1, 16777216], got \"784\"");
    CHECK(parse_error(with(mlp_example, "hidden", {1200, -3})) ==
          "model_config.hidden[1]: expected an integer in [1, 16777216], got -3");
    CHECK(parse_error(with(mlp_example, "hidden", 1200)) ==
          "model_config.hidden: expected an array of layer widths, got 1200");
    CHECK(parse_error(with(mlp_example, "outputs", 0)) ==
          "model_config.outputs: expected an integer in [1, 16777216], got 0");
    CHECK(parse_error(with(mlp_example, "outputs", uint64_t(1) << 63)) ==
          "model_config.outputs: expected an integer in [1, 16777216], got "
          "9223372036854775808");
    CHECK(parse_error(with(mlp_example, "activation", "tanh")) ==
          "model_config.activation: expected \"relu\" or \"gelu\", got \"tanh\"");
    CHECK(parse_error(with(mlp_example, "output", "probabilities")) ==
          "model_config.output: expected \"logits\" or \"embedding\", got \"probabilities\"");
    CHECK(parse_error(with(mlp_example, "dropout", 1.0)) ==
          "model_config.dropout: expected a number in [0, 1), got 1.0");
    CHECK(parse_error(with(mlp_example, "dropout", -0.1)) ==
          "model_config.dropout: expected a number in [0, 1), got -0.1");
    CHECK(parse_error(with(mlp_example, "hidden", {1000, 16777216})) ==
          "model_config.hidden[1] brings the parameter count to 16794778216, expected at "
          "most 2147483647");
}

TEST_CASE("model config: bad CNN fields are refused") {
    CHECK(parse_error(with(cnn_example, "input_shape", {28, 28})) ==
          "model_config.input_shape: expected [channels, height, width], got [28,28]");
    CHECK(parse_error(with(cnn_example, "input_shape", {1, 0, 28})) ==
          "model_config.input_shape[1]: expected an integer in [1, 16777216], got 0");
    CHECK(parse_error(with(cnn_example, "conv", json::array())) ==
          "model_config.conv: expected a non-empty array of objects, got []");
    CHECK(parse_error(with(cnn_example, "conv", {{{"channels", 8}}})) ==
          "model_config.conv[0].kernel is missing (expected an integer in [1, 64])");
    CHECK(
        parse_error(with(cnn_example, "conv", {{{"channels", 8}, {"kernel", 3}, {"stride", 2}}})) ==
        "model_config.conv[0]: expected only the keys channels, kernel, padding, got unknown "
        "key 'stride'");
    CHECK(parse_error(
              with(cnn_example, "conv", {{{"channels", 8}, {"kernel", 3}, {"padding", 3}}})) ==
          "model_config.conv[0].padding: expected an integer in [0, 2], got 3");
    CHECK(parse_error(with(cnn_example, "conv", {{{"channels", 8}, {"kernel", 65}}})) ==
          "model_config.conv[0].kernel: expected an integer in [1, 64], got 65");
    // 28 → 24 → pool 12 → 8 → pool 4 → 0: the third layer leaves nothing to pool.
    const json three = json::parse(R"([{"channels": 4, "kernel": 5}, {"channels": 4, "kernel": 5},
                                       {"channels": 4, "kernel": 5}])");
    CHECK(parse_error(with(cnn_example, "conv", three)) ==
          "model_config.conv[2]: kernel 5 with padding 0 turns 4x4 pixels into 0x0, expected "
          "at least 2x2 for the 2x2 max pool");
}
