// distill_tokenizer_*: the byte-level BPE tokenizer of core/tokenizer over
// the C ABI (buffers filled the snprintf way: the full size always, the
// bytes only when they fit).
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api_guard.h"
#include "text/bpe_trainer.h"
#include "text/tokenizer_json.h"
#include "tokenizer_handle.h"
#include "versioned_struct.h"

using distill::capi::guarded;
using distill::capi::require_pointer;

namespace {

const distill::tokenizer::bpe_tokenizer & unwrap(const distill_tokenizer * handle) {
    require_pointer(handle, "tokenizer", "a tokenizer from distill_tokenizer_load, _from_json or _train");
    return *handle->tokenizer;
}

distill_tokenizer * adopt(std::unique_ptr<distill::tokenizer::bpe_tokenizer> tokenizer) {
    auto handle = std::make_unique<distill_tokenizer>();
    handle->tokenizer = std::move(tokenizer);
    return handle.release();
}

// text[0, length) with the usual checks of a (pointer, length) argument.
std::string_view bytes_argument(const char * text, int64_t length, const char * name) {
    if (length < 0)
        distill::fail_invalid(std::string(name) + ": expected a length ≥ 0, got " +
                              std::to_string(length));
    if (length > 0) require_pointer(text, name, "the bytes (length > 0)");
    return length == 0 ? std::string_view() : std::string_view(text, size_t(length));
}

void check_capacity(const void * out, int64_t capacity, const char * name) {
    if (capacity < 0)
        distill::fail_invalid(std::string(name) + " capacity: expected ≥ 0, got " +
                              std::to_string(capacity));
    if (capacity > 0) require_pointer(out, name, "a buffer of `capacity` elements");
}

// The snprintf rule for bytes.
void give_bytes(const std::string & bytes, char * out, int64_t capacity, int64_t * out_length) {
    if (int64_t(bytes.size()) <= capacity && !bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
    *out_length = int64_t(bytes.size());
}

distill_tokenizer_train_options default_train_options() {
    distill_tokenizer_train_options o{};
    o.struct_size = sizeof o;
    o.vocab_size = 0;
    o.min_frequency = 2;
    o.split = nullptr;
    o.special_tokens = nullptr;
    o.special_token_count = 0;
    return o;
}

}  // namespace

extern "C" {

distill_status distill_tokenizer_load(const char * path, distill_tokenizer ** out) {
    return guarded([&] {
        require_pointer(path, "path", "a tokenizer.json file");
        require_pointer(out, "out", "a place for the new tokenizer");
        *out = adopt(distill::tokenizer::load_tokenizer_file(path));
    });
}

distill_status distill_tokenizer_from_json(const char * json, int64_t length,
                                           distill_tokenizer ** out) {
    return guarded([&] {
        const std::string_view text = bytes_argument(json, length, "json");
        require_pointer(out, "out", "a place for the new tokenizer");
        *out = adopt(distill::tokenizer::load_tokenizer_json(text));
    });
}

void distill_tokenizer_free(distill_tokenizer * tokenizer) { delete tokenizer; }

distill_status distill_tokenizer_encode(const distill_tokenizer * tokenizer, const char * text,
                                        int64_t length, int32_t * ids, int64_t capacity,
                                        int64_t * out_count) {
    return guarded([&] {
        const auto & t = unwrap(tokenizer);
        const std::string_view bytes = bytes_argument(text, length, "text");
        check_capacity(ids, capacity, "ids");
        require_pointer(out_count, "out_count", "a place for the number of ids");
        const std::vector<int32_t> result = t.encode(bytes);
        if (int64_t(result.size()) <= capacity && !result.empty())
            std::memcpy(ids, result.data(), result.size() * sizeof(int32_t));
        *out_count = int64_t(result.size());
    });
}

distill_status distill_tokenizer_decode(const distill_tokenizer * tokenizer, const int32_t * ids,
                                        int64_t count, char * out, int64_t capacity,
                                        int64_t * out_length) {
    return guarded([&] {
        const auto & t = unwrap(tokenizer);
        if (count < 0) distill::fail_invalid("count: expected ≥ 0, got " + std::to_string(count));
        if (count > 0) require_pointer(ids, "ids", "count token ids");
        check_capacity(out, capacity, "out");
        require_pointer(out_length, "out_length", "a place for the number of bytes");
        give_bytes(t.decode(ids, size_t(count)), out, capacity, out_length);
    });
}

distill_status distill_tokenizer_vocab_size(const distill_tokenizer * tokenizer, int32_t * out) {
    return guarded([&] {
        const auto & t = unwrap(tokenizer);
        require_pointer(out, "out", "a place for the vocabulary size");
        *out = t.vocab_size();
    });
}

distill_status distill_tokenizer_token_to_id(const distill_tokenizer * tokenizer, const char * token,
                                             int64_t length, int32_t * out_id) {
    return guarded([&] {
        const auto & t = unwrap(tokenizer);
        const std::string_view spelling = bytes_argument(token, length, "token");
        require_pointer(out_id, "out_id", "a place for the id");
        const std::optional<int32_t> id = t.token_to_id(spelling);
        if (!id)
            throw distill::error(distill::status::not_found,
                                 "token: no token is spelled \"" + std::string(spelling) +
                                     "\" (model tokens are in the byte-level alphabet: \" the\" "
                                     "is \"\xC4\xA0the\")");
        *out_id = *id;
    });
}

distill_status distill_tokenizer_id_to_token(const distill_tokenizer * tokenizer, int32_t id,
                                             char * out, int64_t capacity, int64_t * out_length) {
    return guarded([&] {
        const auto & t = unwrap(tokenizer);
        check_capacity(out, capacity, "out");
        require_pointer(out_length, "out_length", "a place for the number of bytes");
        const std::optional<std::string> token = t.id_to_token(id);
        if (!token)
            throw distill::error(distill::status::not_found,
                                 "id: expected a token id in [0, " + std::to_string(t.vocab_size()) +
                                     ") that a token has, got " + std::to_string(id));
        give_bytes(*token, out, capacity, out_length);
    });
}

distill_status distill_tokenizer_to_json(const distill_tokenizer * tokenizer, char * out,
                                         int64_t capacity, int64_t * out_length) {
    return guarded([&] {
        const auto & t = unwrap(tokenizer);
        check_capacity(out, capacity, "out");
        require_pointer(out_length, "out_length", "a place for the number of bytes");
        give_bytes(distill::tokenizer::tokenizer_json(t), out, capacity, out_length);
    });
}

distill_status distill_tokenizer_save(const distill_tokenizer * tokenizer, const char * path) {
    return guarded([&] {
        const auto & t = unwrap(tokenizer);
        require_pointer(path, "path", "where to write tokenizer.json");
        distill::tokenizer::save_tokenizer_file(t, path);
    });
}

distill_status distill_tokenizer_train_options_init(distill_tokenizer_train_options * options) {
    return guarded([&] {
        require_pointer(options, "options", "a distill_tokenizer_train_options to fill");
        *options = default_train_options();
    });
}

distill_status distill_tokenizer_train(const char * const * texts, const int64_t * lengths,
                                       int64_t count,
                                       const distill_tokenizer_train_options * options,
                                       distill_tokenizer ** out) {
    return guarded([&] {
        if (count < 0) distill::fail_invalid("count: expected ≥ 0, got " + std::to_string(count));
        if (count > 0) {
            require_pointer(texts, "texts", "count texts");
            require_pointer(lengths, "lengths", "count lengths");
        }
        require_pointer(options, "options",
                        "options from distill_tokenizer_train_options_init with vocab_size set");
        require_pointer(out, "out", "a place for the new tokenizer");
        const distill_tokenizer_train_options o =
            distill::capi::read_versioned(options, default_train_options(), "options");
        std::vector<std::string_view> corpus;
        corpus.reserve(size_t(count));
        for (int64_t i = 0; i < count; ++i) {
            const std::string name = "texts[" + std::to_string(i) + "]";
            corpus.push_back(bytes_argument(texts[i], lengths[i], name.c_str()));
        }
        distill::tokenizer::bpe_training_options training;
        training.vocab_size = o.vocab_size;
        training.min_frequency = o.min_frequency;
        if (o.split != nullptr) training.split = o.split;
        if (o.special_token_count < 0)
            distill::fail_invalid("options.special_token_count: expected ≥ 0, got " +
                                  std::to_string(o.special_token_count));
        if (o.special_token_count > 0)
            require_pointer(o.special_tokens, "options.special_tokens", "special_token_count strings");
        for (int64_t i = 0; i < o.special_token_count; ++i) {
            const std::string name = "options.special_tokens[" + std::to_string(i) + "]";
            require_pointer(o.special_tokens[i], name.c_str(), "a NUL-terminated token");
            training.special_tokens.emplace_back(o.special_tokens[i]);
        }
        *out = adopt(distill::tokenizer::train_bpe(corpus, training));
    });
}

}  // extern "C"
