#include "text/text_dataset_format.h"

#include <bit>
#include <cstring>

#include "common/file_error.h"

namespace distill::text {

static_assert(std::endian::native == std::endian::little,
              "the token dataset file is little-endian and read in place");

namespace {

uint64_t round_up(uint64_t value, uint64_t to) { return (value + to - 1) / to * to; }

template <class T>
void put(std::string & bytes, size_t offset, T value) {
    std::memcpy(bytes.data() + offset, &value, sizeof value);
}

template <class T>
T get(std::string_view bytes, size_t offset) {
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof value);
    return value;
}

std::string printable(std::string_view bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (const char c : bytes) {
        const auto byte = uint8_t(c);
        if (byte >= 0x20 && byte < 0x7f && c != '\\' && c != '"') {
            out.push_back(c);
        } else {
            out += "\\x";
            out.push_back(digits[byte >> 4]);
            out.push_back(digits[byte & 15]);
        }
    }
    return out;
}

}  // namespace

text_dataset_header make_text_dataset_header(text_dataset_header header) {
    header.token_bytes = token_bytes_for_vocab(header.vocab_size);
    header.train_offset = text_dataset_header_bytes;
    header.validation_offset = round_up(
        header.train_offset + header.train_tokens * header.token_bytes, text_dataset_alignment);
    return header;
}

std::string encode_text_dataset_header(const text_dataset_header & h) {
    std::string bytes(text_dataset_header_bytes, '\0');
    std::memcpy(bytes.data(), text_dataset_magic, sizeof text_dataset_magic);
    put(bytes, 8, text_dataset_format_version);
    put(bytes, 12, text_dataset_header_bytes);
    put(bytes, 16, h.token_bytes);
    put(bytes, 20, h.context);
    put(bytes, 24, h.vocab_size);
    put(bytes, 28, h.eos_id);
    put(bytes, 32, h.train_tokens);
    put(bytes, 40, h.validation_tokens);
    put(bytes, 48, h.train_documents);
    put(bytes, 56, h.validation_documents);
    put(bytes, 64, h.train_offset);
    put(bytes, 72, h.validation_offset);
    std::memcpy(bytes.data() + 80, h.tokenizer_sha256.data(), 32);
    put(bytes, 112, h.split_seed);
    put(bytes, 120, h.validation_fraction);
    return bytes;
}

text_dataset_header decode_text_dataset_header(std::string_view bytes, const std::string & name) {
    const std::string file = "'" + name + "'";
    const std::string_view magic(text_dataset_magic, sizeof text_dataset_magic);
    if (bytes.size() < magic.size() || bytes.substr(0, magic.size()) != magic)
        fail_corrupt(file + " is not a distill token dataset: expected the magic \"" +
                     std::string(magic) + "\", found \"" +
                     printable(bytes.substr(0, magic.size())) + "\"" +
                     (bytes.size() < magic.size()
                          ? " (the file is only " + std::to_string(bytes.size()) + " bytes)"
                          : ""));
    if (bytes.size() < text_dataset_header_bytes)
        fail_corrupt(file + " is " + std::to_string(bytes.size()) +
                     " bytes, shorter than the " + std::to_string(text_dataset_header_bytes) +
                     "-byte header of a token dataset (truncated?)");
    const auto version = get<uint32_t>(bytes, 8);
    if (version != text_dataset_format_version)
        fail_corrupt(file + ": token dataset format version " + std::to_string(version) +
                     ", expected " + std::to_string(text_dataset_format_version) +
                     " (written by another version of distill?)");
    const auto header_bytes = get<uint32_t>(bytes, 12);
    if (header_bytes != text_dataset_header_bytes)
        fail_corrupt(file + ": header of " + std::to_string(header_bytes) +
                     " bytes, expected " + std::to_string(text_dataset_header_bytes));

    text_dataset_header h;
    h.token_bytes = get<uint32_t>(bytes, 16);
    h.context = get<uint32_t>(bytes, 20);
    h.vocab_size = get<uint32_t>(bytes, 24);
    h.eos_id = get<uint32_t>(bytes, 28);
    h.train_tokens = get<uint64_t>(bytes, 32);
    h.validation_tokens = get<uint64_t>(bytes, 40);
    h.train_documents = get<uint64_t>(bytes, 48);
    h.validation_documents = get<uint64_t>(bytes, 56);
    h.train_offset = get<uint64_t>(bytes, 64);
    h.validation_offset = get<uint64_t>(bytes, 72);
    std::memcpy(h.tokenizer_sha256.data(), bytes.data() + 80, 32);
    h.split_seed = get<uint64_t>(bytes, 112);
    h.validation_fraction = get<double>(bytes, 120);

    if (h.vocab_size == 0 || h.vocab_size > uint32_t(INT32_MAX))
        fail_corrupt(file + ": vocab_size " + std::to_string(h.vocab_size) +
                     ", expected 1 to " + std::to_string(INT32_MAX));
    const uint32_t width = token_bytes_for_vocab(h.vocab_size);
    if (h.token_bytes != width)
        fail_corrupt(file + ": tokens of " + std::to_string(h.token_bytes) +
                     " bytes, expected " + std::to_string(width) + " for a vocabulary of " +
                     std::to_string(h.vocab_size));
    if (h.eos_id >= h.vocab_size)
        fail_corrupt(file + ": eos_id " + std::to_string(h.eos_id) + ", expected an id below " +
                     std::to_string(h.vocab_size));
    if (h.context == 0) fail_corrupt(file + ": context 0, expected at least 1");
    if (h.train_offset != text_dataset_header_bytes)
        fail_corrupt(file + ": training tokens at byte " + std::to_string(h.train_offset) +
                     ", expected " + std::to_string(text_dataset_header_bytes));
    // Counts past what any file can hold are refused before the arithmetic
    // below could overflow.
    const uint64_t limit = (uint64_t(1) << 60) / width;
    if (h.train_tokens > limit || h.validation_tokens > limit)
        fail_corrupt(file + ": token counts " + std::to_string(h.train_tokens) + " and " +
                     std::to_string(h.validation_tokens) + ", expected at most " +
                     std::to_string(limit));
    const text_dataset_header expected = make_text_dataset_header(h);
    if (h.validation_offset != expected.validation_offset)
        fail_corrupt(file + ": validation tokens at byte " + std::to_string(h.validation_offset) +
                     ", expected " + std::to_string(expected.validation_offset) + " after " +
                     std::to_string(h.train_tokens) + " training tokens");
    const uint64_t size = h.validation_offset + h.validation_tokens * width;
    if (bytes.size() != size)
        fail_corrupt(file + " is " + std::to_string(bytes.size()) + " bytes, expected " +
                     std::to_string(size) + ": " + std::to_string(h.train_tokens) +
                     " training and " + std::to_string(h.validation_tokens) +
                     " validation tokens of " + std::to_string(width) + " bytes after a " +
                     std::to_string(text_dataset_header_bytes) + "-byte header" +
                     (bytes.size() < size ? " (truncated?)" : " (trailing bytes)"));
    if ((h.train_tokens > 0) != (h.train_documents > 0) ||
        (h.validation_tokens > 0) != (h.validation_documents > 0) ||
        h.train_documents > h.train_tokens || h.validation_documents > h.validation_tokens)
        fail_corrupt(file + ": " + std::to_string(h.train_documents) + " training and " +
                     std::to_string(h.validation_documents) +
                     " validation documents, expected at most one per token (" +
                     std::to_string(h.train_tokens) + " and " +
                     std::to_string(h.validation_tokens) + " tokens)");
    return h;
}

}  // namespace distill::text
