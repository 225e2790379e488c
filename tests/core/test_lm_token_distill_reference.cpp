// Token-level distillation (core/train/token_distillation.h) against
// PyTorch: tests/lm/make_token_distill_reference.py builds transformers'
// LlamaForCausalLM with random weights and computes, from the loss's
// definitions written out there (dense and top-k teachers, every
// divergence, temperature and T², RENORMALIZE and BUCKET with empty slots,
// the hard term, masked prompt positions), the loss, its parts and every
// parameter gradient; here the same weights and targets must give the same
// loss and parts (relative error <= 1e-5) and every gradient (<= 1e-4 of
// the tensor's largest entry; ~1e-6 is what fp32 gives).
//
// CTest's lm_token_distill_reference runs the script (fixture) and then
// this test with DISTILL_TOKEN_DISTILL_REFERENCE_DIR set; without it the
// test says so and checks nothing.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lm/transformer.h"
#include "train/safetensors.h"
#include "train/token_distillation.h"

using namespace distill;

namespace {

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

double scalar(const safetensors_file & file, const char * name) {
    return double(safetensors_to_float32(file.at(name), file.source()).at(0));
}

kd_loss_options options_from(const nlohmann::json & j) {
    kd_loss_options o;
    o.divergence = j.at("divergence").get<int32_t>();
    o.beta = j.at("beta").get<float>();
    o.temperature = j.at("temperature").get<float>();
    o.scale_by_t2 = j.at("scale_by_t2").get<bool>();
    o.soft_weight = j.at("soft_weight").get<float>();
    o.hard_weight = j.at("hard_weight").get<float>();
    o.tail = j.at("tail").get<int32_t>();
    return o;
}

void check_case(const std::filesystem::path & path) {
    const safetensors_file file = safetensors_file::read(path);
    const auto meta = [&](const char * key) { return nlohmann::json::parse(file.metadata().at(key)); };
    lm::transformer model(lm::parse_transformer_config(meta("config")), 7);
    for (const parameter_info & p : model.parameter_table()) {
        const safetensors_tensor & t = file.at(p.name);
        REQUIRE(t.shape == p.shape);
        const std::vector<float> values = safetensors_to_float32(t, file.source());
        std::copy(values.begin(), values.end(), model.parameters().begin() + p.offset);
    }
    const kd_loss_options options = options_from(meta("loss"));
    const std::vector<int32_t> tokens = int32_values(file, "tokens");
    const std::vector<int32_t> labels = int32_values(file, "labels");
    const int64_t B = file.at("tokens").shape[0], T = file.at("tokens").shape[1];

    token_teacher_targets teacher;
    std::vector<float> dense, logprobs;
    std::vector<int32_t> ids;
    if (file.find("teacher_logits") != nullptr) {
        dense = safetensors_to_float32(file.at("teacher_logits"), file.source());
        teacher.logits = dense.data();
    } else {
        ids = int32_values(file, "topk_ids");
        logprobs = safetensors_to_float32(file.at("topk_logprobs"), file.source());
        teacher.topk_ids = ids.data();
        teacher.topk_logprobs = logprobs.data();
        teacher.topk = file.at("topk_ids").shape[2];
    }
    std::vector<float> d_logits;
    const token_loss_parts parts = distillation_gradients(model, tokens.data(), labels.data(), B,
                                                          T, teacher, options, d_logits, 0);
    const double loss = scalar(file, "loss"), soft = scalar(file, "soft"), hard = scalar(file, "hard");
    const double loss_error = std::fabs(parts.loss - loss) / std::fabs(loss);
    CHECK(loss_error <= 1e-5);
    CHECK(std::fabs(parts.soft - soft) <= 1e-5 * std::fabs(soft));
    CHECK(std::fabs(parts.hard - hard) <= 1e-5 * std::fabs(hard));
    double worst = 0;
    std::string worst_name;
    for (const parameter_info & p : model.parameter_table()) {
        const std::vector<float> expected =
            safetensors_to_float32(file.at("grad." + p.name), file.source());
        const double error =
            relative_error(model.gradients().subspan(size_t(p.offset), size_t(p.count)), expected);
        CAPTURE(p.name);
        CHECK(error <= 1e-4);
        if (error >= worst) {
            worst = error;
            worst_name = p.name;
        }
    }
    MESSAGE(path.stem().string() << ": loss " << parts.loss << " (relative error " << loss_error
                                 << "), worst gradient "
                                 << worst << " (" << worst_name << ", relative)");
}

}  // namespace

TEST_CASE("lm token distillation: loss, parts and every gradient match PyTorch") {
    const char * dir = std::getenv("DISTILL_TOKEN_DISTILL_REFERENCE_DIR");
    if (dir == nullptr) {
        MESSAGE("skipped: DISTILL_TOKEN_DISTILL_REFERENCE_DIR is not set (ctest "
                "lm_token_distill_reference makes the reference with "
                "tests/lm/make_token_distill_reference.py and sets it)");
        return;
    }
    if (std::ifstream skipped(std::filesystem::path(dir) / "SKIPPED"); skipped.good()) {
        std::string reason;
        std::getline(skipped, reason);
        MESSAGE("reference skipped: " << reason);
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
    CHECK(count >= 8);
}
