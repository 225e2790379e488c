// A token dataset file (text/text_dataset_format.h) mapped read-only: the
// tokens stay on disk and come into memory page by page as windows are
// read, so a corpus larger than RAM trains as well as a small one.
//
// Windows (text/text_dataset_writer.h, window_count): window i of a split
// is its tokens [i·context, i·context + context + 1): the model reads the
// first `context` and predicts each next one. Consecutive windows share one
// token (the last target of one is the first input of the next), and the
// split's tail shorter than a whole window is not served. Windows cross
// document boundaries; the end-of-document id between two documents tells
// the model where one ends.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/mapped_file.h"
#include "text/text_dataset_format.h"

namespace distill::text {

enum class dataset_split { train = 0, validation = 1 };
const char * split_name(dataset_split split);

// A window's tokens in the file: `length` tokens of `token_bytes` bytes
// (2: read `tokens` as const uint16_t *, 4: as const uint32_t *), inside
// the mapping (valid while the dataset lives).
struct token_window {
    const void * tokens;
    uint32_t token_bytes;
    uint64_t length;
    uint32_t at(uint64_t i) const {
        return token_bytes == 2 ? static_cast<const uint16_t *>(tokens)[i]
                                : static_cast<const uint32_t *>(tokens)[i];
    }
};

class text_dataset {
public:
    // Maps and checks the header against the file (decode_text_dataset_header):
    // corrupt_file for a truncated, foreign or other-version file;
    // not_found / io_error when it cannot be opened.
    explicit text_dataset(const std::filesystem::path & path);

    const text_dataset_header & header() const { return header_; }
    const std::filesystem::path & path() const { return file_.path(); }
    uint32_t context() const { return header_.context; }
    uint32_t vocab_size() const { return header_.vocab_size; }
    uint64_t tokens(dataset_split split) const;
    uint64_t documents(dataset_split split) const;
    uint64_t windows(dataset_split split) const;

    // Throws invalid_argument when the dataset cannot feed a model of
    // `model_vocab` ids and `model_context` positions: a vocabulary larger
    // than the model's (its ids would index past the embedding) or a
    // context longer than the model's, each naming both numbers.
    void check_fits_model(int64_t model_vocab, int64_t model_context) const;
    // Throws invalid_argument when `sha256` is not the hash of the
    // tokenizer the file was made with (both shown in hex).
    void check_tokenizer(const std::array<uint8_t, 32> & sha256) const;

    // Window `index` of `split`; invalid_argument naming the index and the
    // count when it is past the last.
    token_window window(dataset_split split, uint64_t index) const;

    // For b < count, window windows[b] of `split` as
    //   tokens  [count, context]  int32: its first context tokens
    //   targets [count, context]  int32: its last context tokens
    // Throws invalid_argument for an index past the last window, and
    // corrupt_file naming the split, window and position of an id at or
    // above vocab_size (a damaged file).
    void copy_batch(dataset_split split, const uint64_t * windows, uint64_t count,
                    int32_t * tokens, int32_t * targets) const;

    // A permutation of the windows of `split` for one epoch: the same seed
    // gives the same order on every machine (text/seeded_permutation.h).
    std::vector<uint64_t> shuffled_windows(dataset_split split, uint64_t seed) const;

private:
    mapped_file file_;
    text_dataset_header header_;
};

}  // namespace distill::text
