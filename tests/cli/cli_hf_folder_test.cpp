// `distill export --hf` and `distill import --hf` end to end: a transformer
// model file out to a Hugging Face folder and back unchanged, and the
// refusals with their exit codes. (That transformers loads the folder with
// the same logits is tests/core/test_hf_folder_reference.cpp.)
#include "cli_runner.h"

#include <distill/distill.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <utility>
#include <vector>

using cli_test::Result;
using cli_test::run;
using cli_test::slurp;
using cli_test::write;

namespace {

// A transformer model file (core/train/transformer_file.h) written by hand:
// one layer, vocab 260, dim 8, 2 query heads sharing 1 key/value head, ffn
// 12, random F32 weights, the config in the metadata.
void write_transformer_file(const std::filesystem::path & path, unsigned seed) {
    const int64_t V = 260, C = 8, KV = 4, F = 12;
    const std::vector<std::pair<std::string, std::vector<int64_t>>> tensors = {
        {"model.embed_tokens.weight", {V, C}},
        {"model.layers.0.self_attn.q_proj.weight", {C, C}},
        {"model.layers.0.self_attn.k_proj.weight", {KV, C}},
        {"model.layers.0.self_attn.v_proj.weight", {KV, C}},
        {"model.layers.0.self_attn.o_proj.weight", {C, C}},
        {"model.layers.0.mlp.gate_proj.weight", {F, C}},
        {"model.layers.0.mlp.up_proj.weight", {F, C}},
        {"model.layers.0.mlp.down_proj.weight", {C, F}},
        {"model.layers.0.input_layernorm.weight", {C}},
        {"model.layers.0.post_attention_layernorm.weight", {C}},
        {"model.norm.weight", {C}},
        {"lm_head.weight", {V, C}},
    };
    const nlohmann::json config = {{"kind", "transformer"}, {"vocab", V}, {"dim", C},
                                   {"layers", 1},           {"heads", 2}, {"kv_heads", 1},
                                   {"ffn", F},              {"context", 8}};
    nlohmann::json header = {
        {"__metadata__", {{"format", "distill.checkpoint.v1"}, {"config", config.dump()}}}};
    std::mt19937 random(seed);
    std::normal_distribution<float> normal(0.0f, 0.1f);
    std::string data;
    for (const auto & [name, shape] : tensors) {
        int64_t count = 1;
        for (int64_t d : shape) count *= d;
        const size_t begin = data.size();
        for (int64_t i = 0; i < count; ++i) {
            const float value = shape.size() == 1 ? 1.0f + normal(random) : normal(random);
            char bytes[4];
            std::memcpy(bytes, &value, 4);
            data.append(bytes, 4);
        }
        header[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {begin, data.size()}}};
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string file(8, '\0');
    const uint64_t size = text.size();
    for (int i = 0; i < 8; ++i) file[size_t(i)] = char((size >> (8 * i)) & 0xff);
    write(path, file + text + data);
}

}  // namespace

TEST_SUITE_BEGIN("cli hf");

TEST_CASE("export --hf writes a transformers folder; import --hf reads it back unchanged") {
    const auto dir = cli_test::scratch("hf-roundtrip");
    const auto model = dir / "model.safetensors";
    write_transformer_file(model, 5);
    const auto tokenizer = dir / "tokenizer.json";
    distill::Tokenizer::train({"hello world, hello there; the quick brown fox"}, 260, "gpt2",
                              {"<|endoftext|>"}, 1)
        .save(tokenizer.string());

    const auto folder = dir / "hf";
    Result r = run("export --hf '" + folder.string() + "' '" + model.string() + "' --tokenizer '" +
                   tokenizer.string() + "'");
    REQUIRE_MESSAGE(r.code == 0, r.err);
    for (const char * name : {"config.json", "model.safetensors", "tokenizer.json",
                              "tokenizer_config.json"})
        CHECK_MESSAGE(std::filesystem::exists(folder / name), name);
    const nlohmann::json config = nlohmann::json::parse(slurp(folder / "config.json"));
    CHECK(config["num_key_value_heads"] == 1);
    CHECK(config["vocab_size"] == 260);

    const auto back = dir / "back.safetensors";
    const auto back_tokenizer = dir / "back_tokenizer.json";
    r = run("import --hf '" + folder.string() + "' --out '" + back.string() +
            "' --tokenizer-out '" + back_tokenizer.string() + "'");
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(slurp(back_tokenizer) == slurp(tokenizer));
    // Exported again, the imported file gives the same folder, byte for byte.
    const auto again = dir / "again";
    r = run("export --hf '" + again.string() + "' '" + back.string() + "'");
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(slurp(again / "model.safetensors") == slurp(folder / "model.safetensors"));
    CHECK(slurp(again / "config.json") == slurp(folder / "config.json"));
    CHECK_FALSE(std::filesystem::exists(again / "tokenizer.json"));

    // A folder without a tokenizer cannot give one.
    r = run("import --hf '" + again.string() + "' --out '" + back.string() +
            "' --tokenizer-out '" + (dir / "none.json").string() + "'");
    CHECK(r.code == 1);
    CHECK(r.err.find("tokenizer.json") != std::string::npos);
}

TEST_CASE("import --hf refuses what the student lacks, by name, and bad usage") {
    const auto dir = cli_test::scratch("hf-refusals");
    const auto model = dir / "model.safetensors";
    write_transformer_file(model, 6);
    const auto folder = dir / "hf";
    REQUIRE(run("export --hf '" + folder.string() + "' '" + model.string() + "'").code == 0);

    nlohmann::json config = nlohmann::json::parse(slurp(folder / "config.json"));
    config["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
    write(folder / "config.json", config.dump());
    const auto out = dir / "out.safetensors";
    Result r = run("import --hf '" + folder.string() + "' --out '" + out.string() + "'");
    CHECK(r.code == 1);
    CHECK(r.err.find("rope_scaling") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(out));

    // A tokenizer of another family (SentencePiece-style, as Llama 2's) is
    // refused when asked for, and not read when not.
    config.erase("rope_scaling");
    write(folder / "config.json", config.dump());
    write(folder / "tokenizer.json", R"({"model": {"type": "Unigram", "vocab": []}})");
    r = run("import --hf '" + folder.string() + "' --out '" + out.string() +
            "' --tokenizer-out '" + (dir / "tok.json").string() + "'");
    CHECK(r.code == 1);
    CHECK(r.err.find("Unigram") != std::string::npos);
    r = run("import --hf '" + folder.string() + "' --out '" + out.string() + "'");
    CHECK_MESSAGE(r.code == 0, r.err);
    CHECK(std::filesystem::exists(out));

    r = run("import --hf '" + (dir / "absent").string() + "' --out '" + out.string() + "'");
    CHECK(r.code == 1);
    CHECK(r.err.find("absent") != std::string::npos);

    CHECK(run("import --hf '" + folder.string() + "'").code == 2);  // no --out
    CHECK(run("export '" + model.string() + "'").code == 2);        // no --hf
}
