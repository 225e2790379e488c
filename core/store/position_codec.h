// The packed, compressed form of a record's positions and embeddings, as
// stored in the store's BLOB columns. JSON text costs ~2 kB per position at
// top-k 20 (OpenAI's answer: texts, bytes arrays, 17-digit floats); this
// costs well under 100 bytes.
//
// positions blob, format 2 (little-endian, then zstd). Column by column, so
// that like values sit together for zstd; tokens are numbered store-wide
// (token_texts below: the store's token_texts table), each stored once per
// store, not once per record:
//   u32 format (= 2)
//   varint P
//   varint with_ids                 1 when any token has an id, else 0
//   P × varint K                    top-k size of each position
//   P × varint chosen               r + 1: the position's token is top[r]
//                                   (same text and id, and the same
//                                   log-probability at fp16, as in ~all real
//                                   answers); 0: given below
//   P × varint bytes                0: the token's bytes are its text;
//                                   t + 1: they are entry t
//   C × varint token                the C positions with chosen = 0
//   P × f32 logprob                 as 4 byte planes (writer::put_planes)
//   ΣK × varint token
//   N × u16 fp16 logprob bits       as 2 byte planes; N = ΣK less the
//                                   entries that are the chosen token (their
//                                   value is the chosen one's, in fp16);
//                                   delta-coded within a position (bits −
//                                   the previous entry's bits, mod 2^16): a
//                                   top-k list is sorted, so deltas are
//                                   small and mostly zero in the high byte
// A token is t, its text being entry t, when with_ids = 0; else 2·t for
// one without id (-1) whose text is entry t, 2·t + 1 for one with an id,
// entry t then being "i32 id ‖ text" (an id always comes with the same
// text, so the pair costs no more than the text).
// The chosen token's log-probability stays fp32 (it is the sequence's
// likelihood); the top-k ones are fp16: |error| ≤ 2^-11 · |logprob|, below
// what distillation can see; -inf and NaN (absent_logprob) survive. A
// record decodes to round_to_stored_precision of the record encoded.
//
// Format 1 (schema version 1 stores) is still read: the same columns with a
// per-blob string table (varint S, S × {varint length, bytes}), then
// P × i32 id, P × f32 logprob, P × varint token, P × varint bytes,
// P × varint K, ΣK × i32 id, ΣK × u16 fp16 logprob, ΣK × varint token.
//
// embeddings blob: u32 format (= 1), u32 E, E × { u32 D, D × f32 }, zstd.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "teachers/teacher_record.h"

namespace distill {

// The store-wide numbering of token texts that format 2 refers to.
class token_texts {
public:
    virtual ~token_texts() = default;
    // The id of `text`, numbering it when new.
    virtual uint64_t id_of(const std::string & text) = 0;
    // The text numbered `id`, or nullptr when no text has that id; valid
    // until the next call.
    virtual const std::string * text_of(uint64_t id) = 0;
};

std::string encode_positions(const std::vector<token_position> & positions, token_texts & texts);
// Throws internal error naming `what` on a damaged blob.
std::vector<token_position> decode_positions(const std::string & blob, token_texts & texts,
                                             const std::string & what);

std::string encode_embeddings(const std::vector<std::vector<float>> & embeddings);
std::vector<std::vector<float>> decode_embeddings(const std::string & blob,
                                                  const std::string & what);

}  // namespace distill
