#include "text/text_dataset.h"

#include "common/error.h"
#include "common/file_error.h"
#include "text/seeded_permutation.h"
#include "text/text_dataset_writer.h"

namespace distill::text {

namespace {

std::string hex(const std::array<uint8_t, 32> & bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (const uint8_t b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
    return out;
}

}  // namespace

const char * split_name(dataset_split split) {
    return split == dataset_split::train ? "training" : "validation";
}

text_dataset::text_dataset(const std::filesystem::path & path)
    : file_(path), header_(decode_text_dataset_header(file_.bytes(), path.string())) {}

uint64_t text_dataset::tokens(dataset_split split) const {
    return split == dataset_split::train ? header_.train_tokens : header_.validation_tokens;
}

uint64_t text_dataset::documents(dataset_split split) const {
    return split == dataset_split::train ? header_.train_documents : header_.validation_documents;
}

uint64_t text_dataset::windows(dataset_split split) const {
    return window_count(tokens(split), header_.context);
}

void text_dataset::check_fits_model(int64_t model_vocab, int64_t model_context) const {
    const std::string file = "token dataset '" + path().string() + "'";
    if (int64_t(header_.vocab_size) > model_vocab)
        fail_invalid(file + " has a vocabulary of " + std::to_string(header_.vocab_size) +
                     " tokens, larger than the model's " + std::to_string(model_vocab) +
                     ": its ids would index past the embedding (tokenize the corpus with the "
                     "model's tokenizer, or make the model's vocab at least " +
                     std::to_string(header_.vocab_size) + ")");
    if (int64_t(header_.context) > model_context)
        fail_invalid(file + " was packed for a context of " + std::to_string(header_.context) +
                     " tokens, longer than the model's " + std::to_string(model_context) +
                     " (tokenize again with --context " + std::to_string(model_context) + ")");
}

void text_dataset::check_tokenizer(const std::array<uint8_t, 32> & sha256) const {
    if (sha256 != header_.tokenizer_sha256)
        fail_invalid("token dataset '" + path().string() +
                     "' was made with another tokenizer: its tokenizer.json hashes to " +
                     hex(header_.tokenizer_sha256) + ", the one given to " + hex(sha256));
}

token_window text_dataset::window(dataset_split split, uint64_t index) const {
    const uint64_t count = windows(split);
    if (index >= count)
        fail_invalid(std::string(split_name(split)) + " window " + std::to_string(index) +
                     ": expected an index below " + std::to_string(count) + " (the windows of " +
                     std::to_string(header_.context) + " + 1 tokens in " +
                     std::to_string(tokens(split)) + " tokens)");
    const uint64_t offset =
        split == dataset_split::train ? header_.train_offset : header_.validation_offset;
    const uint64_t first = index * header_.context;
    return {file_.data() + offset + first * header_.token_bytes, header_.token_bytes,
            uint64_t(header_.context) + 1};
}

void text_dataset::copy_batch(dataset_split split, const uint64_t * windows, uint64_t count,
                              int32_t * tokens, int32_t * targets) const {
    const uint64_t context = header_.context;
    for (uint64_t b = 0; b < count; ++b) {
        const token_window w = window(split, windows[b]);
        int32_t * row_tokens = tokens + b * context;
        int32_t * row_targets = targets + b * context;
        for (uint64_t t = 0; t <= context; ++t) {
            const uint32_t id = w.at(t);
            if (id >= header_.vocab_size)
                fail_corrupt("token dataset '" + path().string() + "': " + split_name(split) +
                             " window " + std::to_string(windows[b]) + " position " +
                             std::to_string(t) + " holds id " + std::to_string(id) +
                             ", expected an id below the vocabulary's " +
                             std::to_string(header_.vocab_size));
            if (t < context) row_tokens[t] = int32_t(id);
            if (t > 0) row_targets[t - 1] = int32_t(id);
        }
    }
}

std::vector<uint64_t> text_dataset::shuffled_windows(dataset_split split, uint64_t seed) const {
    return seeded_permutation(windows(split), seed);
}

}  // namespace distill::text
