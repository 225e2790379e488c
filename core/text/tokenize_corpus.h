// The whole of `distill tokenize`: read a corpus (text/corpus_reader.h),
// encode and pack it (text/text_dataset_writer.h), split it and write the
// token dataset file, reporting progress as it goes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include "text/corpus_reader.h"
#include "text/text_dataset_writer.h"
#include "text/tokenizer.h"

namespace distill::text {

struct tokenize_progress {
    uint64_t files_done = 0, files_total = 0;
    uint64_t bytes_done = 0, bytes_total = 0;  // of the input files
    uint64_t documents = 0, tokens = 0;        // encoded so far (eos included)
    double elapsed_seconds = 0;
    bool writing = false;  // all read; the file is being written
};

// Returns false to stop: tokenize_corpus then throws cancelled and writes
// nothing.
using tokenize_progress_callback = std::function<bool(const tokenize_progress &)>;

// Tokenizes `inputs` into `out`. `on_progress` (may be empty) is called
// about every `progress_interval_seconds` while reading, once when writing
// starts, and not again. Errors: those of read_corpus, the
// text_dataset_writer and write_file_atomically; cancelled when
// `on_progress` returns false (`out` is then left as it was).
text_dataset_summary tokenize_corpus(const tokenizer::bpe_tokenizer & tokenizer,
                                     const std::vector<std::filesystem::path> & inputs,
                                     corpus_layout layout, const text_dataset_options & options,
                                     const std::filesystem::path & out,
                                     const tokenize_progress_callback & on_progress,
                                     double progress_interval_seconds = 0.5);

}  // namespace distill::text
