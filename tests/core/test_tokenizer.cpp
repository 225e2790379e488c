// The byte-level BPE tokenizer of core/tokenizer: the byte alphabet, the
// split patterns, BPE merge order, added tokens, byte-exact round trips
// (invalid UTF-8 included), training, tokenizer.json save/load, and the
// refusals of what it does not support (named).
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/error.h"
#include "text/bpe_trainer.h"
#include "text/byte_level.h"
#include "text/split_pattern.h"
#include "text/tokenizer_json.h"

using namespace distill::tokenizer;

namespace {

std::vector<std::string> pieces(const split_pattern & pattern, const std::string & text) {
    std::vector<span> spans;
    pattern.split_isolated(text, {0, text.size()}, spans);
    std::vector<std::string> out;
    for (const span & s : spans) out.push_back(text.substr(s.begin, s.end - s.begin));
    return out;
}

std::string corpus() {
    std::string text;
    for (int i = 0; i < 50; ++i)
        text += "the quick brown fox jumps over the lazy dog; the dog sleeps. "
                "int main() { return 0; }\n\n    café naïve 東京 🙂\n";
    return text;
}

std::unique_ptr<bpe_tokenizer> trained(const std::string & split = "gpt2") {
    bpe_training_options options;
    options.vocab_size = 320;
    options.split = split;
    options.special_tokens = {"<|endoftext|>", "<|pad|>"};
    const std::string text = corpus();
    return train_bpe({text}, options);
}

// The message of what `f` throws, checking its status.
template <class F>
std::string refusal(F && f, distill::status expected) {
    try {
        f();
    } catch (const distill::error & e) {
        CHECK(e.code() == expected);
        return e.what();
    }
    FAIL("expected a distill::error");
    return {};
}

std::string minimal_json(const std::string & model, const std::string & normalizer = "null") {
    return R"({"version":"1.0","added_tokens":[],"normalizer":)" + normalizer +
           R"(,"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
              "decoder":{"type":"ByteLevel"},"model":)" + model + "}";
}

}  // namespace

TEST_CASE("tokenizer: the byte-level alphabet maps every byte to one character and back") {
    CHECK(bytes_to_alphabet(" ") == "\xC4\xA0");   // Ġ U+0120
    CHECK(bytes_to_alphabet("\n") == "\xC4\x8A");  // Ċ U+010A
    CHECK(bytes_to_alphabet("a~") == "a~");
    std::string all;
    for (int b = 0; b < 256; ++b) all.push_back(char(b));
    CHECK(alphabet_to_bytes(bytes_to_alphabet(all)) == all);
    CHECK_FALSE(alphabet_to_bytes("\xE4\xB8\x80").has_value());  // 一 is not in the alphabet
}

TEST_CASE("tokenizer: the GPT-2 split regex splits words, numbers, punctuation and spaces") {
    const split_pattern gpt2(gpt2_split_regex, false, "test");
    CHECK(pieces(gpt2, "Hello world's  2024!!\n") ==
          std::vector<std::string>{"Hello", " world", "'s", " ", " 2024", "!!", "\n"});
    CHECK(pieces(gpt2, "café 東京") == std::vector<std::string>{"café", " 東京"});
    const split_pattern llama3(llama3_split_regex, false, "test");
    CHECK(pieces(llama3, "12345 I'M") == std::vector<std::string>{"123", "45", " I", "'M"});
    // Invalid UTF-8 matches nothing: it is a piece of its own.
    CHECK(pieces(gpt2, "ab\xFF\xFEzz") == std::vector<std::string>{"ab", "\xFF\xFE", "zz"});
    const std::string message = refusal(
        [] { split_pattern bad("(unclosed", false, "pre_tokenizer.pattern.Regex"); },
        distill::status::invalid_argument);
    CHECK(message.find("pre_tokenizer.pattern.Regex") != std::string::npos);
    CHECK(message.find("(unclosed") != std::string::npos);
}

TEST_CASE("tokenizer: BPE merges the lowest-rank pair first, leftmost among equals") {
    std::vector<std::string> vocab;
    for (int b = 0; b < 256; ++b) vocab.push_back(bytes_to_alphabet(std::string(1, char(b))));
    vocab.push_back("ab");   // 256
    vocab.push_back("bc");   // 257
    vocab.push_back("abc");  // 258
    vocab.push_back("aa");   // 259
    const bpe_model model(vocab, {{"b", "c"}, {"a", "b"}, {"a", "bc"}, {"a", "a"}}, false);
    std::vector<int32_t> ids;
    model.merge_word("abc", ids);  // bc (rank 0) first, then a+bc
    CHECK(ids == std::vector<int32_t>{258});
    ids.clear();
    model.merge_word("aaa", ids);  // the leftmost aa
    CHECK(ids == std::vector<int32_t>{259, 'a'});
    // Past the short-word scan the heap gives the same answer.
    std::string long_word;
    for (int i = 0; i < 40; ++i) long_word += "abca";
    std::vector<int32_t> expected;
    for (int i = 0; i < 40; ++i) expected.insert(expected.end(), {258, 'a'});
    ids.clear();
    model.merge_word(long_word, ids);
    CHECK(ids == expected);
}

TEST_CASE("tokenizer: encode and decode are exact inverses on any bytes") {
    for (const char * split : {"gpt2", "llama3"}) {
        CAPTURE(split);
        const auto tokenizer = trained(split);
        CHECK(tokenizer->vocab_size() == 320);
        std::string text = corpus() + "\xFF\xC3(\x80 broken \xED\xA0\x80 surrogate<|endoftext|>x";
        text += std::string("\0\x01\x02", 3) + "     \n\n\t ";
        const std::vector<int32_t> ids = tokenizer->encode(text);
        CHECK(ids.size() < text.size() / 2);  // the merges are used
        CHECK(tokenizer->decode(ids.data(), ids.size()) == text);
        CHECK(tokenizer->encode(text) == ids);  // the cache changes nothing
    }
}

TEST_CASE("tokenizer: added tokens are matched before the split") {
    const auto tokenizer = trained();
    const std::vector<int32_t> ids = tokenizer->encode("dog<|endoftext|>dog<|pad|><|pad|>");
    REQUIRE(ids.size() >= 5);
    CHECK(std::count(ids.begin(), ids.end(), 0) == 1);
    CHECK(std::count(ids.begin(), ids.end(), 1) == 2);
    CHECK(ids.back() == 1);
    CHECK(tokenizer->token_to_id("<|pad|>") == 1);
    CHECK(tokenizer->id_to_token(0) == "<|endoftext|>");
    CHECK(tokenizer->token_to_id("\xC4\xA0" "dog").has_value());  // "Ġdog" was merged
}

TEST_CASE("tokenizer: training is deterministic and save/load keeps the ids") {
    const auto a = trained("llama3");
    const auto b = trained("llama3");
    const std::string json = tokenizer_json(*a);
    CHECK(json == tokenizer_json(*b));
    const auto loaded = load_tokenizer_json(json);
    const std::string text = corpus() + " 12345678 ABC'S";
    CHECK(loaded->encode(text) == a->encode(text));
    CHECK(tokenizer_json(*loaded) == json);
    CHECK(loaded->model().merges() == a->model().merges());
}

TEST_CASE("tokenizer: merges read as \"a b\" strings and as pairs alike") {
    std::string vocab = "{";
    for (int b = 0; b < 256; ++b) {
        nlohmann::json token = bytes_to_alphabet(std::string(1, char(b)));
        vocab += token.dump() + ":" + std::to_string(b) + ",";
    }
    vocab += R"("ab":256})";
    const auto strings = load_tokenizer_json(
        minimal_json(R"({"type":"BPE","vocab":)" + vocab + R"(,"merges":["a b"]})"));
    const auto pairs = load_tokenizer_json(
        minimal_json(R"({"type":"BPE","vocab":)" + vocab + R"(,"merges":[["a","b"]]})"));
    CHECK(strings->encode("abab") == std::vector<int32_t>{256, 256});
    CHECK(pairs->encode("abab") == std::vector<int32_t>{256, 256});
}

TEST_CASE("tokenizer: unsupported and malformed tokenizer.json files are refused by name") {
    const auto unsupported = [](const std::string & json) {
        return refusal([&] { load_tokenizer_json(json); }, distill::status::unsupported);
    };
    const auto invalid = [](const std::string & json) {
        return refusal([&] { load_tokenizer_json(json); }, distill::status::invalid_argument);
    };
    CHECK(unsupported(minimal_json(R"({"type":"WordPiece","vocab":{}})")) ==
          "model type WordPiece is not supported: expected BPE");
    CHECK(unsupported(minimal_json(R"({"type":"Unigram","vocab":[]})")) ==
          "model type Unigram is not supported: expected BPE");
    CHECK(unsupported(minimal_json(R"({"type":"BPE","vocab":{},"merges":[]})", R"({"type":"NFC"})")) ==
          "normalizer NFC is not supported: expected null");
    CHECK(unsupported(minimal_json(R"({"type":"BPE","vocab":{},"merges":[],"byte_fallback":true})"))
              .find("model.byte_fallback") != std::string::npos);
    CHECK(invalid("{\"model\": ").find("tokenizer.json: not valid JSON") == 0);
    CHECK(invalid(minimal_json(R"({"type":"BPE","vocab":{"a":0},"merges":["a b"]})"))
              .find("model.merges[0]") != std::string::npos);
    CHECK(invalid(minimal_json(R"({"type":"BPE","vocab":{"a":0},"merges":[7]})"))
              .find("model.merges[0]: expected") == 0);
    CHECK(invalid(R"({"version":"1.0"})") == "tokenizer.json.model is missing");
    CHECK(refusal([] { load_tokenizer_file("/nonexistent/tokenizer.json"); }, distill::status::not_found)
              .find("/nonexistent/tokenizer.json") != std::string::npos);
}

TEST_CASE("tokenizer: training refuses a vocabulary smaller than the alphabet") {
    bpe_training_options options;
    options.vocab_size = 100;
    const std::string message =
        refusal([&] { train_bpe({"abc"}, options); }, distill::status::invalid_argument);
    CHECK(message.find("vocab_size: expected at least 256") == 0);
}
