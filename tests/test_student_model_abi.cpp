// distill_model_*: creation, parameter views, inference, files, and every
// error path of the C ABI (messages checked; NULL never crashes).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "student_test_support.h"
#include "temp_dir.h"

TEST_CASE("model create: sizes, PyTorch names, and views of the model's own memory") {
    distill::Model model = distill::Model::create(test::small_mlp, 7);
    CHECK(model.inputs() == 12);
    CHECK(model.outputs() == 4);
    CHECK(model.parameter_count() == 12 * 16 + 16 + 16 * 4 + 4);
    REQUIRE(model.tensor_count() == 4);
    std::string name;
    DLTensor weight = model.parameter(0, &name);
    CHECK(name == "layers.0.weight");
    REQUIRE(weight.ndim == 2);
    CHECK(weight.shape[0] == 16);
    CHECK(weight.shape[1] == 12);
    CHECK(weight.dtype.code == kDLFloat);
    // PyTorch's default initialisation: |w| ≤ 1/√fan_in.
    const auto * w = static_cast<float *>(weight.data);
    for (int i = 0; i < 16 * 12; ++i) CHECK(std::fabs(w[i]) <= 1.0f / std::sqrt(12.0f));
    // Same seed, same weights; another seed, others.
    distill::Model same = distill::Model::create(test::small_mlp, 7);
    distill::Model other = distill::Model::create(test::small_mlp, 8);
    CHECK(test::all_parameters(model) == test::all_parameters(same));
    CHECK(test::all_parameters(model) != test::all_parameters(other));
}

TEST_CASE(
    "model predict: raw, probabilities and log-probabilities agree; writing a view changes it") {
    const distill::Context cpu;
    distill::Model model = distill::Model::create(test::small_mlp, 3);
    test::synthetic_set set = test::make_synthetic_set(5, 12, 4, 1);
    const auto * x = static_cast<const float *>(set.inputs.dl()->data);
    const std::vector<float> logits = model.predict(cpu, x, 5);
    const std::vector<float> p = model.predict(cpu, x, 5, DISTILL_OUTPUT_PROBABILITIES);
    const std::vector<float> lp = model.predict(cpu, x, 5, DISTILL_OUTPUT_LOG_PROBABILITIES);
    for (int r = 0; r < 5; ++r) {
        double total = 0, max_logit = -1e30;
        for (int c = 0; c < 4; ++c) max_logit = std::max(max_logit, double(logits[r * 4 + c]));
        for (int c = 0; c < 4; ++c) total += std::exp(logits[r * 4 + c] - max_logit);
        double sum = 0;
        for (int c = 0; c < 4; ++c) {
            const double expected = std::exp(logits[r * 4 + c] - max_logit) / total;
            CHECK(p[r * 4 + c] == doctest::Approx(expected).epsilon(1e-6));
            CHECK(lp[r * 4 + c] == doctest::Approx(std::log(expected)).epsilon(1e-5));
            sum += p[r * 4 + c];
        }
        CHECK(sum == doctest::Approx(1.0).epsilon(1e-6));
    }
    DLTensor bias = model.parameter(3);
    static_cast<float *>(bias.data)[0] += 10.0f;  // the last layer's first bias
    const std::vector<float> shifted = model.predict(cpu, x, 5);
    CHECK(shifted[0] == doctest::Approx(logits[0] + 10.0f).epsilon(1e-5));
    CHECK(shifted[1] == logits[1]);
}

TEST_CASE("model save and load: the same predictions, bit for bit; a damaged file is refused") {
    const distill::Context cpu;
    distill::Model model = distill::Model::create(test::small_mlp, 11);
    const test::temp_dir scratch("distill-student-model-abi");
    const auto path = scratch.file("model.safetensors");
    model.save(path.string());
    distill::Model loaded = distill::Model::load(path.string());
    CHECK(loaded.config_json() == model.config_json());
    CHECK(test::all_parameters(loaded) == test::all_parameters(model));

    // Truncate the file: refused, with the file named.
    const auto size = std::filesystem::file_size(path);
    std::filesystem::resize_file(path, size - 7);
    distill_model * out = nullptr;
    CHECK(distill_model_load(path.string().c_str(), &out) == DISTILL_STATUS_CORRUPT_FILE);
    CHECK(out == nullptr);
    CHECK(test::last_error().find(path.filename().string()) != std::string::npos);
}

TEST_CASE("model errors: messages name the argument, the expected and the actual value") {
    distill_model * model = nullptr;
    CHECK(distill_model_create(nullptr, 0, &model) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("config_json") != std::string::npos);
    CHECK(distill_model_create("{", 0, &model) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("config_json") != std::string::npos);
    CHECK(distill_model_create(R"({"kind": "transformer", "inputs": 4, "outputs": 2})", 0,
                               &model) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("transformer") != std::string::npos);
    CHECK(distill_model_create(R"({"kind": "mlp", "inputs": 0, "outputs": 2})", 0, &model) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("inputs") != std::string::npos);
    CHECK(model == nullptr);

    // NULL handles: errors, never crashes.
    distill_model_free(nullptr);
    int64_t inputs = 0;
    CHECK(distill_model_sizes(nullptr, &inputs, nullptr, nullptr, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("model") != std::string::npos);
    DLTensor view{};
    CHECK(distill_model_parameter(nullptr, 0, nullptr, &view) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_model_save(nullptr, "x") == DISTILL_STATUS_INVALID_ARGUMENT);
    const char * json = nullptr;
    CHECK(distill_model_config_json(nullptr, &json) == DISTILL_STATUS_INVALID_ARGUMENT);

    distill::Model m = distill::Model::create(test::small_mlp, 0);
    CHECK(distill_model_parameter(m.get(), 4, nullptr, &view) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("index: expected 0 ≤ index < 4") != std::string::npos);

    const distill::Context cpu;
    test::host_tensor x(test::storage::f32, {3, 11});  // 11 features, the model has 12
    test::host_tensor y(test::storage::f32, {3, 4});
    CHECK(distill_model_predict(cpu.get(), m.get(), x.dl(), DISTILL_OUTPUT_RAW, y.dl()) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error() ==
          "inputs: expected shape [rows, 12] (the model's features), got [3, 11]");
    test::host_tensor x64(test::storage::i64, {3, 12});
    CHECK(distill_model_predict(cpu.get(), m.get(), x64.dl(), DISTILL_OUTPUT_RAW, y.dl()) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("float32") != std::string::npos);
    test::host_tensor good(test::storage::f32, {3, 12});
    test::host_tensor wrong_rows(test::storage::f32, {2, 4});
    CHECK(distill_model_predict(cpu.get(), m.get(), good.dl(), DISTILL_OUTPUT_RAW,
                                wrong_rows.dl()) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("out: expected shape [3, 4]") != std::string::npos);
    CHECK(distill_model_predict(cpu.get(), m.get(), good.dl(), 7, y.dl()) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_model_predict(nullptr, m.get(), good.dl(), 0, y.dl()) ==
          DISTILL_STATUS_INVALID_ARGUMENT);

    CHECK(distill_model_load("/nonexistent/model.safetensors", &model) ==
          DISTILL_STATUS_NOT_FOUND);
    CHECK(test::last_error().find("/nonexistent/model.safetensors") != std::string::npos);
}

TEST_CASE("model teacher: answers are the model's class distribution, best first") {
    const distill::Context cpu;
    distill::Model model = distill::Model::create(test::small_mlp, 5);
    distill::Teacher teacher = distill::Teacher::model(cpu, model, "unit", 3);
    test::synthetic_set set = test::make_synthetic_set(1, 12, 4, 9);
    const auto * x = static_cast<const float *>(set.inputs.dl()->data);
    const std::vector<float> lp = model.predict(cpu, x, 1, DISTILL_OUTPUT_LOG_PROBABILITIES);
    // The request a dataset sends for this example (float32: not bytes/255).
    std::string data(reinterpret_cast<const char *>(x), 12 * sizeof(float));
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string b64;
    for (size_t i = 0; i < data.size(); i += 3) {
        uint32_t v = uint32_t(uint8_t(data[i])) << 16;
        if (i + 1 < data.size()) v |= uint32_t(uint8_t(data[i + 1])) << 8;
        if (i + 2 < data.size()) v |= uint32_t(uint8_t(data[i + 2]));
        b64 += alphabet[v >> 18];
        b64 += alphabet[(v >> 12) & 63];
        b64 += i + 1 < data.size() ? alphabet[(v >> 6) & 63] : '=';
        b64 += i + 2 < data.size() ? alphabet[v & 63] : '=';
    }
    const std::string request =
        R"({"input": {"dtype": "float32", "shape": [12], "data": ")" + b64 + R"("}})";
    distill::TeacherRecord record = teacher.query(request);
    CHECK(!record.failed());
    REQUIRE(record.position_count() == 1);
    std::vector<int32_t> ids;
    std::vector<float> logprobs;
    record.topk(0, ids, logprobs);
    REQUIRE(ids.size() == 3);
    // Every teacher's top-k carries the store's fp16 precision (a fresh
    // answer equals its stored copy): relative rounding error <= 2^-11.
    for (size_t j = 0; j < 3; ++j) {
        CHECK(logprobs[j] == doctest::Approx(lp[size_t(ids[j])]).epsilon(4.9e-4));
        if (j > 0) CHECK(logprobs[j] <= logprobs[j - 1]);
    }
    // The teacher answers with its own copy: training the model further
    // changes neither its answers nor its identity.
    DLTensor bias = model.parameter(3);
    static_cast<float *>(bias.data)[0] += 5.0f;
    distill::TeacherRecord again = teacher.query(request);
    std::vector<int32_t> ids_again;
    std::vector<float> logprobs_again;
    again.topk(0, ids_again, logprobs_again);
    CHECK(ids_again == ids);
    CHECK(logprobs_again == logprobs);
    CHECK(again.key() == record.key());
    // A malformed request fails alone, as a record with the reason.
    distill::TeacherRecord failed =
        teacher.query(R"({"input": {"dtype": "float32", "shape": [11], "data": ""}})");
    CHECK(failed.integer(DISTILL_RECORD_ERROR_STATUS) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(failed.string(DISTILL_RECORD_ERROR_MESSAGE).find("input.shape: expected [12]") !=
          std::string::npos);
}

TEST_CASE("model predict: a NaN weight or input is refused, as evaluate refuses it") {
    // One rule for every front end: NaN in is an error, never class 0.
    const distill::Context cpu;
    distill::Model m = distill::Model::create(test::small_mlp, 5);
    test::synthetic_set set = test::make_synthetic_set(3, 12, 4, 2);
    test::host_tensor y(test::storage::f32, {3, 4});
    auto * out = static_cast<float *>(y.dl()->data);
    for (int i = 0; i < 12; ++i) out[i] = 7.0f;

    auto * x = static_cast<float *>(set.inputs.dl()->data);
    x[1 * 12 + 5] = std::nanf("");  // a NaN in input row 1, before the relu
    CHECK(distill_model_predict(cpu.get(), m.get(), set.inputs.dl(), DISTILL_OUTPUT_RAW, y.dl()) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("outputs: expected finite values, got nan at row 1") !=
          std::string::npos);
    CHECK(test::last_error().find("input row 1 holds nan at feature 5") != std::string::npos);
    for (int i = 0; i < 12; ++i) CHECK(out[i] == 7.0f);  // untouched
    x[1 * 12 + 5] = 0.5f;

    static_cast<float *>(m.parameter(0).data)[3] = std::nanf("");
    for (const int32_t output : {DISTILL_OUTPUT_RAW, DISTILL_OUTPUT_PROBABILITIES}) {
        CHECK(distill_model_predict(cpu.get(), m.get(), set.inputs.dl(), output, y.dl()) ==
              DISTILL_STATUS_INVALID_ARGUMENT);
        CHECK(test::last_error().find("the model's weight 'layers.0.weight' holds nan at "
                                      "element 3") != std::string::npos);
    }
    for (int i = 0; i < 12; ++i) CHECK(out[i] == 7.0f);
    // evaluate, even with no labels to score, refuses with the same message.
    const distill::Dataset inputs_only = distill::Dataset::create(*set.inputs.dl(), nullptr);
    distill_eval_metrics metrics{};
    metrics.struct_size = sizeof metrics;
    CHECK(distill_model_evaluate(cpu.get(), m.get(), inputs_only.get(), &metrics) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(test::last_error().find("the model's weight 'layers.0.weight' holds nan") !=
          std::string::npos);
}
