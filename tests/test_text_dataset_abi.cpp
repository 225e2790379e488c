// distill_tokenize_files and distill_text_dataset_* through the C ABI and
// distill.hpp: a real corpus (Debian's fortunes) tokenized and read back,
// progress and cancellation, versioned structs, and the refusals with
// their status (NULLs, bad splits and indices, damaged files, a model or a
// tokenizer that does not fit).
#include <distill/distill.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace {

const std::string fortunes = "/usr/share/games/fortunes/";

std::string read(const std::string & path) {
    std::ifstream file(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(file), {});
}

distill::Tokenizer fortune_tokenizer() {
    return distill::Tokenizer::train({read(fortunes + "fortunes"), read(fortunes + "love")}, 400,
                                     "gpt2", {"<|endoftext|>"});
}

std::vector<std::string> inputs() {
    return {fortunes + "pets", fortunes + "goedel", fortunes + "magic", fortunes + "news",
            fortunes + "debian"};
}

std::string message() { return distill_last_error_message(); }

}  // namespace

TEST_CASE("text dataset ABI: tokenize, open, windows and batches agree with encode") {
    const test::temp_dir dir("distill-text-dataset-abi");
    const distill::Tokenizer tokenizer = fortune_tokenizer();
    const std::string out = dir.file("f.tokens").string();
    distill::TokenizeOptions options;
    options->context = 32;
    options->validation_fraction = 0.4;
    options->seed = 9;
    options->progress_interval_seconds = 0;  // every document
    std::vector<distill_tokenize_progress> seen;
    const distill_tokenize_summary summary =
        distill::tokenize_files(tokenizer, inputs(), out, options, [&](const auto & p) {
            seen.push_back(p);
            return true;
        });
    REQUIRE(seen.size() == 6);  // five documents, then "writing"
    CHECK(seen.back().writing == 1);
    CHECK(seen.back().documents == 5);
    CHECK(seen.back().bytes_done == seen.back().bytes_total);
    CHECK(seen[2].documents == 3);
    CHECK(seen[2].struct_size == sizeof(distill_tokenize_progress));
    CHECK(summary.train_documents == 3);
    CHECK(summary.validation_documents == 2);
    CHECK(summary.token_bytes == 2);

    const distill::TextDataset data = distill::TextDataset::open(out);
    const distill_text_dataset_info info = data.info();
    CHECK(info.train_tokens == summary.train_tokens);
    CHECK(info.validation_windows == summary.validation_windows);
    CHECK(info.eos_id == 0);
    CHECK(info.vocab_size == 400);
    int64_t total = 0;
    for (const std::string & path : inputs()) total += int64_t(tokenizer.encode(read(path)).size()) + 1;
    CHECK(info.train_tokens + info.validation_tokens == total);
    data.check_tokenizer(tokenizer);
    data.check_model(400, 32);

    // Window i begins i·context tokens into its split.
    const auto [first, first_length] = data.window(DISTILL_SPLIT_TRAIN, 0);
    const auto [second, second_length] = data.window(DISTILL_SPLIT_TRAIN, 1);
    CHECK(first_length == 33);
    CHECK(static_cast<const uint16_t *>(second) - static_cast<const uint16_t *>(first) == 32);
    const std::vector<int64_t> order = data.shuffled_windows(DISTILL_SPLIT_TRAIN, 4);
    CHECK(int64_t(order.size()) == info.train_windows);
    CHECK(order == data.shuffled_windows(DISTILL_SPLIT_TRAIN, 4));
    std::vector<int32_t> tokens, targets;
    data.copy_batch(DISTILL_SPLIT_TRAIN, {order[0], order[1]}, tokens, targets);
    REQUIRE(tokens.size() == 64);
    for (size_t b = 0; b < 2; ++b) {
        const auto [w, length] = data.window(DISTILL_SPLIT_TRAIN, order[b]);
        const auto * ids = static_cast<const uint16_t *>(w);
        for (size_t t = 0; t < 32; ++t) {
            CHECK(tokens[b * 32 + t] == ids[t]);
            CHECK(targets[b * 32 + t] == ids[t + 1]);
        }
    }

    // An older caller's summary and info: only their prefixes are written.
    distill_text_dataset_info older{};
    std::memset(&older, 0x5a, sizeof older);
    older.struct_size = offsetof(distill_text_dataset_info, token_bytes) + 4;  // through token_bytes
    REQUIRE(distill_text_dataset_get_info(data.get(), &older) == DISTILL_STATUS_OK);
    CHECK(older.token_bytes == 2);
    CHECK(older.train_documents == 0x5a5a5a5a5a5a5a5a);
}

TEST_CASE("text dataset ABI: refusals name what was wrong") {
    const test::temp_dir dir("distill-text-dataset-abi");
    const distill::Tokenizer tokenizer = fortune_tokenizer();
    const std::string out = dir.file("f.tokens").string();
    distill::TokenizeOptions options;
    options->context = 16;
    distill::tokenize_files(tokenizer, {fortunes + "pets"}, out, options);
    const distill::TextDataset data = distill::TextDataset::open(out);

    CHECK(distill_text_dataset_check_model(data.get(), 399, 16) == DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("has a vocabulary of 400 tokens, larger than the model's 399") !=
          std::string::npos);
    const distill::Tokenizer other =
        distill::Tokenizer::train({read(fortunes + "riddles")}, 300, "gpt2", {"<|endoftext|>"});
    CHECK(distill_text_dataset_check_tokenizer(data.get(), other.get()) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("was made with another tokenizer") != std::string::npos);

    const void * tokens = nullptr;
    int64_t length = 0;
    CHECK(distill_text_dataset_window(data.get(), 2, 0, &tokens, &length) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("split: expected DISTILL_SPLIT_TRAIN (0) or DISTILL_SPLIT_VALIDATION (1), "
                         "got 2") != std::string::npos);
    CHECK(distill_text_dataset_window(data.get(), DISTILL_SPLIT_VALIDATION, 0, &tokens, &length) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("validation window 0: expected an index below 0") != std::string::npos);
    CHECK(tokens == nullptr);
    CHECK(distill_text_dataset_window(nullptr, 0, 0, &tokens, &length) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    const int64_t bad = -1;
    int32_t buffer[16];
    CHECK(distill_text_dataset_copy_batch(data.get(), 0, &bad, 1, buffer, buffer) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message() == "windows[0]: expected ≥ 0, got -1");

    // A truncated file, and something else altogether.
    const std::string bytes = read(out);
    const std::string cut = dir.file("cut.tokens").string();
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() - 3);
    distill_text_dataset * handle = nullptr;
    CHECK(distill_text_dataset_open(cut.c_str(), &handle) == DISTILL_STATUS_CORRUPT_FILE);
    CHECK(message().find("(truncated?)") != std::string::npos);
    CHECK(handle == nullptr);
    CHECK(distill_text_dataset_open((fortunes + "pets").c_str(), &handle) ==
          DISTILL_STATUS_CORRUPT_FILE);
    CHECK(message().find("is not a distill token dataset") != std::string::npos);
    CHECK(distill_text_dataset_open(dir.file("none.tokens").c_str(), &handle) ==
          DISTILL_STATUS_NOT_FOUND);
    distill_text_dataset_free(nullptr);

    // A progress callback that stops: CANCELLED, nothing written.
    const std::string stopped = dir.file("stopped.tokens").string();
    distill::TokenizeOptions stop;
    stop->context = 16;
    stop->progress_interval_seconds = 0;
    CHECK_THROWS_AS(distill::tokenize_files(tokenizer, inputs(), stopped, stop,
                                            [](const auto &) { return false; }),
                    distill::Exception);
    CHECK(!std::filesystem::exists(stopped));

    distill_tokenize_options raw;
    REQUIRE(distill_tokenize_options_init(&raw) == DISTILL_STATUS_OK);
    const char * path = out.c_str();
    CHECK(distill_tokenize_files(tokenizer.get(), &path, 1, out.c_str(), &raw, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message() == "context: expected at least 1 token, got 0");
    raw.context = 8;
    raw.layout = 7;
    CHECK(distill_tokenize_files(tokenizer.get(), &path, 1, out.c_str(), &raw, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message().find("options.layout: expected a distill_corpus_layout") != std::string::npos);
    raw.layout = DISTILL_CORPUS_LAYOUT_AUTO;
    CHECK(distill_tokenize_files(tokenizer.get(), &path, 0, out.c_str(), &raw, nullptr) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(message() == "path_count: expected at least 1 corpus file, got 0");
}
