// distill_tokenizer_* through the C ABI and distill::Tokenizer: training,
// the snprintf-style buffers, JSON round trips, lookups, and the refusals
// (NULL arguments, negative lengths, unsupported files) with their status.
#include <distill/distill.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::string corpus() {
    std::string text;
    for (int i = 0; i < 30; ++i)
        text += "low lower lowest newer newest wider widest; café 東京 🙂\n\n  x = f(y);\n";
    return text;
}

distill::Tokenizer trained() {
    return distill::Tokenizer::train({corpus(), "second text"}, 280, "llama3", {"<|eot|>"});
}

}  // namespace

TEST_CASE("tokenizer ABI: encode and decode fill buffers the snprintf way") {
    const distill::Tokenizer tokenizer = trained();
    const std::string text = "lowest newest\xFF<|eot|> 東京";
    int64_t count = -1;
    REQUIRE(distill_tokenizer_encode(tokenizer.get(), text.data(), int64_t(text.size()), nullptr, 0,
                                     &count) == DISTILL_STATUS_OK);
    REQUIRE(count > 0);
    std::vector<int32_t> ids(size_t(count - 1), -7);
    int64_t again = 0;
    // Too small: the count, nothing written.
    CHECK(distill_tokenizer_encode(tokenizer.get(), text.data(), int64_t(text.size()), ids.data(),
                                   int64_t(ids.size()), &again) == DISTILL_STATUS_OK);
    CHECK(again == count);
    CHECK(ids[0] == -7);
    CHECK(tokenizer.encode(text).size() == size_t(count));
    CHECK(tokenizer.decode(tokenizer.encode(text)) == text);
    const std::vector<int32_t> all = tokenizer.encode(text);
    CHECK(std::count(all.begin(), all.end(), 0) == 1);  // <|eot|> is one token
}

TEST_CASE("tokenizer ABI: to_json and from_json give the same tokenizer") {
    const distill::Tokenizer tokenizer = trained();
    CHECK(tokenizer.vocab_size() == 280);
    const distill::Tokenizer copy = distill::Tokenizer::from_json(tokenizer.to_json());
    const std::string text = corpus();
    CHECK(copy.encode(text) == tokenizer.encode(text));
    CHECK(copy.to_json() == tokenizer.to_json());
    CHECK(tokenizer.token_to_id("<|eot|>") == 0);
    CHECK(tokenizer.id_to_token(0) == "<|eot|>");
    CHECK_FALSE(tokenizer.token_to_id("not a token").has_value());
    CHECK_FALSE(tokenizer.id_to_token(5000).has_value());
}

TEST_CASE("tokenizer ABI: bad arguments and unsupported files are refused with a message") {
    const distill::Tokenizer tokenizer = trained();
    int64_t count = 0;
    CHECK(distill_tokenizer_encode(nullptr, "a", 1, nullptr, 0, &count) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("tokenizer") == 0);
    CHECK(distill_tokenizer_encode(tokenizer.get(), "a", -1, nullptr, 0, &count) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(distill_tokenizer_encode(tokenizer.get(), "a", 1, nullptr, 4, &count) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    const int32_t bad[] = {1, 99999};
    CHECK(distill_tokenizer_decode(tokenizer.get(), bad, 2, nullptr, 0, &count) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()) ==
          "ids[1]: expected a token id in [0, 280), got 99999");
    const std::string wordpiece =
        R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}, "unk_token": "[UNK]"}})";
    distill_tokenizer * out = nullptr;
    CHECK(distill_tokenizer_from_json(wordpiece.data(), int64_t(wordpiece.size()), &out) ==
          DISTILL_STATUS_UNSUPPORTED);
    CHECK(out == nullptr);
    CHECK(std::string(distill_last_error_message()) ==
          "model type WordPiece is not supported: expected BPE");
    distill_tokenizer_train_options options;
    REQUIRE(distill_tokenizer_train_options_init(&options) == DISTILL_STATUS_OK);
    CHECK(options.min_frequency == 2);
    const char * texts[] = {"abc"};
    const int64_t lengths[] = {3};
    CHECK(distill_tokenizer_train(texts, lengths, 1, &options, &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);  // vocab_size left 0
    CHECK(std::string(distill_last_error_message()).find("vocab_size") == 0);
    options.vocab_size = 260;
    options.split = "(unclosed";
    CHECK(distill_tokenizer_train(texts, lengths, 1, &options, &out) ==
          DISTILL_STATUS_INVALID_ARGUMENT);
    CHECK(std::string(distill_last_error_message()).find("does not compile") != std::string::npos);
    distill_tokenizer_free(nullptr);
}
