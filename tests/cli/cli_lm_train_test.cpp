// `distill train` and `distill eval` on text, end to end on real text
// (Debian's fortunes): a tokenizer and a token dataset made by the CLI, a
// transformer trained for steps with validation and a checkpoint, resumed
// to the same weights as an uninterrupted run, evaluated alone and against
// a teacher; a student distilled from a teacher's stored answers; the
// errors a user meets.
#include "cli_runner.h"

#include <distill/distill.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

using cli_test::Result;
using cli_test::run;

namespace {

const std::string fortunes = "/usr/share/games/fortunes/";

struct text_setup {
    std::filesystem::path dir;
    std::string tokenizer, data, config;
};

// A 400-token tokenizer, a .tokens dataset of context 16, a config file.
text_setup make_text(const std::string & name) {
    text_setup s;
    s.dir = cli_test::scratch(name);
    s.tokenizer = (s.dir / "tok.json").string();
    s.data = (s.dir / "f.tokens").string();
    s.config = (s.dir / "lm.json").string();
    Result r = run("tokenizer train --input " + fortunes + "fortunes --vocab-size 400 "
                   "--special '<|endoftext|>' --output " + s.tokenizer);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    r = run("tokenize --tokenizer " + s.tokenizer + " --context 16 --val-fraction 0.3 --out " +
            s.data + " " + fortunes + "pets " + fortunes + "goedel " + fortunes + "magic " +
            fortunes + "news");
    REQUIRE_MESSAGE(r.code == 0, r.err);
    cli_test::write(s.config, R"({"kind": "transformer", "vocab": 400, "dim": 32, "layers": 2,
                                  "heads": 4, "kv_heads": 2, "ffn": 64, "context": 16})");
    return s;
}

std::vector<float> weights(const std::string & path) {
    distill::Model m = distill::Model::load(path);
    std::vector<float> all;
    for (int64_t i = 0; i < m.tensor_count(); ++i) {
        const DLTensor t = m.parameter(i);
        int64_t n = 1;
        for (int32_t d = 0; d < t.ndim; ++d) n *= t.shape[d];
        all.insert(all.end(), static_cast<const float *>(t.data),
                   static_cast<const float *>(t.data) + n);
    }
    return all;
}

}  // namespace

TEST_SUITE_BEGIN("cli lm");

TEST_CASE("train on a token dataset: validation, checkpoint, exact resume, eval") {
    const text_setup s = make_text("lm_train");
    const std::string common = "train --config " + s.config + " --data " + s.data +
                               " --batch-size 4 --threads 1 --seed 5 --optimizer "
                               "'{\"kind\": \"adamw\", \"lr\": 0.01}'";
    const std::string whole = (s.dir / "whole.safetensors").string();
    Result r = run(common + " --steps 8 --eval-interval 4 --json --out " + whole);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const nlohmann::json summary = nlohmann::json::parse(r.out);
    CHECK(summary["steps_run"] == 8);
    CHECK(summary["validation"]["perplexity"].get<double>() < 400.0);
    CHECK(r.err.find("validation perplexity") != std::string::npos);  // at steps 4 and 8

    const std::string checkpoint = (s.dir / "run").string();
    r = run(common + " --steps 5 --checkpoint " + checkpoint);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const std::string resumed = (s.dir / "resumed.safetensors").string();
    r = run(common + " --steps 8 --checkpoint " + checkpoint + " --out " + resumed);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.err.find("resuming from") != std::string::npos);
    CHECK(weights(resumed) == weights(whole));

    r = run("eval --json --model " + whole + " --data " + s.data);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const nlohmann::json alone = nlohmann::json::parse(r.out);
    CHECK(alone["perplexity"].get<double>() ==
          doctest::Approx(std::exp(alone["cross_entropy"].get<double>())));
    CHECK(alone["agreement_with_teacher"].is_null());
    r = run("eval --json --model " + whole + " --data " + s.data + " --teacher " + resumed +
            " --windows 3");
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const nlohmann::json twin = nlohmann::json::parse(r.out);
    CHECK(twin["windows"] == 3);
    CHECK(twin["agreement_with_teacher"].get<double>() == 1.0);

    // Distilling from a teacher transformer (the trained one) into a new student.
    r = run("train --config " + s.config + " --data " + s.data + " --teacher " + whole +
            " --steps 3 --threads 1 --json");
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(nlohmann::json::parse(r.out)["validation"]["agreement_with_teacher"].is_number());
}

TEST_CASE("train from stored answers, then eval on them") {
    const text_setup s = make_text("lm_store");
    const std::string store_path = (s.dir / "answers.sqlite").string();
    {
        const distill::Tokenizer tok = distill::Tokenizer::load(s.tokenizer);
        distill::Store store(store_path);
        const std::vector<std::pair<std::string, std::string>> answers = {
            {"Q: pets?", " A cat."}, {"Q: magic?", " Abracadabra."}, {"Q: news?", " None."}};
        for (size_t i = 0; i < answers.size(); ++i) {
            distill::TeacherRecord record;
            char key[65];
            std::snprintf(key, sizeof key, "%064zx", i + 1);
            record.set_string(DISTILL_RECORD_KEY, key);
            record.set_string(DISTILL_RECORD_TEXT, answers[i].second);
            record.set_string(DISTILL_RECORD_TEACHER_JSON, R"({"model":"big"})");
            record.set_string(DISTILL_RECORD_PARAMETERS_JSON, "{}");
            record.set_string(DISTILL_RECORD_REQUEST_JSON,
                              nlohmann::json{{"prompt", answers[i].first}}.dump());
            for (const int32_t id : tok.encode(answers[i].second)) {
                const std::string bytes = tok.decode({id});
                const int32_t top_ids[1] = {-1};
                const char * top_tokens[1] = {bytes.c_str()};
                const float top_logprobs[1] = {-0.1f};
                REQUIRE(distill_teacher_record_append_position(
                            record.get(), bytes.c_str(),
                            reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), -1,
                            -0.1f, 1, top_ids, top_tokens, top_logprobs) == DISTILL_STATUS_OK);
            }
            store.put(record);
        }
    }
    // Rows of prompt + completion need more than the dataset's 16 positions.
    const std::string config = (s.dir / "lm64.json").string();
    cli_test::write(config, R"({"kind": "transformer", "vocab": 400, "dim": 32, "layers": 2,
                                "heads": 4, "kv_heads": 2, "ffn": 64, "context": 64})");
    const std::string student = (s.dir / "student.safetensors").string();
    const std::string eval = "eval --json --model " + student + " --teacher-store " + store_path +
                             " --tokenizer " + s.tokenizer;
    Result r = run("train --config " + config + " --teacher-store " + store_path +
                   " --tokenizer " + s.tokenizer + " --steps 1 --threads 1 --out " + student);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    r = run(eval);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const double early = nlohmann::json::parse(r.out)["cross_entropy"].get<double>();
    r = run("train --config " + config + " --teacher-store " + store_path + " --tokenizer " +
            s.tokenizer + " --steps 40 --batch-size 3 --threads 1 --json --out " + student +
            " --optimizer '{\"kind\": \"adamw\", \"lr\": 0.01}'");
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const nlohmann::json trained = nlohmann::json::parse(r.out);
    CHECK(trained["answers"]["rows"] == 3);
    CHECK(trained["answers"]["left_out_too_long"] == 0);
    CHECK(trained["answers"]["mapped_by_bytes"].get<int64_t>() > 0);
    CHECK(trained["answers"]["unmapped"] == 0);
    r = run(eval);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const nlohmann::json figures = nlohmann::json::parse(r.out);
    CHECK(figures["answers"] == 3);
    CHECK(figures["cross_entropy"].get<double>() < early - 1.0);
    CHECK(figures["agreement_with_teacher"].get<double>() > 0.9);
}

TEST_CASE("train and eval on text refuse what they cannot do, naming it") {
    const text_setup s = make_text("lm_errors");
    Result r = run("train --config " + s.config + " --data " + s.data);
    CHECK(r.code == 1);
    CHECK(r.err.find("--steps") != std::string::npos);
    const std::string small = (s.dir / "small.json").string();
    cli_test::write(small, R"({"kind": "transformer", "vocab": 300, "dim": 32, "layers": 1,
                               "heads": 4, "kv_heads": 4, "ffn": 64, "context": 16})");
    r = run("train --config " + small + " --data " + s.data + " --steps 2");
    CHECK(r.code == 1);
    CHECK(r.err.find("400") != std::string::npos);
    CHECK(r.err.find("300") != std::string::npos);
    const std::string odd = (s.dir / "odd.json").string();
    cli_test::write(odd, R"({"kind": "transformer", "vocab": 400, "dim": 30, "layers": 1,
                             "heads": 4, "kv_heads": 4, "ffn": 64, "context": 16})");
    r = run("train --config " + odd + " --data " + s.data + " --steps 2");
    CHECK(r.code == 1);
    CHECK(r.err.find("heads") != std::string::npos);
    r = run("train --config " + s.config + " --data " + s.data + " --steps 2 --validation " + s.data);
    CHECK(r.code == 1);
    CHECK(r.err.find("--validation") != std::string::npos);
    r = run("train --config " + s.config + " --tokenizer " + s.tokenizer + " --steps 2");
    CHECK(r.code == 1);
    CHECK(r.err.find("--teacher-store") != std::string::npos);
    r = run("eval --model " + (s.dir / "missing.safetensors").string() + " --data " + s.data);
    CHECK(r.code == 1);
    r = run("eval --model " + s.config + " --data " + s.data);  // a JSON file is no model file
    CHECK(r.code == 1);
}

TEST_SUITE_END();
