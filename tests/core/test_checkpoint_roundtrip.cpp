// Checkpoints saved and loaded bit-exactly; tampered, missing and partial
// checkpoints refused; bare model files from PyTorch loaded.
#include <doctest/doctest.h>

#include "common/error.h"
#include "test_train_support.h"
#include "train/checkpoint.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace {

distill::checkpoint_contents sample_checkpoint() {
    distill::checkpoint_contents c;
    c.model_config = {{"kind", "mlp"}, {"hidden", {64, 32}}, {"classes", 10}};
    // Values whose bits matter: negative zero, a subnormal, infinity, NaN.
    c.model_tensors = {
        {"fc1.weight", {2, 3}, {1.0f / 3.0f, -0.0f, 1e-45f, 3e38f, -7.5f, 0.1f}},
        {"fc1.bias", {3}, {std::numeric_limits<float>::infinity(), std::nanf(""), 2.0f}},
        {"empty", {0}, {}},
    };
    c.optimizer = {{"optimizer", {{"kind", "adamw"}, {"lr", 1e-3}}},
                   {"schedule", {{"kind", "constant"}}},
                   {"step", 1234}};
    c.optimizer_tensors = {{"exp_avg", {9}, std::vector<float>(9, 1e-7f)},
                           {"exp_avg_sq", {9}, std::vector<float>(9, 2.5e-9f)}};
    c.trainer_state = {{"epoch", 3},
                       {"step", 1234},
                       {"rng", "18446744073709551615 42"},
                       {"data_order", {5, 1, 4}}};
    return c;
}

bool same_bits(const std::vector<float> & a, const std::vector<float> & b) {
    return a.size() == b.size() &&
           (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
}

void check_equal(const std::vector<distill::checkpoint_tensor> & saved,
                 const std::vector<distill::checkpoint_tensor> & loaded) {
    REQUIRE(saved.size() == loaded.size());
    for (const auto & tensor : saved) {
        bool found = false;
        for (const auto & other : loaded) {
            if (other.name != tensor.name) continue;
            found = true;
            CHECK(other.shape == tensor.shape);
            CHECK(same_bits(other.values, tensor.values));
        }
        CHECK_MESSAGE(found, tensor.name);
    }
}

std::string load_refusal(const std::filesystem::path & dir) {
    try {
        distill::load_checkpoint(dir);
    } catch (const distill::error & e) {
        return e.what();
    }
    return "accepted";
}

}  // namespace

TEST_CASE("checkpoint round trip is bit-exact") {
    distill::test::scratch_dir scratch;
    const auto dir = scratch.path() / "run" / "step-1234";  // parents created
    const distill::checkpoint_contents saved = sample_checkpoint();
    distill::save_checkpoint(dir, saved);
    for (const char * name :
         {"model.safetensors", "optimizer.safetensors", "trainer_state.json", "manifest.json"})
        CHECK(std::filesystem::exists(dir / name));

    const distill::checkpoint_contents loaded = distill::load_checkpoint(dir);
    CHECK(loaded.model_config == saved.model_config);
    CHECK(loaded.optimizer == saved.optimizer);
    CHECK(loaded.trainer_state == saved.trainer_state);
    check_equal(saved.model_tensors, loaded.model_tensors);
    check_equal(saved.optimizer_tensors, loaded.optimizer_tensors);

    // Saving again over it (a later step) replaces it whole.
    distill::checkpoint_contents later = saved;
    later.trainer_state["step"] = 2000;
    later.model_tensors[0].values[0] = 42.0f;
    distill::save_checkpoint(dir, later);
    const distill::checkpoint_contents reloaded = distill::load_checkpoint(dir);
    CHECK(reloaded.trainer_state["step"] == 2000);
    check_equal(later.model_tensors, reloaded.model_tensors);

    // The model file alone is a plain safetensors file with the config.
    const distill::model_weights weights =
        distill::load_model_safetensors(dir / "model.safetensors");
    CHECK(weights.config == saved.model_config);
    check_equal(later.model_tensors, weights.tensors);
}

TEST_CASE("checkpoint saved from views of a parameter buffer") {
    distill::test::scratch_dir scratch;
    const std::vector<float> parameters = {1, 2, 3, 4, 5, 6, 7, 8};
    distill::checkpoint_views views;
    views.model_config = {{"kind", "linear"}};
    views.model_tensors = {{"weight", {2, 3}, std::span(parameters).first(6)},
                           {"bias", {2}, std::span(parameters).subspan(6)}};
    views.optimizer = {{"step", 0}};
    views.trainer_state = nlohmann::json::object();
    distill::save_checkpoint(scratch.path(), views);
    const auto loaded = distill::load_checkpoint(scratch.path());
    REQUIRE(loaded.model_tensors.size() == 2);
    CHECK(loaded.optimizer_tensors.empty());
    check_equal({{"weight", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"bias", {2}, {7, 8}}},
                loaded.model_tensors);

    views.model_tensors[1].shape = {3};
    CHECK_THROWS_WITH(distill::save_checkpoint(scratch.path(), views),
                      "model tensor 'bias': expected 3 values for its shape, got 2");
    // The refused save left the earlier checkpoint whole.
    CHECK(load_refusal(scratch.path()) == "accepted");
}

TEST_CASE("a checkpoint keeps the best epoch's weights when it has them") {
    distill::test::scratch_dir scratch;
    const auto dir = scratch.path();
    distill::checkpoint_contents saved = sample_checkpoint();
    saved.best_model_tensors = saved.model_tensors;
    saved.best_model_tensors[0].values[1] = 9.5f;
    distill::save_checkpoint(dir, saved);
    CHECK(std::filesystem::exists(dir / "best_model.safetensors"));
    const distill::checkpoint_contents loaded = distill::load_checkpoint(dir);
    check_equal(saved.best_model_tensors, loaded.best_model_tensors);
    check_equal(saved.model_tensors, loaded.model_tensors);
    // It is a plain weights file too: PyTorch can load the best model.
    check_equal(saved.best_model_tensors,
                distill::load_model_safetensors(dir / "best_model.safetensors").tensors);

    SUBCASE("a flipped byte in it is refused like any other file") {
        std::string bytes = distill::test::file_bytes(dir / "best_model.safetensors");
        bytes[bytes.size() - 2] ^= 0x01;
        distill::test::write_bytes(dir / "best_model.safetensors", bytes);
        CHECK(load_refusal(dir).find("best_model.safetensors: expected sha256") !=
              std::string::npos);
    }
    SUBCASE("a later save without best weights removes the earlier ones") {
        distill::save_checkpoint(dir, sample_checkpoint());
        CHECK_FALSE(std::filesystem::exists(dir / "best_model.safetensors"));
        CHECK(distill::load_checkpoint(dir).best_model_tensors.empty());
    }
    SUBCASE("a manifest that names it when it is gone") {
        std::filesystem::remove(dir / "best_model.safetensors");
        CHECK(load_refusal(dir) == "checkpoint '" + dir.string() +
                                       "': best_model.safetensors: expected the file listed in "
                                       "manifest.json, found none");
    }
}

TEST_CASE("tampered, missing and unfinished checkpoints are refused") {
    distill::test::scratch_dir scratch;
    const auto dir = scratch.path();
    distill::save_checkpoint(dir, sample_checkpoint());

    SUBCASE("a flipped byte in the weights") {
        std::string bytes = distill::test::file_bytes(dir / "model.safetensors");
        bytes[bytes.size() - 3] ^= 0x01;
        distill::test::write_bytes(dir / "model.safetensors", bytes);
        const std::string message = load_refusal(dir);
        CHECK(message.find("checkpoint '" + dir.string() +
                           "': model.safetensors: expected sha256 ") == 0);
        CHECK(message.find("the file was changed or the save was interrupted") !=
              std::string::npos);
    }
    SUBCASE("an edited trainer state") {
        distill::test::write_bytes(dir / "trainer_state.json", "{\"epoch\": 4}\n");
        CHECK(load_refusal(dir).find("trainer_state.json: expected sha256") != std::string::npos);
    }
    SUBCASE("a file from another checkpoint") {
        distill::test::scratch_dir other;
        distill::checkpoint_contents different = sample_checkpoint();
        different.optimizer_tensors[0].values[0] = 1.0f;
        distill::save_checkpoint(other.path(), different);
        std::filesystem::copy_file(other.path() / "optimizer.safetensors",
                                   dir / "optimizer.safetensors",
                                   std::filesystem::copy_options::overwrite_existing);
        CHECK(load_refusal(dir).find("optimizer.safetensors: expected sha256") !=
              std::string::npos);
    }
    SUBCASE("a missing file") {
        std::filesystem::remove(dir / "optimizer.safetensors");
        CHECK(load_refusal(dir) == "checkpoint '" + dir.string() +
                                       "': optimizer.safetensors: expected the file listed in "
                                       "manifest.json, found none");
    }
    SUBCASE("no manifest: the save did not finish") {
        std::filesystem::remove(dir / "manifest.json");
        CHECK(load_refusal(dir) == "checkpoint '" + dir.string() +
                                       "': expected manifest.json, found none (not a checkpoint, "
                                       "or its save did not finish)");
    }
    SUBCASE("a manifest that is not one") {
        distill::test::write_bytes(dir / "manifest.json", "{\"format\": 5}");
        CHECK(load_refusal(dir).find("manifest.json: expected {\"format\": "
                                     "\"distill.checkpoint.v1\", \"files\": {...}}, got") !=
              std::string::npos);
    }
    SUBCASE("not a directory") {
        CHECK(load_refusal(dir / "nope") == "directory: expected a checkpoint directory, got '" +
                                                (dir / "nope").string() + "' (not found)");
    }
}

TEST_CASE("a bare model file written by PyTorch loads as fp32 weights") {
    const auto path = distill::test::fixtures_dir() / "safetensors" / "torch_small.safetensors";
    // The fixture holds I64 and U8 tensors too: a model file must be all floats.
    CHECK_THROWS_WITH(distill::load_model_safetensors(path),
                      doctest::Contains("tensor 'labels': expected a floating-point dtype"));

    distill::test::scratch_dir scratch;
    const std::vector<uint16_t> bf16 = {0x3f80, 0xc060};  // 1.0, −3.5
    const std::vector<double> f64 = {0.25};
    const std::vector<distill::safetensors_tensor> tensors = {
        {"a", distill::safetensors_dtype::BF16, {2}, std::as_bytes(std::span(bf16))},
        {"b", distill::safetensors_dtype::F64, {1, 1}, std::as_bytes(std::span(f64))}};
    distill::write_safetensors(scratch.path() / "m.safetensors", tensors, {{"format", "pt"}});
    const auto weights = distill::load_model_safetensors(scratch.path() / "m.safetensors");
    CHECK(weights.config.is_null());
    REQUIRE(weights.tensors.size() == 2);
    CHECK(weights.tensors[0].name == "b");  // 8-byte types first in the file
    CHECK(weights.tensors[0].shape == std::vector<int64_t>{1, 1});
    CHECK(weights.tensors[0].values == std::vector<float>{0.25f});
    CHECK(weights.tensors[1].values == std::vector<float>{1.0f, -3.5f});
}
