// The packed, compressed form of a record's positions and embeddings, as
// stored in the store's BLOB columns. JSON text would cost ~25 bytes per
// top-k entry; this costs ~7 (int32 id, fp16 log-probability, a string index) before zstd.
//
// positions blob (little-endian, then zstd), column by column so that
// like values sit together for zstd, and every text once (a token and its
// alternatives repeat across positions):
//   u32 format (= 1)
//   varint S, S × { varint length, bytes }        the distinct strings
//   varint P
//   P × i32 id, P × f32 logprob, P × varint token, P × varint bytes,
//   P × varint K                                  (token/bytes: string index)
//   ΣK × i32 id, ΣK × u16 fp16 logprob, ΣK × varint token
// varint = unsigned LEB128. The chosen token's log-probability stays fp32
// (it is the sequence's likelihood); the top-k ones are fp16:
// |error| ≤ 2^-11 · |logprob|, below what distillation can see; -inf
// survives exactly.
// embeddings blob: u32 format (= 1), u32 E, E × { u32 D, D × f32 }, zstd.
#pragma once

#include <string>
#include <vector>

#include "teachers/teacher_record.h"

namespace distill {

std::string encode_positions(const std::vector<token_position> & positions);
// Throws internal error naming `what` on a damaged blob.
std::vector<token_position> decode_positions(const std::string & blob, const std::string & what);

std::string encode_embeddings(const std::vector<std::vector<float>> & embeddings);
std::vector<std::vector<float>> decode_embeddings(const std::string & blob,
                                                  const std::string & what);

}  // namespace distill
