// `distill tokenize` end to end on real text (Debian's fortunes): the file
// it writes is read back through the library (distill::TextDataset) and its
// documents checked against the ids `distill tokenizer encode` prints for
// each input; progress and summary; the errors a user meets.
#include "cli_runner.h"

#include <distill/distill.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

using cli_test::Result;
using cli_test::run;

namespace {

const std::string fortunes = "/usr/share/games/fortunes/";

// A 600-token tokenizer trained by `distill tokenizer train` in `dir`.
std::string train_tokenizer(const std::filesystem::path & dir) {
    const std::string path = (dir / "tok.json").string();
    const Result r = run("tokenizer train --input " + fortunes + "fortunes " + fortunes +
                         "riddles --vocab-size 600 --special '<|endoftext|>' --output " + path);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    return path;
}

std::vector<int32_t> encoded(const std::string & tokenizer, const std::string & input) {
    const Result r = run("tokenizer encode --json --tokenizer " + tokenizer + " --input " + input);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    return nlohmann::json::parse(r.out)["ids"].get<std::vector<int32_t>>();
}

// The tokens of a split as served: window i's first context tokens, then
// the last window's last one.
std::vector<int32_t> served(const distill::TextDataset & data, int32_t split, int64_t windows) {
    const distill_text_dataset_info info = data.info();
    std::vector<int32_t> out;
    for (int64_t i = 0; i < windows; ++i) {
        const auto [tokens, length] = data.window(split, i);
        REQUIRE(length == info.context + 1);
        for (int64_t t = 0; t < length; ++t) {
            if (t == info.context && i + 1 < windows) break;
            uint16_t id = 0;
            std::memcpy(&id, static_cast<const char *>(tokens) + 2 * t, 2);
            out.push_back(id);
        }
    }
    return out;
}

}  // namespace

TEST_SUITE_BEGIN("cli tokenize");

TEST_CASE("tokenize packs fortunes by document, readable through the library") {
    const auto dir = cli_test::scratch("tokenize-fortunes");
    const std::string tokenizer = train_tokenizer(dir);
    const std::vector<std::string> names = {"pets", "goedel", "magic", "news", "debian",
                                            "medicine", "love", "kids", "startrek", "riddles"};
    std::string inputs;
    for (const auto & name : names) inputs += " " + fortunes + name;
    const std::string out = (dir / "data.tokens").string();
    const Result r = run("tokenize --tokenizer " + tokenizer + " --context 128 --val-fraction 0.2 "
                         "--seed 5 --json --out " + out + inputs);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.err.find("10/10 files") != std::string::npos);
    CHECK(r.err.find("documents/s") != std::string::npos);
    CHECK(r.err.find("tokens/s") != std::string::npos);
    CHECK(r.err.find("MB/s") != std::string::npos);
    const auto summary = nlohmann::json::parse(r.out);
    CHECK(summary["train"]["documents"] == 8);
    CHECK(summary["validation"]["documents"] == 2);
    CHECK(summary["token_bytes"] == 2);
    CHECK(summary["file_bytes"] == std::filesystem::file_size(out));

    // Each input's ids as `distill tokenizer encode` gives them, then eos.
    const distill::Tokenizer tok = distill::Tokenizer::load(tokenizer);
    const int32_t eos = *tok.token_to_id("<|endoftext|>");
    std::vector<std::vector<int32_t>> expected;
    for (const auto & name : names) {
        expected.push_back(encoded(tokenizer, fortunes + name));
        expected.back().push_back(eos);
    }

    const distill::TextDataset data = distill::TextDataset::open(out);
    data.check_tokenizer(tok);
    const distill_text_dataset_info info = data.info();
    CHECK(info.context == 128);
    CHECK(info.vocab_size == 600);
    CHECK(info.eos_id == eos);
    CHECK(info.train_windows == summary["train"]["windows"]);
    // The served tokens of both splits, cut at eos: whole inputs, each in
    // one split only, every input somewhere except what a split's tail
    // (shorter than a window) cut off.
    std::vector<int> used(expected.size(), 0);
    for (const int32_t split : {DISTILL_SPLIT_TRAIN, DISTILL_SPLIT_VALIDATION}) {
        const int64_t windows = split == DISTILL_SPLIT_TRAIN ? info.train_windows
                                                             : info.validation_windows;
        const std::vector<int32_t> stream = served(data, split, windows);
        CHECK(int64_t(stream.size()) == windows * 128 + 1);
        std::vector<int32_t> document;
        for (const int32_t id : stream) {
            document.push_back(id);
            if (id != eos) continue;
            const auto at = std::find(expected.begin(), expected.end(), document);
            REQUIRE(at != expected.end());
            ++used[size_t(at - expected.begin())];
            document.clear();
        }
        // The batch copy: inputs and targets shifted by one.
        const std::vector<int64_t> order = data.shuffled_windows(split, 11);
        REQUIRE(int64_t(order.size()) == windows);
        std::vector<int32_t> tokens, targets;
        data.copy_batch(split, order, tokens, targets);
        for (size_t b = 0; b < order.size(); ++b)
            for (size_t t = 0; t < 128; ++t) {
                CHECK_EQ(tokens[b * 128 + t], stream[size_t(order[b]) * 128 + t]);
                CHECK_EQ(targets[b * 128 + t], stream[size_t(order[b]) * 128 + t + 1]);
            }
    }
    for (const int times : used) CHECK(times <= 1);
    CHECK(std::count(used.begin(), used.end(), 1) >= int(names.size()) - 2);
}

TEST_CASE("tokenize reads JSONL and names the file and line of a bad one") {
    const auto dir = cli_test::scratch("tokenize-jsonl");
    const std::string tokenizer = train_tokenizer(dir);
    const auto good = dir / "good.jsonl", bad = dir / "bad.jsonl";
    std::string lines;
    for (int i = 0; i < 40; ++i)
        lines += nlohmann::json({{"id", i}, {"text", "Fortune " + std::to_string(i) +
                                                         ": you will write many tests."}})
                     .dump() + "\n";
    cli_test::write(good, lines);
    cli_test::write(bad, "{\"text\": \"one\"}\n{\"text\": \"two\"}\n{\"text\": 3}\n");
    const std::string out = (dir / "d.tokens").string();

    Result r = run("tokenize --tokenizer " + tokenizer + " --context 16 --val-fraction 0.1 --out " +
                   out + " " + good.string());
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.out.find("36 training documents") != std::string::npos);
    CHECK(r.out.find("4 validation documents") != std::string::npos);

    const std::string bad_out = (dir / "bad.tokens").string();
    r = run("tokenize --tokenizer " + tokenizer + " --context 16 --out " + bad_out + " " +
            bad.string());
    CHECK(r.code == 1);
    CHECK(r.err.find("CORRUPT_FILE: '" + bad.string() + "' line 3: expected a JSON object with a "
                     "string field \"text\", got \"text\" as a number") != std::string::npos);
    CHECK(!std::filesystem::exists(bad_out));
}

TEST_CASE("tokenize refuses what it cannot do, naming it") {
    const auto dir = cli_test::scratch("tokenize-errors");
    const std::string tokenizer = train_tokenizer(dir);
    const std::string out = (dir / "x.tokens").string();
    const std::string pets = fortunes + "pets";

    Result r = run("tokenize --tokenizer " + tokenizer + " --out " + out + " " + pets);
    CHECK(r.code == 2);  // --context is required
    CHECK(r.err.find("--context is required") != std::string::npos);

    r = run("tokenize --tokenizer " + tokenizer + " --context 64 --eos '</s>' --out " + out + " " +
            pets);
    CHECK(r.code == 1);
    CHECK(r.err.find("end-of-document token '</s>': the tokenizer has no added token of that "
                     "content (it has <|endoftext|>)") != std::string::npos);

    r = run("tokenize --tokenizer " + tokenizer + " --context 64 --val-fraction 0.5 --out " + out +
            " " + pets);
    CHECK(r.code == 1);
    CHECK(r.err.find("needs at least 2 documents, got 1") != std::string::npos);

    r = run("tokenize --tokenizer " + tokenizer + " --context 100000 --out " + out + " " + pets);
    CHECK(r.code == 1);
    CHECK(r.err.find("fewer than one window of context + 1 = 100001 tokens") != std::string::npos);

    r = run("tokenize --tokenizer " + tokenizer + " --context 64 --out " + out + " " +
            (dir / "missing.txt").string());
    CHECK(r.code == 1);
    CHECK(r.err.find("NOT_FOUND") != std::string::npos);
    CHECK(r.err.find("missing.txt") != std::string::npos);
    CHECK(!std::filesystem::exists(out));
}

TEST_CASE("tokenize stops on Ctrl-C with nothing written") {
    const auto dir = cli_test::scratch("tokenize-interrupt");
    const std::string tokenizer = train_tokenizer(dir);
    // About 40 MB of JSON lines: seconds of work, so the signal lands mid-run.
    const std::string fortune = cli_test::slurp(fortunes + "riddles");
    const std::string line = nlohmann::json({{"text", fortune.substr(0, 2000)}}).dump() + "\n";
    std::string lines;
    while (lines.size() < 40'000'000) lines += line;
    const auto corpus = dir / "big.jsonl";
    cli_test::write(corpus, lines);
    const std::string out = (dir / "big.tokens").string(), err = (dir / "err.txt").string();
    const pid_t child = cli_test::start({"tokenize", "--tokenizer", tokenizer, "--context", "64",
                                         "--out", out, corpus.string()},
                                        (dir / "out.txt").string(), err);
    // The first progress line says the handler is in place and work begun.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (cli_test::slurp(err).find("documents/s") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ::kill(child, SIGINT);
    const int code = cli_test::wait_exit(child);
    CHECK_MESSAGE((code == 130), ("Ctrl-C exits 130, got " + std::to_string(code)));
    CHECK(cli_test::slurp(err).find("interrupted; nothing was written to " + out) !=
          std::string::npos);
    CHECK(!std::filesystem::exists(out));
}

TEST_SUITE_END();
