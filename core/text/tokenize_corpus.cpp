#include "text/tokenize_corpus.h"

#include <chrono>
#include <system_error>

#include "common/error.h"

namespace distill::text {

text_dataset_summary tokenize_corpus(const tokenizer::bpe_tokenizer & tokenizer,
                                     const std::vector<std::filesystem::path> & inputs,
                                     corpus_layout layout, const text_dataset_options & options,
                                     const std::filesystem::path & out,
                                     const tokenize_progress_callback & on_progress,
                                     double progress_interval_seconds) {
    if (inputs.empty()) fail_invalid("inputs: expected at least one corpus file, got none");
    text_dataset_writer writer(tokenizer, options);

    using clock = std::chrono::steady_clock;
    const clock::time_point start = clock::now();
    clock::time_point last_report = start;
    tokenize_progress progress;
    progress.files_total = inputs.size();
    for (const std::filesystem::path & path : inputs) {
        std::error_code error;
        const uintmax_t size = std::filesystem::file_size(path, error);
        // A file that cannot be sized fails with its own message when read.
        if (!error) progress.bytes_total += size;
    }
    auto report = [&](clock::time_point now) {
        progress.documents = writer.documents();
        progress.tokens = writer.tokens();
        progress.elapsed_seconds = std::chrono::duration<double>(now - start).count();
        last_report = now;
        if (on_progress && !on_progress(progress))
            throw error(status::cancelled, "tokenize: stopped by the progress callback after " +
                                               std::to_string(progress.documents) +
                                               " documents; nothing was written to '" +
                                               out.string() + "'");
    };

    read_corpus(inputs, layout, [&](const corpus_document & doc, const corpus_progress & read) {
        writer.add_document(doc.text);
        progress.files_done = read.files_done;
        progress.bytes_done = read.bytes_done;
        const clock::time_point now = clock::now();
        if (std::chrono::duration<double>(now - last_report).count() >= progress_interval_seconds)
            report(now);
    });
    progress.files_done = inputs.size();
    progress.bytes_done = progress.bytes_total;
    progress.writing = true;
    report(clock::now());
    return writer.write(out);
}

}  // namespace distill::text
