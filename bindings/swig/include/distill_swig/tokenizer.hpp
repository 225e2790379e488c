// tokenizer.hpp — the byte-level BPE tokenizer (distill_tokenizer_*):
// tokenizer.json in and out, encode, decode, lookups, training.
//
// Text crosses as bytes (ByteArray in, std::vector<uint8_t> out), never as
// a host string: JNI's string functions speak modified UTF-8 (an emoji
// becomes two 3-byte surrogates, NUL two bytes) and decoded ids may be
// invalid UTF-8. The Java and C# classes convert to and from their strings
// (distill_java.swg, distill_csharp.swg: Utf8 helpers).
#pragma once

#include "core.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

namespace distill_swig {

/// Options of Tokenizer.train (see distill_tokenizer_train_options).
struct TokenizerTrainOptions {
    int32_t vocab_size;    ///< tokens in all, specials included; ≥ 256 + specials (must be set)
    int64_t min_frequency; ///< stop when the best pair occurs fewer times
    std::string split;     ///< "gpt2" (the default), "llama3", or a PCRE2 regex

    TokenizerTrainOptions() {
        distill_tokenizer_train_options defaults{};
        distill_tokenizer_train_options_init(&defaults);
        vocab_size = defaults.vocab_size;
        min_frequency = defaults.min_frequency;
        split = defaults.split ? defaults.split : "gpt2";
    }

    /// Drops the special tokens set so far.
    void clear_special_tokens() { special_tokens_.clear(); }
    /// Appends a special token (UTF-8 bytes): ids 0, 1, ... in the order added.
    void add_special_token(ByteArray token) {
        require_array(token, "token");
        special_tokens_.emplace_back(token.data, size_t(token.length));
    }
    int64_t special_token_count() const { return int64_t(special_tokens_.size()); }
    /// Special token `index` as UTF-8 bytes.
    std::vector<uint8_t> special_token(int64_t index) const {
        if (index < 0 || index >= special_token_count())
            throw Error(DISTILL_STATUS_INVALID_ARGUMENT,
                        "index: expected a special token index in [0, " +
                            std::to_string(special_token_count()) + "), got " + std::to_string(index));
        const std::string & token = special_tokens_[size_t(index)];
        return std::vector<uint8_t>(token.begin(), token.end());
    }

#ifndef SWIG
    const std::vector<std::string> & special_tokens() const { return special_tokens_; }
#endif

private:
    std::vector<std::string> special_tokens_;
};

/// A byte-level BPE tokenizer (GPT-2, Llama 3, Qwen 2) read from and written
/// to Hugging Face tokenizer.json. decode(encode(text)) gives text back byte
/// for byte, invalid UTF-8 included. May be used from several threads at once.
class Tokenizer {
public:
    /// Loads a tokenizer.json file.
    static Tokenizer from_file(const std::string & path) {
        return Tokenizer(share([&] { return distill::Tokenizer::load(path); }));
    }

    /// Loads tokenizer.json text (UTF-8 bytes).
    static Tokenizer from_json(ByteArray json) {
        require_array(json, "json");
        const std::string text(json.data, size_t(json.length));
        return Tokenizer(share([&] { return distill::Tokenizer::from_json(text); }));
    }

    /// Trains on texts laid end to end in `texts`: text i is the next
    /// lengths[i] bytes (the host classes pack their strings so).
    static Tokenizer train_packed(ByteArray texts, LongArray lengths,
                                  const TokenizerTrainOptions * options) {
        require_array(texts, "texts");
        require_array(lengths, "lengths");
        std::vector<std::string> corpus;
        int64_t offset = 0;
        for (int64_t i = 0; i < lengths.length; ++i) {
            const int64_t n = lengths.data[i];
            if (n < 0 || n > texts.length - offset)
                throw Error(DISTILL_STATUS_INVALID_ARGUMENT,
                            "lengths[" + std::to_string(i) + "]: expected a length in [0, " +
                                std::to_string(texts.length - offset) + "], got " + std::to_string(n));
            corpus.emplace_back(texts.data + offset, size_t(n));
            offset += n;
        }
        if (offset != texts.length)
            throw Error(DISTILL_STATUS_INVALID_ARGUMENT,
                        "lengths: expected lengths adding up to the " + std::to_string(texts.length) +
                            " bytes of texts, got " + std::to_string(offset));
        return train(corpus, require(options, "options"));
    }

    /// Trains on the contents of files, each file one text, read as bytes.
    static Tokenizer train_files(const std::vector<std::string> & paths,
                                 const TokenizerTrainOptions * options) {
        const TokenizerTrainOptions & o = require(options, "options");
        if (paths.empty())
            throw Error(DISTILL_STATUS_INVALID_ARGUMENT, "paths: expected at least one file, got none");
        std::vector<std::string> corpus;
        for (const std::string & path : paths) corpus.push_back(read_file(path));
        return train(corpus, o);
    }

    /// The ids of text (bytes).
    std::vector<int32_t> encode(ByteArray text) const {
        require_array(text, "text");
        std::vector<int32_t> ids;
        call([&] { (*handle_).encode(text.data, size_t(text.length), ids); });
        return ids;
    }

    /// Encodes text into ids in place and returns the id count; ids is
    /// written only when it holds them all (2·length + 1 always does), so a
    /// result above ids.length says how large to make it.
    int64_t encode(ByteArray text, IntArray ids) const {
        require_array(text, "text");
        require_array(ids, "ids");
        int64_t count = 0;
        call([&] {
            distill::check(distill_tokenizer_encode(handle_.get(), text.data, text.length, ids.data,
                                                    ids.length, &count));
        });
        return count;
    }

    /// The exact bytes of ids, added and special tokens included.
    std::vector<uint8_t> decode_bytes(IntArray ids) const {
        require_array(ids, "ids");
        const std::string text =
            call([&] { return (*handle_).decode(ids.data, size_t(ids.length)); });
        return std::vector<uint8_t>(text.begin(), text.end());
    }

    /// One more than the largest token id: the row count of an embedding.
    int32_t vocab_size() const { return call([&] { return (*handle_).vocab_size(); }); }

    /// The id of a token spelling (UTF-8 bytes; " the" is spelled "Ġthe"),
    /// or -1 when no token has it.
    int32_t token_id(ByteArray token) const {
        require_array(token, "token");
        const std::string spelling(token.data, size_t(token.length));
        return call([&] { return (*handle_).token_to_id(spelling).value_or(-1); });
    }

    /// The spelling of token `id` as UTF-8 bytes; empty when no token has
    /// that id (no token is spelled empty).
    std::vector<uint8_t> token_spelling(int32_t id) const {
        const std::optional<std::string> token = call([&] { return (*handle_).id_to_token(id); });
        if (!token) return {};
        return std::vector<uint8_t>(token->begin(), token->end());
    }

    /// The tokenizer.json text as UTF-8 bytes.
    std::vector<uint8_t> json_bytes() const {
        const std::string json = call([&] { return (*handle_).to_json(); });
        return std::vector<uint8_t>(json.begin(), json.end());
    }

    /// Writes the tokenizer.json file atomically.
    void save(const std::string & path) const { call([&] { (*handle_).save(path); }); }

#ifndef SWIG
    const distill::Tokenizer & native() const { return *handle_; }
#endif

private:
    explicit Tokenizer(shared_handle<distill::Tokenizer> handle) : handle_(std::move(handle)) {}

    static Tokenizer train(const std::vector<std::string> & corpus, const TokenizerTrainOptions & o) {
        return Tokenizer(share([&] {
            return distill::Tokenizer::train(corpus, o.vocab_size, o.split, o.special_tokens(),
                                             o.min_frequency);
        }));
    }

    // A training file's bytes; its failures as the library words a file's
    // (status name, the path, the system's reason).
    static std::string read_file(const std::string & path) {
        std::error_code error;
        const std::filesystem::file_status status = std::filesystem::status(path, error);
        if (!std::filesystem::exists(status))
            throw Error(DISTILL_STATUS_NOT_FOUND, "NOT_FOUND: reading the training text '" + path +
                                                      "' failed: No such file or directory");
        if (std::filesystem::is_directory(status))
            throw Error(DISTILL_STATUS_IO_ERROR, "IO_ERROR: reading the training text '" + path +
                                                     "' failed: it is a directory");
        std::ifstream in(path, std::ios::binary);
        std::string text;
        if (in.is_open())
            text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (!in.is_open() || in.bad())
            throw Error(DISTILL_STATUS_IO_ERROR, "IO_ERROR: reading the training text '" + path +
                                                     "' failed: " + std::strerror(errno));
        return text;
    }

    shared_handle<distill::Tokenizer> handle_;
};

}  // namespace distill_swig
