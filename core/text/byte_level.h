// The byte-level alphabet of GPT-2's BPE (the ByteLevel pre-tokenizer and
// decoder of Hugging Face tokenizers): every byte stands for one printable
// code point, so that any byte string, valid UTF-8 or not, is a string of
// vocabulary characters. Bytes '!'..'~', U+00A1..U+00AC and U+00AE..U+00FF
// stand for themselves; every other byte b, in increasing order, is
// U+0100 + n (n counting from 0): a space is 'Ġ' (U+0120), '\n' is 'Ċ'.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace distill::tokenizer {

// The code point that byte `b` stands for.
char32_t byte_to_code_point(uint8_t b);

// The byte that code point `c` stands for, or nullopt outside the alphabet.
std::optional<uint8_t> code_point_to_byte(char32_t c);

// `bytes` spelled in the alphabet (UTF-8 of the mapped code points).
std::string bytes_to_alphabet(std::string_view bytes);

// The bytes an alphabet string spells; nullopt when it holds a character
// outside the alphabet or is not valid UTF-8.
std::optional<std::string> alphabet_to_bytes(std::string_view alphabet);

// UTF-8 helpers. append_utf8 writes code point c; next_code_point reads the
// one at text[pos] and advances pos, or returns nullopt (pos unchanged) on
// an invalid sequence.
void append_utf8(std::string & out, char32_t c);
std::optional<char32_t> next_code_point(std::string_view text, size_t & pos);

}  // namespace distill::tokenizer
