// Hugging Face model folders (core/train/hf_folder.h) against transformers,
// both ways, in three CTest steps sharing DISTILL_HF_REFERENCE_DIR:
//   lm_hf_folder_export          "export the folders transformers checks":
//                                our students (GQA and not, tied and
//                                untied) exported with a tokenizer, and the
//                                tokens and strings to probe them with
//   lm_hf_folder_reference_make  tests/lm/make_hf_folder_reference.py loads
//                                them with AutoModelForCausalLM and
//                                AutoTokenizer, and saves LlamaForCausalLM
//                                checkpoints of its own (save_pretrained)
//   lm_hf_folder_reference       "logits and ids match both ways": ours
//                                and theirs give the same logits (fp32,
//                                relative error <= 1e-4) and ids, and edited
//                                copies of theirs are refused by name
// Without the variable both cases say so and check nothing; when the script
// found no transformers they report "reference skipped" (CTest's skip).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/error.h"
#include "hf_test_models.h"
#include "train/hf_folder.h"
#include "train/safetensors.h"

using namespace distill;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct ours_case {
    const char * name;
    lm::transformer_config config;
};

std::vector<ours_case> ours_cases() {
    const auto config = [](int64_t dim, int64_t layers, int64_t heads, int64_t kv, int64_t ffn,
                           int64_t context, double eps, double theta, bool tied) {
        lm::transformer_config c;
        c.vocab = 300;
        c.dim = dim;
        c.layers = layers;
        c.heads = heads;
        c.kv_heads = kv;
        c.ffn = ffn;
        c.context = context;
        c.rms_norm_eps = eps;
        c.rope_theta = theta;
        c.tie_embeddings = tied;
        return c;
    };
    return {{"gqa_tied", config(64, 2, 8, 2, 96, 40, 1e-6, 500000.0, true)},
            {"odd_untied", config(48, 2, 3, 3, 70, 24, 1e-5, 10000.0, false)},
            {"mqa_untied", config(32, 1, 4, 1, 40, 20, 1e-5, 10000.0, false)}};
}

const std::vector<std::string> probe_strings = {
    "Hello, world!", "the quick  brown\n\nfox", "caf\xc3\xa9 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac",
    "def f(x):\n    return x + 1", "<|endoftext|>after the special token"};

// The folder of the reference, or why there is none to check.
std::optional<fs::path> reference_dir(bool needs_script) {
    const char * dir = std::getenv("DISTILL_HF_REFERENCE_DIR");
    if (dir == nullptr) {
        MESSAGE("skipped: DISTILL_HF_REFERENCE_DIR is not set (ctest -R lm_hf_folder runs the "
                "three steps and sets it)");
        return std::nullopt;
    }
    if (needs_script) {
        if (std::ifstream skipped(fs::path(dir) / "SKIPPED"); skipped.good()) {
            std::string reason;
            std::getline(skipped, reason);
            MESSAGE("reference skipped: " << reason);  // CTest's SKIP_REGULAR_EXPRESSION
            return std::nullopt;
        }
    }
    return fs::path(dir);
}

// max |a − b| / max |b| over the tensor.
double relative_error(std::span<const float> a, const std::vector<float> & b) {
    double worst = 0, scale = 0;
    for (size_t i = 0; i < b.size(); ++i) {
        worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
        scale = std::max(scale, std::fabs(double(b[i])));
    }
    return scale > 0 ? worst / scale : worst;
}

// Our logits for `tokens` [B, T] against `expected`; returns the error.
double check_logits(lm::transformer & model, const std::vector<int32_t> & tokens, int64_t B,
                    int64_t T, const std::vector<float> & expected) {
    const std::span<const float> ours = model.forward(tokens.data(), B, T);
    REQUIRE(ours.size() == expected.size());
    const double error = relative_error(ours, expected);
    CHECK(error <= 1e-4);
    return error;
}

void check_ids(const tokenizer::bpe_tokenizer & tokenizer, const std::vector<std::string> & strings,
               const json & ids) {
    REQUIRE(ids.size() == strings.size());
    for (size_t i = 0; i < strings.size(); ++i) {
        CAPTURE(strings[i]);
        CHECK(tokenizer.encode(strings[i]) == ids[i].get<std::vector<int32_t>>());
    }
}

status import_status(const fs::path & dir, std::string & message) {
    try {
        import_hf_folder(dir);
    } catch (const error & e) {
        message = e.what();
        return e.code();
    }
    return status::ok;
}

// Copies of a folder transformers wrote, each changed the way a checkpoint
// this student cannot be is, refused with the status and the field.
void check_refusals(const fs::path & theirs, const fs::path & scratch) {
    const auto copy = [&](const char * name) {
        const fs::path dir = scratch / name;
        fs::remove_all(dir);
        fs::copy(theirs, dir, fs::copy_options::recursive);
        return dir;
    };
    const auto edit_config = [](const fs::path & dir, const auto & edit) {
        json config = json::parse(read_whole_file(dir / "config.json"));
        edit(config);
        write_file_atomically(dir / "config.json", config.dump(2));
    };
    std::string message;
    fs::path dir = copy("rope_scaling");
    edit_config(dir, [](json & j) { j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 4.0}}; });
    CHECK(import_status(dir, message) == status::unsupported);
    CHECK(message.find("rope_scaling") != std::string::npos);
    dir = copy("mlp_bias");
    edit_config(dir, [](json & j) { j["mlp_bias"] = true; });
    CHECK(import_status(dir, message) == status::unsupported);
    CHECK(message.find("mlp_bias") != std::string::npos);
    dir = copy("truncated");
    const std::string weights = read_whole_file(dir / "model.safetensors");
    write_file_atomically(dir / "model.safetensors", weights.substr(0, weights.size() / 2));
    CHECK(import_status(dir, message) == status::corrupt_file);
    CHECK(message.find("model.safetensors") != std::string::npos);
    dir = copy("no_config");
    fs::remove(dir / "config.json");
    CHECK(import_status(dir, message) == status::not_found);
    CHECK(message.find("config.json") != std::string::npos);
}

}  // namespace

TEST_CASE("hf folder: export the folders transformers checks") {
    const std::optional<fs::path> dir = reference_dir(false);
    if (!dir) return;
    const fs::path ours = *dir / "ours";
    fs::create_directories(ours);
    const auto tokenizer = test::small_tokenizer(300);
    REQUIRE(tokenizer->vocab_size() == 300);
    std::string names;
    uint64_t seed = 21;
    for (const ours_case & c : ours_cases()) {
        const lm::transformer model = test::random_student(c.config, seed++);
        export_hf_folder(model, tokenizer.get(), ours / c.name);
        const int64_t B = 2, T = c.config.context - 3;
        std::vector<std::vector<int32_t>> tokens(static_cast<size_t>(B));
        for (int64_t b = 0; b < B; ++b)
            for (int64_t t = 0; t < T; ++t)
                tokens[size_t(b)].push_back(int32_t((b * 131 + t * 37 + 5) % c.config.vocab));
        const json probe = {{"tokens", tokens}, {"strings", probe_strings}};
        write_file_atomically(ours / (std::string(c.name) + ".probe.json"), probe.dump());
        names += std::string(c.name) + "\n";
    }
    write_file_atomically(ours / "cases.txt", names);
}

TEST_CASE("hf folder: transformers' logits and ids match both ways") {
    const std::optional<fs::path> dir = reference_dir(true);
    if (!dir) return;
    // (a) Our exports, as transformers read them.
    int ours_count = 0;
    for (const ours_case & c : ours_cases()) {
        CAPTURE(std::string(c.name));
        const fs::path folder = *dir / "ours" / c.name;
        const hf_folder_contents back = import_hf_folder(folder);  // bit for bit (test_hf_folder)
        REQUIRE(back.tokenizer);
        const json probe = json::parse(read_whole_file(folder.string() + ".probe.json"));
        const auto rows = probe["tokens"].get<std::vector<std::vector<int32_t>>>();
        std::vector<int32_t> tokens;
        for (const auto & row : rows) tokens.insert(tokens.end(), row.begin(), row.end());
        const safetensors_file hf = safetensors_file::read(folder.string() + ".hf.safetensors");
        const double error = check_logits(*back.model, tokens, int64_t(rows.size()),
                                          int64_t(rows[0].size()),
                                          safetensors_to_float32(hf.at("logits"), hf.source()));
        const auto strings = probe["strings"].get<std::vector<std::string>>();
        check_ids(*back.tokenizer, strings, json::parse(hf.metadata().at("ids")));
        check_ids(*back.tokenizer, strings, json::parse(hf.metadata().at("ids_default")));
        MESSAGE("ours/" << std::string(c.name) << " in transformers: logits relative error " << error);
        ++ours_count;
    }
    CHECK(ours_count == 3);

    // (b) Their checkpoints, imported.
    std::ifstream cases(*dir / "theirs" / "cases.txt");
    REQUIRE_MESSAGE(cases.good(), "no theirs/cases.txt in " << dir->string());
    int theirs_count = 0;
    fs::path first;
    for (std::string name; std::getline(cases, name);) {
        if (name.empty()) continue;
        CAPTURE(name);
        const fs::path folder = *dir / "theirs" / name;
        if (first.empty()) first = folder;
        const hf_folder_contents imported = import_hf_folder(folder);
        REQUIRE(imported.tokenizer);
        const safetensors_file expected =
            safetensors_file::read(folder.string() + ".expected.safetensors");
        const safetensors_tensor & t = expected.at("tokens");
        REQUIRE(t.dtype == safetensors_dtype::I32);
        std::vector<int32_t> tokens(t.data.size() / sizeof(int32_t));
        std::memcpy(tokens.data(), t.data.data(), t.data.size());
        const double error =
            check_logits(*imported.model, tokens, t.shape[0], t.shape[1],
                         safetensors_to_float32(expected.at("logits"), expected.source()));
        check_ids(*imported.tokenizer,
                  json::parse(expected.metadata().at("strings")).get<std::vector<std::string>>(),
                  json::parse(expected.metadata().at("ids")));
        MESSAGE("theirs/" << name << " (" << lm::to_json(imported.model->config()).dump()
                          << "): logits relative error " << error);
        ++theirs_count;
    }
    CHECK(theirs_count >= 3);
    REQUIRE(!first.empty());
    fs::create_directories(*dir / "refusals");
    check_refusals(first, *dir / "refusals");
}
