// The token dataset file (*.tokens): a corpus encoded by one tokenizer,
// each document's ids followed by an end-of-document id, the documents of
// the training split concatenated, then those of the validation split.
// Little-endian throughout; the token arrays start on 64-byte boundaries so
// that a mapping can be read as uint16_t / uint32_t arrays directly.
//
//   offset size  field
//        0    8  magic "DSTLTOKS"
//        8    4  format_version (1)
//       12    4  header_bytes (128)
//       16    4  token_bytes: 2 when vocab_size <= 65536, else 4
//       20    4  context: the window length the file was packed for
//       24    4  vocab_size: one more than the largest id the tokenizer has
//       28    4  eos_id: the end-of-document id
//       32    8  train_tokens
//       40    8  validation_tokens
//       48    8  train_documents
//       56    8  validation_documents
//       64    8  train_offset: byte offset of the training tokens (128)
//       72    8  validation_offset: the next 64-byte boundary after them
//       80   32  tokenizer_sha256: SHA-256 of the tokenizer's tokenizer.json
//                as the library writes it (text/tokenizer_json.h), so the
//                same tokenizer saved with other whitespace has one hash
//      112    8  split_seed
//      120    8  validation_fraction (IEEE-754 binary64)
//      128       the training tokens, zero padding, the validation tokens;
//                the file ends with the last validation token.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace distill::text {

inline constexpr char text_dataset_magic[8] = {'D', 'S', 'T', 'L', 'T', 'O', 'K', 'S'};
inline constexpr uint32_t text_dataset_format_version = 1;
inline constexpr uint32_t text_dataset_header_bytes = 128;
inline constexpr uint64_t text_dataset_alignment = 64;

struct text_dataset_header {
    uint32_t token_bytes = 0;
    uint32_t context = 0;
    uint32_t vocab_size = 0;
    uint32_t eos_id = 0;
    uint64_t train_tokens = 0;
    uint64_t validation_tokens = 0;
    uint64_t train_documents = 0;
    uint64_t validation_documents = 0;
    uint64_t train_offset = 0;
    uint64_t validation_offset = 0;
    std::array<uint8_t, 32> tokenizer_sha256{};
    uint64_t split_seed = 0;
    double validation_fraction = 0;
};

// 2 or 4: the narrowest width that holds every id of the vocabulary.
inline uint32_t token_bytes_for_vocab(uint64_t vocab_size) { return vocab_size <= 65536 ? 2 : 4; }

// The header of a file holding the given counts: widths and offsets filled
// in from vocab_size and the token counts.
text_dataset_header make_text_dataset_header(text_dataset_header counts);

// The 128 header bytes.
std::string encode_text_dataset_header(const text_dataset_header & header);

// The header of the file `bytes` (its whole content, `name` for messages),
// checked against the file: the magic, the version, the header size, the
// token width against the vocabulary, eos_id inside it, context > 0, the
// offsets where the counts put them and the file's size exactly what they
// add up to. Throws corrupt_file saying what was expected and what was
// found ("'d.tokens' is 1000 bytes, expected 1152: 64 training and 448
// validation tokens of 2 bytes after a 128-byte header (truncated?)").
text_dataset_header decode_text_dataset_header(std::string_view bytes, const std::string & name);

}  // namespace distill::text
