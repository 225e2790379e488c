#include "text/text_dataset_writer.h"

#include <cmath>
#include <algorithm>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/sha256.h"
#include "text/seeded_permutation.h"
#include "text/tokenizer_json.h"

namespace distill::text {

std::array<uint8_t, 32> tokenizer_sha256(const tokenizer::bpe_tokenizer & tokenizer) {
    return sha256(tokenizer::tokenizer_json(tokenizer));
}

std::vector<bool> validation_documents(uint64_t documents, double fraction, uint64_t seed) {
    std::vector<bool> validation(documents, false);
    if (fraction <= 0) return validation;
    if (documents < 2)
        fail_invalid("validation fraction " + std::to_string(fraction) +
                     ": a split by document needs at least 2 documents, got " +
                     std::to_string(documents) + " (use a validation fraction of 0, or cut the "
                     "corpus into more documents)");
    auto count = uint64_t(std::llround(fraction * double(documents)));
    if (count < 1) count = 1;
    if (count > documents - 1) count = documents - 1;
    const std::vector<uint64_t> order = seeded_permutation(documents, seed);
    for (uint64_t i = 0; i < count; ++i) validation[order[i]] = true;
    return validation;
}

text_dataset_writer::text_dataset_writer(const tokenizer::bpe_tokenizer & tokenizer,
                                         text_dataset_options options)
    : tokenizer_(tokenizer), options_(std::move(options)) {
    if (options_.context < 1)
        fail_invalid("context: expected at least 1 token, got " + std::to_string(options_.context));
    if (!(options_.validation_fraction >= 0 && options_.validation_fraction < 1))
        fail_invalid("validation fraction: expected a number in [0, 1), got " +
                     std::to_string(options_.validation_fraction));
    const tokenizer::added_token * eos = tokenizer.added().by_content(options_.eos_token);
    if (eos == nullptr) {
        std::string names;
        for (const tokenizer::added_token & t : tokenizer.added().tokens())
            names += (names.empty() ? "" : ", ") + t.content;
        fail_invalid("end-of-document token '" + options_.eos_token +
                     "': the tokenizer has no added token of that content (it has " +
                     (names.empty() ? std::string("none") : names) + ")");
    }
    eos_id_ = eos->id;
    token_bytes_ = token_bytes_for_vocab(uint64_t(tokenizer.vocab_size()));
    tokenizer_sha256_ = tokenizer_sha256(tokenizer);
}

void text_dataset_writer::add_document(std::string_view text) {
    scratch_.clear();
    tokenizer_.encode(text, scratch_);
    scratch_.push_back(eos_id_);
    // Ids are in [0, vocab_size), so the narrowing to uint16 is exact.
    if (token_bytes_ == 2) ids16_.insert(ids16_.end(), scratch_.begin(), scratch_.end());
    else ids32_.insert(ids32_.end(), scratch_.begin(), scratch_.end());
    document_ends_.push_back(tokens() + scratch_.size());
}

namespace {

// Appends ids[begin, end) to `sink`, a chunk at a time (the ids are
// already in the file's width and byte order).
template <class Id>
void write_tokens(const atomic_file_sink & sink, const std::vector<Id> & ids, uint64_t begin,
                  uint64_t end) {
    constexpr uint64_t chunk_tokens = uint64_t(1) << 20;
    for (uint64_t at = begin; at < end; at += chunk_tokens) {
        const uint64_t n = std::min(chunk_tokens, end - at);
        sink({reinterpret_cast<const char *>(ids.data() + at), n * sizeof(Id)});
    }
}

}  // namespace

text_dataset_summary text_dataset_writer::write(const std::filesystem::path & path) const {
    const std::vector<bool> validation = validation_documents(
        document_ends_.size(), options_.validation_fraction, options_.seed);

    text_dataset_header counts;
    counts.context = uint32_t(options_.context);
    counts.vocab_size = uint32_t(tokenizer_.vocab_size());
    counts.eos_id = uint32_t(eos_id_);
    counts.tokenizer_sha256 = tokenizer_sha256_;
    counts.split_seed = options_.seed;
    counts.validation_fraction = options_.validation_fraction;
    for (size_t d = 0; d < document_ends_.size(); ++d) {
        const uint64_t length = document_ends_[d] - (d ? document_ends_[d - 1] : 0);
        if (validation[d]) {
            counts.validation_tokens += length;
            ++counts.validation_documents;
        } else {
            counts.train_tokens += length;
            ++counts.train_documents;
        }
    }
    const text_dataset_header header = make_text_dataset_header(counts);

    text_dataset_summary summary;
    summary.header = header;
    summary.train_windows = window_count(header.train_tokens, header.context);
    summary.validation_windows = window_count(header.validation_tokens, header.context);
    auto refuse_empty = [&](const char * split, uint64_t tokens, uint64_t documents) {
        fail_invalid(std::string(split) + " split: " + std::to_string(tokens) + " tokens in " +
                     std::to_string(documents) + " documents, fewer than one window of context + 1 = " +
                     std::to_string(uint64_t(header.context) + 1) +
                     " tokens (use a shorter context or a larger corpus" +
                     (std::string(split) == "validation" ? ", or a larger validation fraction)"
                                                         : ")"));
    };
    if (summary.train_windows == 0)
        refuse_empty("training", header.train_tokens, header.train_documents);
    if (options_.validation_fraction > 0 && summary.validation_windows == 0)
        refuse_empty("validation", header.validation_tokens, header.validation_documents);
    summary.file_bytes = header.validation_offset + header.validation_tokens * header.token_bytes;

    write_file_atomically(path, [&](const atomic_file_sink & sink) {
        sink(encode_text_dataset_header(header));
        for (const bool want_validation : {false, true}) {
            if (want_validation) {
                const uint64_t written =
                    header.train_offset + header.train_tokens * header.token_bytes;
                sink(std::string(header.validation_offset - written, '\0'));
            }
            // Runs of consecutive documents of this split, written at once.
            uint64_t run_begin = 0;
            bool in_run = false;
            for (size_t d = 0; d <= document_ends_.size(); ++d) {
                const bool take = d < document_ends_.size() && validation[d] == want_validation;
                const uint64_t begin = d ? document_ends_[d - 1] : 0;
                if (take && !in_run) {
                    run_begin = begin;
                    in_run = true;
                } else if (!take && in_run) {
                    if (token_bytes_ == 2) write_tokens(sink, ids16_, run_begin, begin);
                    else write_tokens(sink, ids32_, run_begin, begin);
                    in_run = false;
                }
            }
        }
    });
    return summary;
}

}  // namespace distill::text
