// The transformer student (core/lm) against transformers' LlamaForCausalLM,
// as llm.c checks itself against PyTorch: tests/lm/make_llama_reference.py
// writes, for several shapes (odd sizes, GQA, MQA, tied and untied, more
// than one key tile), random weights, a token batch and what transformers
// computes from them; here the same weights must give the same logits
// (relative error <= 1e-4), every parameter gradient of the mean
// cross-entropy (<= 1e-3), and the same losses over 10 steps of clipping +
// AdamW at a warmup-cosine rate (<= 1e-4).
//
// CTest's lm_llama_reference runs the script (fixture) and then this test
// with DISTILL_LLAMA_REFERENCE_DIR set; without it the test says so and
// checks nothing.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lm/transformer.h"
#include "train/lr_schedule.h"
#include "train/optimizer.h"
#include "train/optimizer_config.h"
#include "train/safetensors.h"

using namespace distill;

namespace {

// max |a − b| / max |b| over the tensor.
double relative_error(std::span<const float> a, const std::vector<float> & b) {
    double worst = 0, scale = 0;
    for (size_t i = 0; i < b.size(); ++i) {
        worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
        scale = std::max(scale, std::fabs(double(b[i])));
    }
    return scale > 0 ? worst / scale : worst;
}

std::vector<int32_t> int32_values(const safetensors_file & file, const char * name) {
    const safetensors_tensor & t = file.at(name);
    REQUIRE(t.dtype == safetensors_dtype::I32);
    std::vector<int32_t> values(t.data.size() / sizeof(int32_t));
    std::memcpy(values.data(), t.data.data(), t.data.size());
    return values;
}

void check_case(const std::filesystem::path & path) {
    const safetensors_file file = safetensors_file::read(path);
    const auto meta = [&](const char * key) { return nlohmann::json::parse(file.metadata().at(key)); };
    const lm::transformer_config config = lm::parse_transformer_config(meta("config"));
    lm::transformer model(config, 7);
    for (const parameter_info & p : model.parameter_table()) {
        const safetensors_tensor & t = file.at(p.name);
        REQUIRE(t.shape == p.shape);
        const std::vector<float> values = safetensors_to_float32(t, file.source());
        std::copy(values.begin(), values.end(), model.parameters().begin() + p.offset);
    }
    const std::vector<int32_t> tokens = int32_values(file, "tokens");
    const std::vector<int32_t> targets = int32_values(file, "targets");
    const std::vector<int64_t> & shape = file.at("tokens").shape;
    const int64_t B = shape[0], T = shape[1];

    const std::vector<float> logits = safetensors_to_float32(file.at("logits"), file.source());
    const std::span<const float> ours = model.forward(tokens.data(), B, T);
    REQUIRE(ours.size() == logits.size());
    const double logits_error = relative_error(ours, logits);
    CHECK(logits_error <= 1e-4);

    const std::vector<float> losses = safetensors_to_float32(file.at("losses"), file.source());
    double worst_gradient = 0;
    std::string worst_name;
    model.train_step(tokens.data(), targets.data(), B, T);
    for (const parameter_info & p : model.parameter_table()) {
        const std::vector<float> expected =
            safetensors_to_float32(file.at("grad." + p.name), file.source());
        const double error =
            relative_error(model.gradients().subspan(size_t(p.offset), size_t(p.count)), expected);
        CAPTURE(p.name);
        CHECK(error <= 1e-3);
        if (error >= worst_gradient) {
            worst_gradient = error;
            worst_name = p.name;
        }
    }

    const optimizer_config adamw = optimizer_config_from_json(meta("optimizer"));
    const lr_schedule_config schedule = lr_schedule_config_from_json(meta("schedule"));
    const double max_grad_norm = std::stod(file.metadata().at("max_grad_norm"));
    const int64_t steps = std::stoll(file.metadata().at("steps"));
    REQUIRE(int64_t(losses.size()) == steps);
    optimizer opt(adamw, model.parameter_count());
    double worst_loss = 0;
    for (int64_t step = 0; step < steps; ++step) {
        const double loss = model.train_step(tokens.data(), targets.data(), B, T);
        const double error = std::fabs(loss - losses[size_t(step)]) / std::fabs(losses[size_t(step)]);
        CAPTURE(step);
        CHECK(error <= 1e-4);
        worst_loss = std::max(worst_loss, error);
        clip_grad_norm(model.gradients(), max_grad_norm);
        opt.step(model.parameters(), model.gradients(),
                 learning_rate_at(schedule, base_learning_rate(adamw), step));
    }
    MESSAGE(path.stem().string() << ": logits " << logits_error << ", worst gradient "
                                 << worst_gradient << " (" << worst_name << "), worst loss "
                                 << worst_loss << " (relative errors)");
}

}  // namespace

TEST_CASE("lm transformer: logits, gradients and 10 AdamW steps match transformers' Llama") {
    const char * dir = std::getenv("DISTILL_LLAMA_REFERENCE_DIR");
    if (dir == nullptr) {
        MESSAGE("skipped: DISTILL_LLAMA_REFERENCE_DIR is not set (ctest lm_llama_reference "
                "makes the reference with tests/lm/make_llama_reference.py and sets it)");
        return;
    }
    if (std::ifstream skipped(std::filesystem::path(dir) / "SKIPPED"); skipped.good()) {
        std::string reason;
        std::getline(skipped, reason);
        MESSAGE("reference skipped: " << reason);  // CTest's SKIP_REGULAR_EXPRESSION
        return;
    }
    std::ifstream cases(std::filesystem::path(dir) / "cases.txt");
    REQUIRE_MESSAGE(cases.good(), "no cases.txt in " << dir);
    int count = 0;
    for (std::string name; std::getline(cases, name);) {
        if (name.empty()) continue;
        CAPTURE(name);
        check_case(std::filesystem::path(dir) / (name + ".safetensors"));
        ++count;
    }
    CHECK(count >= 4);
}
