// Hugging Face model folders (core/train/hf_folder.h) without transformers:
// an export imports back bit for bit, the export never leaves a
// half-written folder under the target's name, and every refusal of the
// import has its status and names the field. The check against transformers
// itself is test_hf_folder_reference.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <filesystem>
#include <functional>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/error.h"
#include "hf_test_models.h"
#include "temp_dir.h"
#include "text/tokenizer_json.h"
#include "train/hf_config.h"
#include "train/hf_folder.h"
#include "train/safetensors.h"

using namespace distill;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

lm::transformer_config small_config(bool tied) {
    lm::transformer_config c;
    c.vocab = 300;
    c.dim = 32;
    c.layers = 2;
    c.heads = 4;
    c.kv_heads = 2;
    c.ffn = 40;
    c.context = 16;
    c.rms_norm_eps = 1e-6;
    c.rope_theta = 500000.0;
    c.tie_embeddings = tied;
    return c;
}

std::vector<std::string> listing(const fs::path & dir) {
    std::vector<std::string> names;
    for (const auto & entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    return names;
}

// The status and message of what import_hf_folder throws.
struct refusal {
    status code = status::ok;
    std::string message;
};
refusal import_refusal(const fs::path & dir) {
    try {
        import_hf_folder(dir);
    } catch (const error & e) {
        return {e.code(), e.what()};
    }
    return {};
}

json read_json(const fs::path & path) { return json::parse(read_whole_file(path)); }
void write_json(const fs::path & path, const json & j) { write_file_atomically(path, j.dump(2)); }

// An exported folder whose config.json gets `edit` applied.
refusal with_config(const fs::path & folder, const std::function<void(json &)> & edit) {
    json config = read_json(folder / "config.json");
    const std::string original = config.dump(2);
    edit(config);
    write_json(folder / "config.json", config);
    const refusal r = import_refusal(folder);
    write_file_atomically(folder / "config.json", original);
    return r;
}

}  // namespace

TEST_CASE("hf folder: an export imports back bit for bit, tied and untied") {
    test::temp_dir tmp("distill-hf");
    const auto tokenizer = test::small_tokenizer(300);
    for (const bool tied : {false, true}) {
        CAPTURE(tied);
        const lm::transformer model = test::random_student(small_config(tied), 3);
        const fs::path dir = tmp.file(tied ? "tied" : "untied");
        export_hf_folder(model, tokenizer.get(), dir);
        CHECK(listing(dir) == std::vector<std::string>{"config.json", "model.safetensors",
                                                       "tokenizer.json", "tokenizer_config.json"});
        const json config = read_json(dir / "config.json");
        CHECK(config["architectures"] == json{"LlamaForCausalLM"});
        CHECK(config["model_type"] == "llama");
        CHECK(config["num_key_value_heads"] == 2);
        CHECK(config["head_dim"] == 8);
        CHECK(config["eos_token_id"].is_null());
        CHECK(config["tie_word_embeddings"] == tied);
        CHECK(config["rope_parameters"]["rope_theta"] == 500000.0);
        CHECK(read_json(dir / "tokenizer_config.json")["tokenizer_class"] ==
              "PreTrainedTokenizerFast");
        const safetensors_file weights = safetensors_file::read(dir / "model.safetensors");
        CHECK(weights.metadata().at("format") == "pt");
        CHECK((weights.find("lm_head.weight") == nullptr) == tied);

        const hf_folder_contents back = import_hf_folder(dir);
        CHECK(back.model->config() == model.config());
        CHECK(std::equal(model.parameters().begin(), model.parameters().end(),
                         back.model->parameters().begin(), back.model->parameters().end()));
        REQUIRE(back.tokenizer);
        CHECK(tokenizer::tokenizer_json(*back.tokenizer) == tokenizer::tokenizer_json(*tokenizer));
    }
    CHECK(listing(tmp.path()) == std::vector<std::string>{"tied", "untied"});  // no .partial left
}

TEST_CASE("hf folder: without a tokenizer there is no tokenizer file, and none imported") {
    test::temp_dir tmp("distill-hf");
    const lm::transformer model = test::random_student(small_config(false), 4);
    export_hf_folder(model, nullptr, tmp.file("m"));
    CHECK(listing(tmp.file("m")) == std::vector<std::string>{"config.json", "model.safetensors"});
    CHECK(import_hf_folder(tmp.file("m")).tokenizer == nullptr);
}

TEST_CASE("hf folder: an export replaces an earlier folder whole") {
    test::temp_dir tmp("distill-hf");
    const fs::path dir = tmp.file("nested/out");
    const auto tokenizer = test::small_tokenizer(300);
    export_hf_folder(test::random_student(small_config(true), 5), tokenizer.get(), dir);
    write_file_atomically(dir / "stale.txt", "from before");
    const lm::transformer second = test::random_student(small_config(false), 6);
    export_hf_folder(second, nullptr, dir);
    CHECK(listing(dir) == std::vector<std::string>{"config.json", "model.safetensors"});
    CHECK(listing(tmp.file("nested")) == std::vector<std::string>{"out"});
    const hf_folder_contents back = import_hf_folder(dir);
    CHECK(back.model->config() == second.config());
    CHECK(back.tokenizer == nullptr);
}

TEST_CASE("hf folder: a failed export leaves the target as it was") {
    test::temp_dir tmp("distill-hf");
    const fs::path dir = tmp.file("out");
    export_hf_folder(test::random_student(small_config(false), 7), nullptr, dir);
    const std::string before = read_whole_file(dir / "model.safetensors");
    // A tokenizer bigger than the vocabulary is refused before any file.
    const auto big = test::small_tokenizer(300);
    REQUIRE(big->vocab_size() == 300);
    lm::transformer_config c = small_config(false);
    c.vocab = 280;
    try {
        export_hf_folder(test::random_student(c, 8), big.get(), dir);
        FAIL("expected a refusal");
    } catch (const error & e) {
        CHECK(e.code() == status::invalid_argument);
        CHECK(std::string(e.what()).find("300 ids") != std::string::npos);
    }
    CHECK(read_whole_file(dir / "model.safetensors") == before);
    CHECK(listing(tmp.path()) == std::vector<std::string>{"out"});
    // A file where the folder should be is refused, and left alone.
    write_file_atomically(tmp.file("file"), "x");
    CHECK_THROWS_AS(export_hf_folder(test::random_student(c, 8), nullptr, tmp.file("file")), error);
    CHECK(read_whole_file(tmp.file("file")) == "x");
}

TEST_CASE("hf folder: config.json features the student lacks are refused by name") {
    test::temp_dir tmp("distill-hf");
    const fs::path dir = tmp.file("m");
    export_hf_folder(test::random_student(small_config(false), 9), nullptr, dir);
    struct edit_case {
        const char * field;
        std::function<void(json &)> edit;
    };
    const std::vector<edit_case> unsupported = {
        {"rope_scaling", [](json & j) { j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 2.0}}; }},
        {"rope_parameters.rope_type", [](json & j) { j["rope_parameters"]["rope_type"] = "llama3"; }},
        {"rope_parameters.factor", [](json & j) { j["rope_parameters"]["factor"] = 8.0; }},
        {"mlp_bias", [](json & j) { j["mlp_bias"] = true; }},
        {"attention_bias", [](json & j) { j["attention_bias"] = true; }},
        {"hidden_act", [](json & j) { j["hidden_act"] = "gelu"; }},
        {"head_dim", [](json & j) { j["head_dim"] = 16; }},
        {"model_type", [](json & j) { j["model_type"] = "mistral"; }},
        {"architectures", [](json & j) { j["architectures"] = {"LlamaForSequenceClassification"}; }},
        {"attention_dropout", [](json & j) { j["attention_dropout"] = 0.1; }},
        {"quantization_config", [](json & j) { j["quantization_config"] = {{"bits", 4}}; }},
        {"num_attention_heads", [](json & j) { j["num_attention_heads"] = 5; j.erase("head_dim"); }},
    };
    for (const edit_case & c : unsupported) {
        CAPTURE(std::string(c.field));
        const refusal r = with_config(dir, c.edit);
        CHECK(r.code == status::unsupported);
        CHECK(r.message.find(c.field) != std::string::npos);
        CHECK(r.message.find("config.json") != std::string::npos);
    }
    const std::vector<edit_case> corrupt = {
        {"vocab_size", [](json & j) { j["vocab_size"] = "300"; }},
        {"hidden_size", [](json & j) { j.erase("hidden_size"); }},
        {"num_hidden_layers", [](json & j) { j["num_hidden_layers"] = 0; }},
        {"rms_norm_eps", [](json & j) { j["rms_norm_eps"] = -1; }},
        {"tie_word_embeddings", [](json & j) { j["tie_word_embeddings"] = "no"; }},
        {"rope_theta", [](json & j) { j["rope_theta"] = 10000.0; }},  // disagrees with rope_parameters
        {"expected shape", [](json & j) { j["hidden_size"] = 64; j["head_dim"] = 16; }},  // not the file's
    };
    for (const edit_case & c : corrupt) {
        CAPTURE(std::string(c.field));
        const refusal r = with_config(dir, c.edit);
        CHECK_MESSAGE(r.code == status::corrupt_file, r.message);
        CHECK(r.message.find(c.field) != std::string::npos);
    }
    // What the defaults fill in: transformers' LlamaConfig's.
    const refusal none = with_config(dir, [](json & j) {
        for (const char * key : {"num_key_value_heads", "head_dim", "rope_parameters", "rope_theta",
                                 "architectures", "hidden_act", "mlp_bias", "dtype"})
            j.erase(key);
        j["rope_scaling"] = nullptr;
        j["kv_heads"] = 2;  // an unknown key is ignored
    });
    CHECK(none.code == status::corrupt_file);  // kv_heads default = heads: k_proj's shape differs
    CHECK(none.message.find("k_proj") != std::string::npos);
    const lm::transformer_config parsed = parse_hf_config(
        json{{"model_type", "llama"}, {"vocab_size", 10}, {"hidden_size", 8},
             {"intermediate_size", 12}, {"num_hidden_layers", 1}, {"num_attention_heads", 2}},
        "config.json");
    CHECK(parsed.kv_heads == 2);
    CHECK(parsed.context == 2048);
    CHECK(parsed.rms_norm_eps == 1e-6);
    CHECK(parsed.rope_theta == 10000.0);
    CHECK_FALSE(parsed.tie_embeddings);
    CHECK(parse_hf_config(hf_config_json(small_config(true)), "x") == small_config(true));
}

TEST_CASE("hf folder: missing, truncated and foreign files are refused with their status") {
    test::temp_dir tmp("distill-hf");
    const fs::path dir = tmp.file("m");
    const auto tokenizer = test::small_tokenizer(300);
    const lm::transformer model = test::random_student(small_config(false), 10);
    export_hf_folder(model, tokenizer.get(), dir);
    const std::string weights = read_whole_file(dir / "model.safetensors");

    CHECK(import_refusal(tmp.file("absent")).code == status::not_found);
    write_file_atomically(tmp.file("plain"), "x");
    CHECK(import_refusal(tmp.file("plain")).code == status::not_found);

    write_file_atomically(dir / "model.safetensors", weights.substr(0, weights.size() - 100));
    refusal r = import_refusal(dir);
    CHECK(r.code == status::corrupt_file);
    CHECK(r.message.find("model.safetensors") != std::string::npos);
    write_file_atomically(dir / "model.safetensors", weights.substr(0, 5));
    CHECK(import_refusal(dir).code == status::corrupt_file);

    // A foreign tensor (the bias of a model with mlp_bias), and a missing one.
    const safetensors_file file = safetensors_file::from_bytes(weights, "w");
    std::vector<safetensors_tensor> tensors = file.tensors();
    const std::vector<float> bias(40, 0.5f);
    tensors.push_back({"model.layers.0.mlp.up_proj.bias", safetensors_dtype::F32, {40},
                       std::as_bytes(std::span(bias))});
    write_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
    r = import_refusal(dir);
    CHECK(r.code == status::corrupt_file);
    CHECK(r.message.find("up_proj.bias") != std::string::npos);
    tensors.pop_back();
    std::erase_if(tensors, [](const safetensors_tensor & t) { return t.name == "lm_head.weight"; });
    write_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
    r = import_refusal(dir);
    CHECK(r.code == status::corrupt_file);
    CHECK(r.message.find("lm_head.weight' is missing") != std::string::npos);
    // Quantized (integer) weights are unsupported.
    tensors = file.tensors();
    const std::vector<int8_t> codes(size_t(300 * 32), 1);
    for (safetensors_tensor & t : tensors)
        if (t.name == "model.embed_tokens.weight") t = {t.name, safetensors_dtype::I8, t.shape,
                                                        std::as_bytes(std::span(codes))};
    write_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
    r = import_refusal(dir);
    CHECK(r.code == status::unsupported);
    CHECK(r.message.find("I8") != std::string::npos);

    fs::remove(dir / "model.safetensors");
    CHECK(import_refusal(dir).code == status::not_found);
    write_file_atomically(dir / "pytorch_model.bin", "pickle");
    r = import_refusal(dir);
    CHECK(r.code == status::unsupported);
    CHECK(r.message.find("pytorch_model.bin") != std::string::npos);
    write_file_atomically(dir / "model.safetensors.index.json", "{}");
    r = import_refusal(dir);
    CHECK(r.code == status::unsupported);
    CHECK(r.message.find("sharded") != std::string::npos);
    write_file_atomically(dir / "model.safetensors", weights);

    write_file_atomically(dir / "tokenizer.json", "{\"model\": ");
    r = import_refusal(dir);
    CHECK(r.code == status::corrupt_file);
    CHECK(r.message.find("tokenizer.json") != std::string::npos);
    CHECK(import_hf_folder(dir, false).tokenizer == nullptr);  // not read: the model imports
    lm::transformer_config narrow = small_config(false);
    narrow.vocab = 280;
    export_hf_folder(test::random_student(narrow, 12), nullptr, tmp.file("narrow"));
    write_file_atomically(tmp.file("narrow") / "tokenizer.json", tokenizer::tokenizer_json(*tokenizer));
    r = import_refusal(tmp.file("narrow"));
    CHECK(r.code == status::corrupt_file);
    CHECK(r.message.find("vocab_size 280") != std::string::npos);
    fs::remove(dir / "tokenizer.json");
    CHECK(import_hf_folder(dir).tokenizer == nullptr);

    write_file_atomically(dir / "config.json", "{\"model_type\": \"llama\",");
    CHECK(import_refusal(dir).code == status::corrupt_file);
    fs::remove(dir / "config.json");
    r = import_refusal(dir);
    CHECK(r.code == status::not_found);
    CHECK(r.message.find("config.json") != std::string::npos);
}

TEST_CASE("hf folder: bf16 and f16 weights are read as fp32") {
    test::temp_dir tmp("distill-hf");
    const fs::path dir = tmp.file("m");
    const lm::transformer model = test::random_student(small_config(true), 11);
    export_hf_folder(model, nullptr, dir);
    // Each weight's top 16 bits are its bfloat16 (truncation is enough here:
    // the check is that the import widens them back exactly).
    const safetensors_file file = safetensors_file::read(dir / "model.safetensors");
    std::vector<std::vector<uint16_t>> halves;
    std::vector<safetensors_tensor> tensors;
    for (const safetensors_tensor & t : file.tensors()) {
        const std::vector<float> values = safetensors_to_float32(t, "x");
        std::vector<uint16_t> & h = halves.emplace_back();
        for (float v : values) h.push_back(uint16_t(std::bit_cast<uint32_t>(v) >> 16));
        tensors.push_back({t.name, safetensors_dtype::BF16, t.shape, std::as_bytes(std::span(h))});
    }
    write_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
    const hf_folder_contents back = import_hf_folder(dir);
    for (const parameter_info & p : model.parameter_table())
        for (int64_t i = 0; i < p.count; ++i) {
            const float want = std::bit_cast<float>(
                std::bit_cast<uint32_t>(model.parameters()[size_t(p.offset + i)]) & 0xffff0000u);
            if (back.model->parameters()[size_t(p.offset + i)] != want) {
                FAIL(p.name << "[" << i << "] not widened exactly");
            }
        }
}
