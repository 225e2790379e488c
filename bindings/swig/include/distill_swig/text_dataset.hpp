// text_dataset.hpp — token datasets (distill_tokenize_files,
// distill_text_dataset_*): a corpus encoded once into a memory-mapped
// *.tokens file, split by document, served in windows of context + 1 ids
// written into the caller's arrays.
#pragma once

#include "tokenizer.hpp"

#include <functional>
#include <optional>

namespace distill_swig {

/// Which split of a token dataset.
enum class Split { train = 0, validation = 1 };
#ifndef SWIG
static_assert(static_cast<int>(Split::train) == DISTILL_SPLIT_TRAIN);
static_assert(static_cast<int>(Split::validation) == DISTILL_SPLIT_VALIDATION);
#endif

/// How the files of a corpus hold documents (see distill_corpus_layout).
enum class CorpusLayout {
    automatic = 0,   ///< JSONL for *.jsonl, else FILE
    file = 1,        ///< the whole file is one document
    blank_lines = 2, ///< documents separated by blank lines
    jsonl = 3        ///< one JSON object a line with a string field "text"
};
#ifndef SWIG
static_assert(static_cast<int>(CorpusLayout::automatic) == DISTILL_CORPUS_LAYOUT_AUTO);
static_assert(static_cast<int>(CorpusLayout::file) == DISTILL_CORPUS_LAYOUT_FILE);
static_assert(static_cast<int>(CorpusLayout::blank_lines) == DISTILL_CORPUS_LAYOUT_BLANK_LINES);
static_assert(static_cast<int>(CorpusLayout::jsonl) == DISTILL_CORPUS_LAYOUT_JSONL);
#endif

/// Options of TextDataset.tokenizeFiles (see distill_tokenize_options).
struct TokenizeOptions {
    int32_t context;                  ///< window length, ≥ 1 (must be set)
    double validation_fraction;       ///< of the documents, in [0, 1)
    int64_t seed;                     ///< of the split
    std::string eos_token;            ///< an added token's content; "" = "<|endoftext|>"
    CorpusLayout layout;
    double progress_interval_seconds; ///< between progress reports while reading

    TokenizeOptions() {
        const distill::TokenizeOptions defaults;
        context = defaults->context;
        validation_fraction = defaults->validation_fraction;
        seed = static_cast<int64_t>(defaults->seed);
        layout = static_cast<CorpusLayout>(defaults->layout);
        progress_interval_seconds = defaults->progress_interval_seconds;
    }
};

/// What tokenizeFiles wrote.
struct TokenizeSummary {
    int32_t token_bytes; ///< 2 (uint16 ids) or 4 (uint32)
    int64_t train_documents;
    int64_t validation_documents;
    int64_t train_tokens;
    int64_t validation_tokens;
    int64_t train_windows;
    int64_t validation_windows;
    int64_t file_bytes;
};

/// How far tokenizeFiles has come, handed to its listener.
struct TokenizeProgress {
    bool writing;           ///< all is read and the file is being written
    int64_t files_done;
    int64_t files_total;
    int64_t bytes_done;     ///< of the input files
    int64_t bytes_total;
    int64_t documents;      ///< encoded so far
    int64_t tokens;         ///< encoded so far, end-of-document ids included
    double elapsed_seconds; ///< since the call began
};

/// What a host-language tokenize listener implements (a SWIG director the
/// bindings derive from, as ProgressListenerNative).
class TokenizeListenerNative {
public:
    virtual ~TokenizeListenerNative() = default;
    /// Returns false to stop the call (it then raises CANCELLED and leaves
    /// the output as it was).
    virtual bool on_progress(TokenizeProgress * progress) = 0;
    /// For the bridge, when the host listener threw.
    void fail(const std::string & description) { failure_ = description; }

#ifndef SWIG
    static distill::TokenizeProgress function(TokenizeListenerNative * listener) {
        if (listener == nullptr) return {};
        return [listener](const distill_tokenize_progress & p) { return listener->report(p); };
    }
#endif

private:
    bool report(const distill_tokenize_progress & p) {
        CallbackScope scope;
        bool go_on = false;
        try {
            // Owned by the host from here on: it may keep it.
            auto * progress = new TokenizeProgress{p.writing != 0, p.files_done, p.files_total,
                                                   p.bytes_done,   p.bytes_total, p.documents,
                                                   p.tokens,       p.elapsed_seconds};
            go_on = on_progress(progress);
        } catch (const std::exception & e) {
            fail(e.what());
        } catch (...) {
            fail("an unknown exception");
        }
        if (failure_) {
            const std::string description = std::exchange(failure_, std::nullopt).value();
            throw Error(DISTILL_STATUS_CANCELLED,
                        "CANCELLED: the tokenize listener threw " + description);
        }
        return go_on;
    }

    std::optional<std::string> failure_;
};

/// The header of a token dataset.
struct TextDatasetInfo {
    int32_t context;    ///< window length: a window holds context + 1 ids
    int32_t vocab_size; ///< of the tokenizer that made it
    int32_t eos_id;     ///< the end-of-document id
    int32_t token_bytes;///< 2 or 4, as stored in the file
    int64_t train_documents;
    int64_t validation_documents;
    int64_t train_tokens;
    int64_t validation_tokens;
    int64_t train_windows;
    int64_t validation_windows;
    std::string tokenizer_sha256; ///< hex SHA-256 of the tokenizer's toJson() text
};

/// A token dataset file (*.tokens), mapped read-only: windows are read
/// from disk as they are asked for. Any number of threads may read at once.
class TextDataset {
public:
    /// Maps the token dataset file `path`.
    explicit TextDataset(const std::string & path)
        : handle_(share([&] { return distill::TextDataset::open(path); })) {
        info_ = call([&] { return (*handle_).info(); });
    }

    /// Encodes the documents of `paths` with `tokenizer` into the token
    /// dataset file `out_path`, reporting to `progress` (or null).
    static TokenizeSummary tokenize_files_native(const Tokenizer * tokenizer,
                                                 const std::vector<std::string> & paths,
                                                 const std::string & out_path,
                                                 const TokenizeOptions * options,
                                                 TokenizeListenerNative * progress) {
        const distill::Tokenizer & encoder = require(tokenizer, "tokenizer").native();
        const TokenizeOptions & o = require(options, "options");
        distill::TokenizeOptions c;
        c->context = o.context;
        c->validation_fraction = o.validation_fraction;
        c->seed = static_cast<uint64_t>(o.seed);
        c->eos_token = o.eos_token.empty() ? nullptr : o.eos_token.c_str();
        c->layout = static_cast<int32_t>(o.layout);
        c->progress_interval_seconds = o.progress_interval_seconds;
        const distill_tokenize_summary s = call([&] {
            return distill::tokenize_files(encoder, paths, out_path, c,
                                           TokenizeListenerNative::function(progress));
        });
        return TokenizeSummary{s.token_bytes,       s.train_documents,   s.validation_documents,
                               s.train_tokens,      s.validation_tokens, s.train_windows,
                               s.validation_windows, s.file_bytes};
    }

    /// The file's header.
    TextDatasetInfo info() const {
        static const char digits[] = "0123456789abcdef";
        std::string hex;
        for (uint8_t byte : info_.tokenizer_sha256) {
            hex += digits[byte >> 4];
            hex += digits[byte & 15];
        }
        return TextDatasetInfo{info_.context,          info_.vocab_size,
                               info_.eos_id,           info_.token_bytes,
                               info_.train_documents,  info_.validation_documents,
                               info_.train_tokens,     info_.validation_tokens,
                               info_.train_windows,    info_.validation_windows,
                               hex};
    }

    /// The window length (a window holds context + 1 ids).
    int32_t context() const { return info_.context; }
    /// The number of windows of `split`.
    int64_t windows(Split split) const {
        return split == Split::validation ? info_.validation_windows : info_.train_windows;
    }

    /// Window `index` of `split` written into `out` (context + 1 ids):
    /// the model reads the first context and predicts the last context.
    void window(Split split, int64_t index, IntArray out) const {
        require_array(out, "out");
        expect_length(out.length, int64_t(info_.context) + 1, "out");
        const std::pair<const void *, int64_t> w =
            call([&] { return (*handle_).window(static_cast<int32_t>(split), index); });
        if (info_.token_bytes == 2) {
            const uint16_t * ids = static_cast<const uint16_t *>(w.first);
            for (int64_t i = 0; i < w.second; ++i) out.data[i] = ids[i];
        } else {
            std::memcpy(out.data, w.first, size_t(w.second) * sizeof(int32_t));
        }
    }
    /// Window `index` of `split` as a new array of context + 1 ids.
    std::vector<int32_t> window(Split split, int64_t index) const {
        std::vector<int32_t> out(size_t(info_.context) + 1);
        window(split, index, IntArray{out.data(), int64_t(out.size())});
        return out;
    }

    /// For b < windows.length, window windows[b] of `split` into
    /// tokens[b·context, (b + 1)·context) (its first context ids) and
    /// targets (its last context ids: the tokens shifted by one), in place.
    void batch(Split split, LongArray windows, IntArray tokens, IntArray targets) const {
        require_array(windows, "windows");
        require_array(tokens, "tokens");
        require_array(targets, "targets");
        expect_length(tokens.length, windows.length * info_.context, "tokens");
        expect_length(targets.length, windows.length * info_.context, "targets");
        call([&] {
            distill::check(distill_text_dataset_copy_batch(handle_.get(),
                                                           static_cast<int32_t>(split), windows.data,
                                                           windows.length, tokens.data, targets.data));
        });
    }

    /// A permutation of the window indices of `split` fixed by `seed` (the
    /// same on every machine): an epoch's order.
    std::vector<int64_t> shuffled_windows(Split split, int64_t seed) const {
        return call([&] {
            return (*handle_).shuffled_windows(static_cast<int32_t>(split), static_cast<uint64_t>(seed));
        });
    }

    /// Refuses (INVALID_ARGUMENT, both hashes shown) a tokenizer other than
    /// the one the dataset was made with.
    void check_tokenizer(const Tokenizer * tokenizer) const {
        const distill::Tokenizer & t = require(tokenizer, "tokenizer").native();
        call([&] { (*handle_).check_tokenizer(t); });
    }

    /// Refuses a model of fewer ids than the dataset's vocabulary or of a
    /// shorter context.
    void check_model(int64_t model_vocab, int64_t model_context) const {
        call([&] { (*handle_).check_model(model_vocab, model_context); });
    }

#ifndef SWIG
    const distill::TextDataset & native() const { return *handle_; }
#endif

private:
    shared_handle<distill::TextDataset> handle_;
    distill_text_dataset_info info_{};
};

}  // namespace distill_swig
