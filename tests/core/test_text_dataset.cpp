// Token datasets (core/text/text_dataset*.h): a real corpus (Debian's
// fortunes) encoded by a tokenizer trained by the project, packed, split by
// document, written, mapped, and every window checked against ids computed
// here independently of the packer.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "common/atomic_file.h"
#include "temp_dir.h"
#include "test_text_dataset_support.h"
#include "text/corpus_reader.h"
#include "text/seeded_permutation.h"
#include "text/text_dataset.h"
#include "text/text_dataset_writer.h"
#include "text/tokenizer_json.h"

using namespace distill::text;
using distill::status;

namespace {

// The tokens of `split` as one array, read through window() only: window
// i's first `context` tokens, then the last window's final token.
std::vector<uint32_t> stream_of(const text_dataset & data, dataset_split split) {
    std::vector<uint32_t> out;
    const uint64_t count = data.windows(split);
    for (uint64_t i = 0; i < count; ++i) {
        const token_window w = data.window(split, i);
        for (uint64_t t = 0; t < data.context(); ++t) out.push_back(w.at(t));
        if (i + 1 == count) out.push_back(w.at(data.context()));
    }
    return out;
}

// `ids` cut after every `eos`: the documents, each with its eos.
std::vector<std::vector<uint32_t>> documents_of(const std::vector<uint32_t> & ids, uint32_t eos) {
    std::vector<std::vector<uint32_t>> docs(1);
    for (const uint32_t id : ids) {
        docs.back().push_back(id);
        if (id == eos) docs.emplace_back();
    }
    docs.pop_back();  // the empty one after the last eos, or an unfinished tail
    return docs;
}

std::vector<uint32_t> read_tokens(const std::string & bytes, uint64_t offset, uint64_t count,
                                  uint32_t width) {
    std::vector<uint32_t> out(count);
    for (uint64_t i = 0; i < count; ++i) {
        uint32_t v = 0;
        std::memcpy(&v, bytes.data() + offset + i * width, width);
        out[i] = v;
    }
    return out;
}

}  // namespace

TEST_CASE("text dataset: fortunes round-trip, every window equals the ids encoded here") {
    const auto & tokenizer = test::fortune_tokenizer();
    const test::temp_dir dir("distill-text-dataset");
    const auto path = dir.file("fortunes.tokens");
    const int32_t context = 64;

    text_dataset_options options;
    options.context = context;
    options.validation_fraction = 0.25;
    options.seed = 7;
    text_dataset_writer writer(tokenizer, options);
    uint64_t last_bytes = 0;
    read_corpus(test::fortune_files(), corpus_layout::automatic,
                [&](const corpus_document & doc, const corpus_progress & progress) {
                    CHECK(progress.bytes_done > last_bytes);
                    last_bytes = progress.bytes_done;
                    writer.add_document(doc.text);
                });
    const text_dataset_summary summary = writer.write(path);

    // The documents as this test encodes them: each whole file, then eos.
    const auto eos = uint32_t(*tokenizer.token_to_id("<|endoftext|>"));
    std::vector<std::vector<uint32_t>> expected;
    uint64_t expected_tokens = 0;
    for (const auto & file : test::fortune_files()) {
        const std::vector<int32_t> ids = tokenizer.encode(distill::read_whole_file(file));
        expected.emplace_back(ids.begin(), ids.end());
        expected.back().push_back(eos);
        expected_tokens += expected.back().size();
        REQUIRE(std::count(ids.begin(), ids.end(), int32_t(eos)) == 0);
    }

    const text_dataset data(path);
    CHECK(data.header().token_bytes == 2);
    CHECK(data.vocab_size() == 512);
    CHECK(data.context() == 64);
    CHECK(data.header().eos_id == eos);
    CHECK(data.header().tokenizer_sha256 == tokenizer_sha256(tokenizer));
    CHECK(data.tokens(dataset_split::train) + data.tokens(dataset_split::validation) ==
          expected_tokens);
    CHECK(data.documents(dataset_split::train) == 12);  // round(0.25 · 16) = 4 held out
    CHECK(data.documents(dataset_split::validation) == 4);
    CHECK(summary.train_windows == data.windows(dataset_split::train));
    CHECK(summary.file_bytes == std::filesystem::file_size(path));

    // The splits' raw arrays, read from the file bytes at the header's
    // offsets, cut at eos: each document once, in one split, in corpus order.
    const std::string bytes = distill::read_whole_file(path);
    std::map<std::vector<uint32_t>, int> seen;
    std::vector<std::vector<uint32_t>> split_streams;
    for (const dataset_split split : {dataset_split::train, dataset_split::validation}) {
        const uint64_t offset = split == dataset_split::train ? data.header().train_offset
                                                              : data.header().validation_offset;
        CHECK(offset % 64 == 0);
        split_streams.push_back(read_tokens(bytes, offset, data.tokens(split), 2));
        const auto docs = documents_of(split_streams.back(), eos);
        CHECK(docs.size() == data.documents(split));
        size_t previous = 0;
        for (const auto & doc : docs) {
            const auto at = std::find(expected.begin(), expected.end(), doc);
            REQUIRE(at != expected.end());
            CHECK(size_t(at - expected.begin()) >= previous);
            previous = size_t(at - expected.begin());
            ++seen[doc];
        }
    }
    CHECK(seen.size() == expected.size());
    for (const auto & [doc, times] : seen) CHECK(times == 1);

    // Windows of context + 1 tokens at a stride of context, then the tail.
    for (const dataset_split split : {dataset_split::train, dataset_split::validation}) {
        const auto & stream = split_streams[size_t(split)];
        const uint64_t windows = data.windows(split);
        CHECK(windows == (stream.size() - 1) / context);
        const std::vector<uint32_t> served = stream_of(data, split);
        CHECK(std::equal(served.begin(), served.end(), stream.begin()));
        CHECK(stream.size() - served.size() < uint64_t(context));  // the tail left out

        // A batch copied as int32 inputs and shifted targets.
        const std::vector<uint64_t> order = data.shuffled_windows(split, 3);
        std::vector<int32_t> tokens(order.size() * context), targets(order.size() * context);
        data.copy_batch(split, order.data(), order.size(), tokens.data(), targets.data());
        for (size_t b = 0; b < order.size(); ++b)
            for (int32_t t = 0; t < context; ++t) {
                CHECK_EQ(uint32_t(tokens[b * context + t]), stream[order[b] * context + t]);
                CHECK_EQ(uint32_t(targets[b * context + t]), stream[order[b] * context + t + 1]);
            }
        CHECK(test::error_of([&] { data.window(split, windows); }, status::invalid_argument)
                  .find("expected an index below " + std::to_string(windows)) !=
              std::string::npos);
    }

    // The same corpus, options and seed give the same file.
    const auto again = dir.file("again.tokens");
    text_dataset_writer second(tokenizer, options);
    read_corpus(test::fortune_files(), corpus_layout::whole_file,
                [&](const corpus_document & doc, const corpus_progress &) {
                    second.add_document(doc.text);
                });
    second.write(again);
    CHECK(distill::read_whole_file(again) == bytes);
}

TEST_CASE("text dataset: the split is by document, of the asked size, fixed by the seed") {
    for (const uint64_t documents : {2, 3, 10, 101, 1000}) {
        for (const double fraction : {0.001, 0.1, 0.5, 0.9}) {
            const std::vector<bool> a = validation_documents(documents, fraction, 1);
            const auto count = uint64_t(std::count(a.begin(), a.end(), true));
            const auto wanted = uint64_t(std::llround(fraction * double(documents)));
            CHECK(count == std::clamp<uint64_t>(wanted, 1, documents - 1));
            CHECK(a == validation_documents(documents, fraction, 1));
        }
    }
    CHECK(validation_documents(1000, 0.5, 1) != validation_documents(1000, 0.5, 2));
    const std::vector<bool> none = validation_documents(5, 0, 1);
    CHECK(std::count(none.begin(), none.end(), true) == 0);
    CHECK(test::error_of([] { validation_documents(1, 0.1, 0); }, status::invalid_argument)
              .find("at least 2 documents, got 1") != std::string::npos);

    const std::vector<uint64_t> order = seeded_permutation(1000, 42);
    std::set<uint64_t> distinct(order.begin(), order.end());
    CHECK(distinct.size() == 1000);
    CHECK(*distinct.rbegin() == 999);
    CHECK(order == seeded_permutation(1000, 42));
    CHECK(order != seeded_permutation(1000, 43));
}

TEST_CASE("text dataset: a file cut at any byte, foreign or of another version is CORRUPT_FILE") {
    const auto & tokenizer = test::fortune_tokenizer();
    const test::temp_dir dir("distill-text-dataset");
    text_dataset_options options;
    options.context = 16;
    options.validation_fraction = 0.5;
    text_dataset_writer writer(tokenizer, options);
    writer.add_document("The best way to predict the future is to invent it.");
    writer.add_document("Simplicity is prerequisite for reliability.");
    writer.add_document("Premature optimization is the root of all evil.");
    const auto path = dir.file("small.tokens");
    writer.write(path);
    const std::string bytes = distill::read_whole_file(path);
    REQUIRE(bytes.size() > 128 + 64);

    const auto cut = dir.file("cut.tokens");
    for (size_t size = 0; size < bytes.size(); ++size) {
        CAPTURE(size);
        distill::write_file_atomically(cut, std::string_view(bytes).substr(0, size));
        const std::string message =
            test::error_of([&] { text_dataset data(cut); }, status::corrupt_file);
        CHECK(message.find(cut.string()) != std::string::npos);
        if (size < 8) CHECK(message.find("expected the magic \"DSTLTOKS\"") != std::string::npos);
        else if (size < 128) CHECK(message.find("shorter than the 128-byte header") != std::string::npos);
        else CHECK(message.find("(truncated?)") != std::string::npos);
    }

    distill::write_file_atomically(cut, bytes + "x");
    CHECK(test::error_of([&] { text_dataset data(cut); }, status::corrupt_file)
              .find("(trailing bytes)") != std::string::npos);

    distill::write_file_atomically(cut, distill::tokenizer::tokenizer_json(tokenizer));
    const std::string foreign = test::error_of([&] { text_dataset data(cut); }, status::corrupt_file);
    INFO(foreign);
    CHECK(foreign.find("is not a distill token dataset: expected the magic \"DSTLTOKS\", found "
                       "\"{\\x0a  \\x22ver\"") != std::string::npos);

    std::string other_version = bytes;
    other_version[8] = 2;
    distill::write_file_atomically(cut, other_version);
    CHECK(test::error_of([&] { text_dataset data(cut); }, status::corrupt_file)
              .find("format version 2, expected 1") != std::string::npos);

    std::string wide = bytes;
    wide[16] = 4;
    distill::write_file_atomically(cut, wide);
    CHECK(test::error_of([&] { text_dataset data(cut); }, status::corrupt_file)
              .find("tokens of 4 bytes, expected 2 for a vocabulary of 512") != std::string::npos);

    // An id past the vocabulary inside the array is caught as it is copied.
    std::string bad_id = bytes;
    bad_id[128] = char(0xff);
    bad_id[129] = char(0xff);
    distill::write_file_atomically(cut, bad_id);
    const text_dataset damaged(cut);
    std::vector<int32_t> tokens(16), targets(16);
    const uint64_t first = 0;
    CHECK(test::error_of([&] { damaged.copy_batch(dataset_split::train, &first, 1, tokens.data(),
                                                  targets.data()); },
                         status::corrupt_file)
              .find("training window 0 position 0 holds id 65535, expected an id below the "
                    "vocabulary's 512") != std::string::npos);
}

TEST_CASE("text dataset: ids above 65535 are stored as uint32, below as uint16") {
    // The fortune tokenizer with one more added token, id 70000, as the
    // end-of-document token: vocab_size 70001 needs 4-byte tokens.
    auto json = nlohmann::json::parse(distill::tokenizer::tokenizer_json(test::fortune_tokenizer()));
    json["added_tokens"].push_back({{"id", 70000}, {"content", "<|doc|>"}, {"special", true},
                                    {"lstrip", false}, {"rstrip", false}, {"single_word", false},
                                    {"normalized", false}});
    const auto wide = distill::tokenizer::load_tokenizer_json(json.dump());
    REQUIRE(wide->vocab_size() == 70001);

    const test::temp_dir dir("distill-text-dataset");
    for (const bool use_wide : {false, true}) {
        const auto & tokenizer = use_wide ? *wide : test::fortune_tokenizer();
        text_dataset_options options;
        options.context = 8;
        options.eos_token = use_wide ? "<|doc|>" : "<|endoftext|>";
        text_dataset_writer writer(tokenizer, options);
        const std::string text = distill::read_whole_file(test::fortunes_dir / "pratchett");
        writer.add_document(text);
        writer.add_document(text);
        const auto path = dir.file(use_wide ? "wide.tokens" : "narrow.tokens");
        writer.write(path);

        const text_dataset data(path);
        const uint32_t width = use_wide ? 4 : 2;
        CHECK(data.header().token_bytes == width);
        // No validation tokens: the file ends at the 64-byte boundary after them.
        CHECK(std::filesystem::file_size(path) ==
              (128 + width * data.tokens(dataset_split::train) + 63) / 64 * 64);
        const std::vector<uint32_t> stream = stream_of(data, dataset_split::train);
        std::vector<int32_t> ids = tokenizer.encode(text);
        std::vector<uint32_t> expected(ids.begin(), ids.end());
        expected.push_back(use_wide ? 70000 : 0);
        expected.insert(expected.end(), expected.begin(), expected.end());
        CHECK(std::equal(stream.begin(), stream.end(), expected.begin()));
        CHECK(std::count(stream.begin(), stream.end(), use_wide ? 70000u : 0u) >= 1);
    }
}

TEST_CASE("text dataset: a model too small for it, another tokenizer, a missing eos are refused") {
    const auto & tokenizer = test::fortune_tokenizer();
    const test::temp_dir dir("distill-text-dataset");
    text_dataset_options options;
    options.context = 32;
    text_dataset_writer writer(tokenizer, options);
    writer.add_document(distill::read_whole_file(test::fortunes_dir / "pratchett"));
    const auto path = dir.file("d.tokens");
    writer.write(path);
    const text_dataset data(path);

    data.check_fits_model(512, 32);
    data.check_fits_model(50000, 1024);
    CHECK(test::error_of([&] { data.check_fits_model(511, 32); }, status::invalid_argument)
              .find("has a vocabulary of 512 tokens, larger than the model's 511") !=
          std::string::npos);
    CHECK(test::error_of([&] { data.check_fits_model(512, 16); }, status::invalid_argument)
              .find("packed for a context of 32 tokens, longer than the model's 16") !=
          std::string::npos);

    data.check_tokenizer(tokenizer_sha256(tokenizer));
    std::array<uint8_t, 32> other{};
    CHECK(test::error_of([&] { data.check_tokenizer(other); }, status::invalid_argument)
              .find("was made with another tokenizer") != std::string::npos);

    options.eos_token = "</s>";
    CHECK(test::error_of([&] { text_dataset_writer w(tokenizer, options); },
                         status::invalid_argument)
              .find("'</s>': the tokenizer has no added token of that content (it has "
                    "<|endoftext|>, <|pad|>)") != std::string::npos);

    options.eos_token = "<|endoftext|>";
    options.context = 100000;
    text_dataset_writer too_short(tokenizer, options);
    too_short.add_document("a few words");
    CHECK(test::error_of([&] { too_short.write(dir.file("e.tokens")); }, status::invalid_argument)
              .find("in 1 documents, fewer than one window of context + 1 = 100001 tokens") != std::string::npos);
    CHECK(!std::filesystem::exists(dir.file("e.tokens")));
}
