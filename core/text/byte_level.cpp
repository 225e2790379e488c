#include "text/byte_level.h"

#include <array>

namespace distill::tokenizer {

namespace {

bool stands_for_itself(unsigned b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct alphabet_tables {
    std::array<char32_t, 256> code_point{};
    // Inverse over U+0000..U+0143 (the highest mapped code point is
    // U+0100 + 67); -1 where no byte maps.
    std::array<int16_t, 0x144> byte{};
    alphabet_tables() {
        byte.fill(-1);
        unsigned shifted = 0;
        for (unsigned b = 0; b < 256; ++b) {
            code_point[b] = stands_for_itself(b) ? char32_t(b) : char32_t(0x100 + shifted++);
            byte[code_point[b]] = int16_t(b);
        }
    }
};

const alphabet_tables & tables() {
    static const alphabet_tables t;
    return t;
}

}  // namespace

char32_t byte_to_code_point(uint8_t b) { return tables().code_point[b]; }

std::optional<uint8_t> code_point_to_byte(char32_t c) {
    if (c >= tables().byte.size() || tables().byte[c] < 0) return std::nullopt;
    return uint8_t(tables().byte[c]);
}

void append_utf8(std::string & out, char32_t c) {
    if (c < 0x80) {
        out.push_back(char(c));
    } else if (c < 0x800) {
        out.push_back(char(0xC0 | (c >> 6)));
        out.push_back(char(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(char(0xE0 | (c >> 12)));
        out.push_back(char(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(char(0x80 | (c & 0x3F)));
    } else {
        out.push_back(char(0xF0 | (c >> 18)));
        out.push_back(char(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(char(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(char(0x80 | (c & 0x3F)));
    }
}

std::optional<char32_t> next_code_point(std::string_view text, size_t & pos) {
    const auto byte = [&](size_t i) { return uint8_t(text[i]); };
    if (pos >= text.size()) return std::nullopt;
    const uint8_t lead = byte(pos);
    size_t length = 0;
    char32_t c = 0;
    if (lead < 0x80) {
        ++pos;
        return char32_t(lead);
    } else if ((lead & 0xE0) == 0xC0) {
        length = 2, c = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3, c = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4, c = lead & 0x07;
    } else {
        return std::nullopt;
    }
    if (pos + length > text.size()) return std::nullopt;
    for (size_t i = 1; i < length; ++i) {
        if ((byte(pos + i) & 0xC0) != 0x80) return std::nullopt;
        c = (c << 6) | (byte(pos + i) & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are invalid.
    static constexpr char32_t smallest[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < smallest[length] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return std::nullopt;
    pos += length;
    return c;
}

std::string bytes_to_alphabet(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char b : bytes) append_utf8(out, byte_to_code_point(uint8_t(b)));
    return out;
}

std::optional<std::string> alphabet_to_bytes(std::string_view alphabet) {
    std::string out;
    out.reserve(alphabet.size());
    size_t pos = 0;
    while (pos < alphabet.size()) {
        const std::optional<char32_t> c = next_code_point(alphabet, pos);
        if (!c) return std::nullopt;
        const std::optional<uint8_t> b = code_point_to_byte(*c);
        if (!b) return std::nullopt;
        out.push_back(char(*b));
    }
    return out;
}

}  // namespace distill::tokenizer
