// The built-in students (core/students/model.h): parameter names and
// layout, initialisation, backward against finite differences of the fp32
// forward, dropout masks, and bit-identical repeated calls.
#include <doctest/doctest.h>

#include "common/openmp.h"

#include <cmath>
#include <string>
#include <vector>

#include "common/error.h"
#include "students/model.h"
#include "test_student_support.h"

using distill::model;
using distill::parse_model_config;
using nlohmann::json;
using namespace student_test;

namespace {

model make(const std::string & config_json, uint64_t seed = 1) {
    return model(parse_model_config(json::parse(config_json)), seed);
}

struct pass {
    std::vector<float> outputs, gradients;
};

// forward(training) then backward with d_outputs = r.
pass run(model & m, const std::vector<float> & inputs, int64_t batch, const std::vector<float> & r,
         uint64_t dropout_seed) {
    pass p;
    p.outputs.resize(batch * m.output_size());
    m.forward(inputs.data(), batch, p.outputs.data(), true, dropout_seed);
    m.backward(r.data());
    p.gradients.assign(m.gradients().begin(), m.gradients().end());
    return p;
}

// Backward of L = Σ out · r against central differences of the fp32
// forward (step h), over every parameter (the models are small).
void check_gradient(model & m, int64_t batch, float h, double tolerance) {
    const auto inputs = random_values<float>(batch * m.input_size(), 51);
    const auto r = random_values<float>(batch * m.output_size(), 52);
    const uint64_t dropout_seed = 9;
    const pass analytic = run(m, inputs, batch, r, dropout_seed);
    std::vector<float> outputs(r.size());
    std::vector<float> params(m.parameters().begin(), m.parameters().end());
    const std::vector<double> numeric = finite_difference(params, h, [&] {
        std::copy(params.begin(), params.end(), m.parameters().begin());
        m.forward(inputs.data(), batch, outputs.data(), true, dropout_seed);
        return dot(outputs, r);
    });
    CHECK(relative_error(analytic.gradients, numeric) < tolerance);
}

}  // namespace

TEST_CASE("model: the MLP's parameters are named and laid out as its torch module's") {
    const model m = make(R"({"kind": "mlp", "inputs": 784, "hidden": [1200, 1200], "dropout": 0.2,
                             "outputs": 10})");
    CHECK(m.input_size() == 784);
    CHECK(m.output_size() == 10);
    const auto & t = m.parameter_table();
    REQUIRE(t.size() == 6);
    const std::vector<std::string> names = {"layers.0.weight", "layers.0.bias",   "layers.3.weight",
                                            "layers.3.bias",   "layers.6.weight", "layers.6.bias"};
    const std::vector<std::vector<int64_t>> shapes = {{1200, 784}, {1200},     {1200, 1200},
                                                      {1200},      {10, 1200}, {10}};
    int64_t offset = 0;
    for (size_t i = 0; i < t.size(); ++i) {
        CHECK(t[i].name == names[i]);
        CHECK(t[i].shape == shapes[i]);
        CHECK(t[i].offset == offset);
        CHECK(t[i].count == (shapes[i].size() == 1 ? shapes[i][0] : shapes[i][0] * shapes[i][1]));
        offset += t[i].count;
    }
    CHECK(m.parameter_count() == offset);
    CHECK(m.parameter_count() == distill::model_parameter_count(m.config()));
}

TEST_CASE("model: the CNN's parameters are features.N and head.N") {
    const model m = make(R"({"kind": "cnn", "input_shape": [1, 28, 28],
        "conv": [{"channels": 16, "kernel": 5, "padding": 2}, {"channels": 32, "kernel": 5, "padding": 2}],
        "hidden": [128], "outputs": 10})");
    CHECK(m.input_size() == 784);
    const auto & t = m.parameter_table();
    REQUIRE(t.size() == 8);
    const std::vector<std::string> names = {
        "features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias",
        "head.0.weight",     "head.0.bias",     "head.3.weight",     "head.3.bias"};
    const std::vector<std::vector<int64_t>> shapes = {{16, 1, 5, 5}, {16},  {32, 16, 5, 5}, {32},
                                                      {128, 1568},   {128}, {10, 128},      {10}};
    int64_t offset = 0;
    for (size_t i = 0; i < t.size(); ++i) {
        CHECK(t[i].name == names[i]);
        CHECK(t[i].shape == shapes[i]);
        CHECK(t[i].offset == offset);
        offset += t[i].count;
    }
    CHECK(m.parameter_count() == offset);
    CHECK(model(m.config(), 1).gradients().size() == size_t(offset));
}

TEST_CASE("model: initialisation is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fixed by the seed") {
    const std::string config = R"({"kind": "cnn", "input_shape": [3, 8, 8],
        "conv": [{"channels": 40, "kernel": 3, "padding": 1}], "hidden": [300], "outputs": 10})";
    const model m = make(config, 7);
    const std::vector<double> fan_in = {27, 27, 640, 640, 300, 300};
    const auto & t = m.parameter_table();
    for (size_t i = 0; i < t.size(); ++i) {
        const double bound = 1.0 / std::sqrt(fan_in[i]);
        double largest = 0, sum = 0;
        for (int64_t j = 0; j < t[i].count; ++j) {
            const double w = m.parameters()[t[i].offset + j];
            largest = std::max(largest, std::fabs(w));
            sum += w;
        }
        INFO(t[i].name);
        CHECK(largest <= bound);
        if (t[i].count >= 1000) {
            CHECK(largest > 0.99 * bound);
            CHECK(std::fabs(sum / double(t[i].count)) < 0.05 * bound);
        }
    }
    const model same = make(config, 7), other = make(config, 8);
    CHECK(std::equal(m.parameters().begin(), m.parameters().end(), same.parameters().begin()));
    CHECK(!std::equal(m.parameters().begin(), m.parameters().end(), other.parameters().begin()));
    // The first draw of splitmix64(7), worked out by hand in Python:
    // (mix64(7 + 0x9e3779b97f4a7c15) >> 11) · 2⁻⁵³ = u, (2u − 1)/√27 in fp32.
    CHECK(m.parameters()[0] == -0.04240455f);
}

TEST_CASE("model: MLP backward matches finite differences (gelu, relu; with dropout)") {
    SUBCASE("gelu") {
        model m = make(R"({"kind": "mlp", "inputs": 12, "hidden": [9, 7], "activation": "gelu",
                           "dropout": 0.3, "outputs": 5})");
        check_gradient(m, 4, 1e-2f, 3e-3);
    }
    SUBCASE("relu") {
        model m = make(R"({"kind": "mlp", "inputs": 12, "hidden": [9, 7], "dropout": 0.3,
                           "outputs": 5})");
        check_gradient(m, 4, 1e-3f, 3e-3);
    }
}

TEST_CASE("model: CNN backward matches finite differences") {
    SUBCASE("gelu, padding") {
        model m = make(R"({"kind": "cnn", "input_shape": [2, 9, 8],
            "conv": [{"channels": 3, "kernel": 3, "padding": 1}, {"channels": 4, "kernel": 2}],
            "hidden": [6], "activation": "gelu", "dropout": 0.25, "outputs": 5})");
        // GELU squeezes negative values towards 0, so a pool window's
        // values lie close together and a larger step swaps their argmax.
        check_gradient(m, 3, 3e-4f, 3e-3);
    }
    SUBCASE("relu, no hidden layer") {
        model m = make(R"({"kind": "cnn", "input_shape": [1, 10, 10],
            "conv": [{"channels": 4, "kernel": 3, "padding": 1}], "outputs": 3})");
        check_gradient(m, 2, 1e-3f, 3e-3);
    }
}

TEST_CASE("model: dropout masks follow the seed; inference drops nothing") {
    const std::string config = R"({"kind": "mlp", "inputs": 20, "hidden": [64, 64],
                                   "dropout": 0.5, "outputs": 8})";
    model m = make(config, 3);
    const int64_t batch = 16;
    const auto inputs = random_values<float>(batch * 20, 61);
    std::vector<float> a(batch * 8), b(batch * 8), c(batch * 8), inference(batch * 8);
    m.forward(inputs.data(), batch, a.data(), true, 100);
    m.forward(inputs.data(), batch, b.data(), true, 100);
    m.forward(inputs.data(), batch, c.data(), true, 101);
    CHECK(a == b);
    CHECK(a != c);
    // Same parameters without dropout (the table, hence the init, is the same).
    model plain = make(R"({"kind": "mlp", "inputs": 20, "hidden": [64, 64], "outputs": 8})", 3);
    std::vector<float> expected(batch * 8);
    plain.forward(inputs.data(), batch, expected.data(), false, 0);
    m.forward(inputs.data(), batch, inference.data(), false, 100);
    // Equal to rounding, not bit for bit: a model without dropout may take
    // the fused path (other GEMM blocks; OpenBLAS sums by block shape).
    for (size_t i = 0; i < expected.size(); ++i)
        CHECK(inference[i] == doctest::Approx(expected[i]).epsilon(1e-5));
    CHECK(a != inference);
}

TEST_CASE("model: repeated calls are bit-identical; backward overwrites; batch may change") {
    model m = make(R"({"kind": "cnn", "input_shape": [1, 12, 12],
        "conv": [{"channels": 6, "kernel": 5, "padding": 2}, {"channels": 8, "kernel": 3, "padding": 1}],
        "hidden": [32], "dropout": 0.2, "outputs": 10})");
    const int64_t batch = 8;
    const auto inputs = random_values<float>(batch * 144, 71);
    const auto r = random_values<float>(batch * 10, 72);
    const pass first = run(m, inputs, batch, r, 5);
    const pass second = run(m, inputs, batch, r, 5);
    CHECK(first.outputs == second.outputs);
    CHECK(first.gradients == second.gradients);  // overwritten, not accumulated

    const auto big = random_values<float>(3 * batch * 144, 73);
    const auto big_r = random_values<float>(3 * batch * 10, 74);
    run(m, big, 3 * batch, big_r, 6);  // grows the buffers
    const pass third = run(m, inputs, batch, r, 5);
    CHECK(third.outputs == first.outputs);
    CHECK(third.gradients == first.gradients);

    SUBCASE("the OpenMP thread count does not change a bit") {
        // 128 images: big enough for the layers to use their threads.
        const auto many = random_values<float>(128 * 144, 75);
        const auto many_r = random_values<float>(128 * 10, 76);
        const int saved = omp_get_max_threads();
        omp_set_num_threads(1);
        const pass one = run(m, many, 128, many_r, 6);
        omp_set_num_threads(3);
        const pass three = run(m, many, 128, many_r, 6);
        omp_set_num_threads(saved);
        CHECK(one.outputs == three.outputs);
        CHECK(one.gradients == three.gradients);
    }
}

TEST_CASE("model: the fused MLP path is bit-identical for any thread count, and right") {
    // No dropout: the feature-split path (feature_split_mlp.h) on a thread
    // team; big enough (≥ 1M multiply-adds) for the team to be used.
    for (const char * activation : {"relu", "gelu"}) {
        INFO(activation);
        model m = make(std::string(R"({"kind": "mlp", "inputs": 784, "hidden": [128, 64],
                                       "activation": ")") + activation + R"(", "outputs": 10})");
        const int64_t batch = 128;
        const auto inputs = random_values<float>(batch * 784, 81);
        const auto r = random_values<float>(batch * 10, 82);
        const int saved = omp_get_max_threads();
        omp_set_num_threads(1);
        const pass one = run(m, inputs, batch, r, 0);
        omp_set_num_threads(2);
        const pass two = run(m, inputs, batch, r, 0);
        omp_set_num_threads(3);
        const pass three = run(m, inputs, batch, r, 0);
        omp_set_num_threads(saved);
        CHECK(one.outputs == two.outputs);
        CHECK(one.outputs == three.outputs);
        CHECK(one.gradients == two.gradients);
        CHECK(one.gradients == three.gradients);
        // The same model with dropout 0 < p takes the layer-by-layer path; in
        // inference both compute the same function.
        model layered = make(std::string(R"({"kind": "mlp", "inputs": 784, "hidden": [128, 64],
                                             "activation": ")") + activation +
                             R"(", "dropout": 0.5, "outputs": 10})");
        std::vector<float> expected(size_t(batch * 10)), got(size_t(batch * 10));
        layered.forward(inputs.data(), batch, expected.data(), false, 0);
        m.forward(inputs.data(), batch, got.data(), false, 0);
        for (size_t i = 0; i < got.size(); ++i)
            CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-5));
    }
}

TEST_CASE("model: a NaN input reaches the outputs through relu, on the fused and layered paths") {
    // PyTorch propagates it; a relu that zeroes it would hide a bad input.
    for (const char * dropout : {"0", "0.5"}) {  // 0: feature-split path; 0.5: layer by layer
        INFO("dropout ", dropout);
        model m = make(std::string(R"({"kind": "mlp", "inputs": 784, "hidden": [128, 64],
                                       "activation": "relu", "dropout": )") + dropout +
                       R"(, "outputs": 10})");
        const int64_t batch = 128;
        auto inputs = random_values<float>(batch * 784, 83);
        inputs[5 * 784 + 17] = std::nanf("");
        std::vector<float> outputs(size_t(batch * 10));
        m.forward(inputs.data(), batch, outputs.data(), false, 0);
        for (int64_t c = 0; c < 10; ++c) {
            CHECK(std::isnan(outputs[size_t(5 * 10 + c)]));
            CHECK(!std::isnan(outputs[size_t(4 * 10 + c)]));
        }
    }
}

TEST_CASE("model: misuse is a clear error") {
    model m = make(R"({"kind": "mlp", "inputs": 4, "hidden": [3], "outputs": 2})");
    std::vector<float> inputs(8), outputs(4), d_outputs(4);
    const std::string no_forward =
        "backward: expected a forward(training = true) before it, got none since the model was "
        "made or since the last inference forward";
    CHECK_THROWS_WITH_AS(m.backward(d_outputs.data()), no_forward.c_str(), distill::error);
    m.forward(inputs.data(), 2, outputs.data(), true, 0);
    m.forward(inputs.data(), 2, outputs.data(), false, 0);
    CHECK_THROWS_WITH_AS(m.backward(d_outputs.data()), no_forward.c_str(), distill::error);
    CHECK_THROWS_WITH_AS(m.forward(inputs.data(), -1, outputs.data(), true, 0),
                         "forward: batch: expected >= 0, got -1", distill::error);
    CHECK_THROWS_WITH_AS(m.forward(nullptr, 2, outputs.data(), true, 0),
                         "forward: inputs: expected a pointer, got null", distill::error);
    m.forward(inputs.data(), 2, outputs.data(), true, 0);
    CHECK_THROWS_WITH_AS(m.backward(nullptr), "backward: d_outputs: expected a pointer, got null",
                         distill::error);

    // 4 inputs per sample: 2^31 / 4 samples would overflow the GEMM sizes.
    CHECK_THROWS_WITH_AS(m.forward(inputs.data(), int64_t(1) << 29, outputs.data(), false, 0),
                         "forward: batch: expected at most 536870911 samples for this model (the "
                         "widest layer takes 4 values per sample, 2^31 - 1 in all), got 536870912",
                         distill::error);

    // An empty batch is no work and zero gradients.
    m.forward(nullptr, 0, nullptr, true, 0);
    m.backward(nullptr);
    for (float g : m.gradients()) CHECK(g == 0.0f);

    distill::model_config bad = m.config();
    bad.hidden = {0};
    CHECK_THROWS_WITH_AS(model(bad, 1),
                         "model_config.hidden[0]: expected an integer in [1, 16777216], got 0",
                         distill::error);
}
