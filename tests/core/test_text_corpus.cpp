// Corpus layouts (core/text/corpus_reader.h): one document per file,
// documents between blank lines, JSON lines with a "text" field, and the
// error naming file and line of a JSONL line that is not a document.
#include <doctest/doctest.h>

#include "common/atomic_file.h"
#include "temp_dir.h"
#include "test_text_dataset_support.h"
#include "text/corpus_reader.h"

using namespace distill::text;
using distill::status;

namespace {

struct seen_document {
    std::string text;
    std::string source;
    uint64_t line;
    bool operator==(const seen_document &) const = default;
};

std::vector<seen_document> documents(const std::vector<std::filesystem::path> & paths,
                                     corpus_layout layout) {
    std::vector<seen_document> out;
    read_corpus(paths, layout, [&](const corpus_document & doc, const corpus_progress &) {
        out.push_back({std::string(doc.text), doc.source->filename().string(), doc.line});
    });
    return out;
}

}  // namespace

TEST_CASE("corpus: whole files, blank-line documents and JSON lines") {
    const test::temp_dir dir("distill-corpus");
    distill::write_file_atomically(dir.file("a.txt"), "first\nfile\n\nstill first\n");
    distill::write_file_atomically(dir.file("empty.txt"), "");
    distill::write_file_atomically(dir.file("b.txt"),
                                   "\n\npoem one\nline two\n\n  \t\nc\r\n\r\nlast, no newline");
    distill::write_file_atomically(
        dir.file("c.jsonl"),
        "{\"text\": \"caf\\u00e9\\nbar\", \"id\": 1}\n\n{\"text\": \"\"}\n"
        "{\"meta\": {\"text\": [1, {\"a\": null}]}, \"id\": 3, \"text\": \"x\"}");

    CHECK(documents({dir.file("a.txt"), dir.file("empty.txt"), dir.file("c.jsonl")},
                    corpus_layout::automatic) ==
          std::vector<seen_document>{{"first\nfile\n\nstill first\n", "a.txt", 1},
                                     {"caf\xc3\xa9\nbar", "c.jsonl", 1},
                                     {"x", "c.jsonl", 4}});
    CHECK(documents({dir.file("b.txt")}, corpus_layout::blank_lines) ==
          std::vector<seen_document>{{"poem one\nline two", "b.txt", 3},
                                     {"c", "b.txt", 7},
                                     {"last, no newline", "b.txt", 9}});
    // The real thing: a fortune file cut at blank lines gives paragraphs,
    // none empty, none with a blank line inside.
    const auto paragraphs = documents({test::fortunes_dir / "goedel"}, corpus_layout::blank_lines);
    CHECK(paragraphs.size() > 5);
    for (const auto & p : paragraphs) {
        CHECK(!p.text.empty());
        CHECK(p.text.find("\n\n") == std::string::npos);
    }

    uint64_t last = 0;
    read_corpus({dir.file("b.txt")}, corpus_layout::blank_lines,
                [&](const corpus_document &, const corpus_progress & progress) {
                    CHECK(progress.bytes_done > last);
                    last = progress.bytes_done;
                });
    CHECK(last == std::filesystem::file_size(dir.file("b.txt")));

    CHECK(parse_corpus_layout("blank-lines") == corpus_layout::blank_lines);
    CHECK(test::error_of([] { parse_corpus_layout("csv"); }, status::invalid_argument) ==
          "corpus layout 'csv': expected auto, file, blank-lines or jsonl");
}

TEST_CASE("corpus: a JSONL line that is not a document names the file and the line") {
    const test::temp_dir dir("distill-corpus");
    const auto path = dir.file("bad.jsonl");
    const std::string good = "{\"text\": \"fine\"}\n\n{\"text\": \"also fine\"}\n";
    auto message_for = [&](const std::string & line) {
        distill::write_file_atomically(path, good + line + "\n{\"text\": \"after\"}\n");
        return test::error_of([&] { documents({path}, corpus_layout::automatic); },
                              status::corrupt_file);
    };
    const std::string where = "'" + path.string() + "' line 4: expected a JSON object with a "
                              "string field \"text\", got ";
    CHECK(message_for("{\"text\": \"unterminated}").rfind(where + "malformed JSON (", 0) == 0);
    CHECK(message_for("[\"text\"]") == where + "an array");
    CHECK(message_for("{\"body\": \"x\"}") == where + "an object without \"text\"");
    CHECK(message_for("{\"text\": 5}") == where + "\"text\" as a number");
    CHECK(message_for("{\"text\": [\"a\"]}") == where + "\"text\" as an array");
    CHECK(message_for("{\"meta\": {\"text\": \"nested\"}}") == where + "an object without \"text\"");
    CHECK(message_for("\"just a string\"") == where + "a string");
    CHECK(message_for("{\"text\": \"x\"} trailing").rfind(where + "malformed JSON (", 0) == 0);

    CHECK(test::error_of([&] { documents({dir.file("missing.txt")}, corpus_layout::automatic); },
                         status::not_found)
              .find("missing.txt") != std::string::npos);
}
