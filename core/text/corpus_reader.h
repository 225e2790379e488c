// The documents of a text corpus, read from files in one of three layouts:
//
//   whole_file   one document per file (nanoGPT's shakespeare and
//                openwebtext preparations treat each text as one document;
//                a folder of .txt files, one article each, is the common
//                way to hand a corpus over). The default for a file whose
//                name does not end in .jsonl.
//   blank_lines  documents separated by blank lines (empty, or only spaces,
//                tabs and a '\r'); a document is its lines from the first
//                non-blank to the last, joined by their own line endings,
//                without the final one. llm.c's tinyshakespeare preparation
//                cuts its text this way ("\n\n"); it suits a file of short
//                pieces (poems, paragraphs, dialogue turns).
//   jsonl        one JSON object per line with a string field "text" (the
//                layout of Hugging Face datasets exported to JSON lines,
//                TinyStories, FineWeb samples); other fields are ignored,
//                blank lines skipped. The default for a file named *.jsonl.
//
// Empty documents are skipped in every layout (they would add only an
// end-of-document token). Files are mapped (common/mapped_file.h), not read:
// a document is a view into the mapping, valid during the callback only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace distill::text {

enum class corpus_layout { automatic, whole_file, blank_lines, jsonl };

// "auto", "file", "blank-lines", "jsonl" (the CLI's spellings); throws
// invalid_argument naming the value and the accepted ones.
corpus_layout parse_corpus_layout(const std::string & name);

struct corpus_document {
    std::string_view text;                      // the document's bytes
    const std::filesystem::path * source;       // the file it came from
    uint64_t line;                              // its first line (1-based)
};

struct corpus_progress {
    uint64_t files_done = 0;
    uint64_t bytes_done = 0;  // of all the files, through the current document
};

// Calls `on_document` for each document of `paths`, file by file, in order.
// Errors (distill::error): not_found / io_error naming a file that cannot
// be read; corrupt_file for a JSONL line that is not an object with a
// string "text", naming the file, the line number and what was found
// ("'a.jsonl' line 7: expected a JSON object with a string field \"text\",
// got an array"). An exception thrown by `on_document` passes through.
void read_corpus(const std::vector<std::filesystem::path> & paths, corpus_layout layout,
                 const std::function<void(const corpus_document &, const corpus_progress &)> &
                     on_document);

}  // namespace distill::text
