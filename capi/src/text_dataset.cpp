// distill_tokenize_files and distill_text_dataset_*: the token datasets of
// core/text over the C ABI.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "api_guard.h"
#include "text/text_dataset.h"
#include "text/tokenize_corpus.h"
#include "text_dataset_handle.h"
#include "tokenizer_handle.h"
#include "versioned_struct.h"

using distill::capi::guarded;
using distill::capi::require_pointer;
namespace text = distill::text;

namespace {

distill_tokenize_options default_tokenize_options() {
    distill_tokenize_options o{};
    o.struct_size = sizeof o;
    o.context = 0;
    o.validation_fraction = 0;
    o.seed = 0;
    o.eos_token = nullptr;
    o.layout = DISTILL_CORPUS_LAYOUT_AUTO;
    o.progress_interval_seconds = 0.5;
    o.progress = nullptr;
    o.progress_user_data = nullptr;
    return o;
}

text::corpus_layout layout_of(int32_t layout) {
    switch (layout) {
    case DISTILL_CORPUS_LAYOUT_AUTO: return text::corpus_layout::automatic;
    case DISTILL_CORPUS_LAYOUT_FILE: return text::corpus_layout::whole_file;
    case DISTILL_CORPUS_LAYOUT_BLANK_LINES: return text::corpus_layout::blank_lines;
    case DISTILL_CORPUS_LAYOUT_JSONL: return text::corpus_layout::jsonl;
    default:
        distill::fail_invalid("options.layout: expected a distill_corpus_layout (0 AUTO, 1 FILE, "
                              "2 BLANK_LINES, 3 JSONL), got " + std::to_string(layout));
    }
}

using distill::capi::split_of;

const text::text_dataset & unwrap(const distill_text_dataset * handle) {
    return distill::capi::unwrap_text_dataset(handle);
}

const distill::tokenizer::bpe_tokenizer & unwrap(const distill_tokenizer * handle) {
    require_pointer(handle, "tokenizer", "a tokenizer from distill_tokenizer_load");
    return *handle->tokenizer;
}

}  // namespace

extern "C" {

distill_status distill_tokenize_options_init(distill_tokenize_options * options) {
    return guarded([&] {
        require_pointer(options, "options", "a distill_tokenize_options to fill");
        *options = default_tokenize_options();
    });
}

distill_status distill_tokenize_files(const distill_tokenizer * tokenizer,
                                      const char * const * paths, int64_t path_count,
                                      const char * out_path,
                                      const distill_tokenize_options * options,
                                      distill_tokenize_summary * summary) {
    return guarded([&] {
        const auto & t = unwrap(tokenizer);
        if (path_count < 1)
            distill::fail_invalid("path_count: expected at least 1 corpus file, got " +
                                  std::to_string(path_count));
        require_pointer(paths, "paths", "path_count file names");
        require_pointer(out_path, "out_path", "where to write the token dataset");
        require_pointer(options, "options",
                        "options from distill_tokenize_options_init with context set");
        const distill_tokenize_options o =
            distill::capi::read_versioned(options, default_tokenize_options(), "options");
        const distill::capi::versioned_result<distill_tokenize_summary> result(summary, "summary");
        std::vector<std::filesystem::path> inputs;
        for (int64_t i = 0; i < path_count; ++i) {
            if (paths[i] == nullptr)
                distill::fail_invalid("paths[" + std::to_string(i) + "]: expected a file name, got NULL");
            inputs.emplace_back(paths[i]);
        }
        text::text_dataset_options dataset_options;
        dataset_options.context = o.context;
        dataset_options.validation_fraction = o.validation_fraction;
        dataset_options.seed = o.seed;
        if (o.eos_token != nullptr) dataset_options.eos_token = o.eos_token;
        if (!(o.progress_interval_seconds >= 0))
            distill::fail_invalid("options.progress_interval_seconds: expected ≥ 0, got " +
                                  std::to_string(o.progress_interval_seconds));
        text::tokenize_progress_callback on_progress;
        if (o.progress != nullptr) {
            on_progress = [&o](const text::tokenize_progress & p) {
                distill_tokenize_progress c{};
                c.struct_size = sizeof c;
                c.writing = p.writing ? 1 : 0;
                c.files_done = int64_t(p.files_done);
                c.files_total = int64_t(p.files_total);
                c.bytes_done = int64_t(p.bytes_done);
                c.bytes_total = int64_t(p.bytes_total);
                c.documents = int64_t(p.documents);
                c.tokens = int64_t(p.tokens);
                c.elapsed_seconds = p.elapsed_seconds;
                return o.progress(o.progress_user_data, &c) != DISTILL_STATUS_CANCELLED;
            };
        }
        const text::text_dataset_summary s =
            text::tokenize_corpus(t, inputs, layout_of(o.layout), dataset_options, out_path,
                                  on_progress, o.progress_interval_seconds);
        distill_tokenize_summary out{};
        out.token_bytes = int32_t(s.header.token_bytes);
        out.train_documents = int64_t(s.header.train_documents);
        out.validation_documents = int64_t(s.header.validation_documents);
        out.train_tokens = int64_t(s.header.train_tokens);
        out.validation_tokens = int64_t(s.header.validation_tokens);
        out.train_windows = int64_t(s.train_windows);
        out.validation_windows = int64_t(s.validation_windows);
        out.file_bytes = int64_t(s.file_bytes);
        result.write(out);
    });
}

distill_status distill_text_dataset_open(const char * path, distill_text_dataset ** out) {
    return guarded([&] {
        require_pointer(path, "path", "a token dataset file");
        require_pointer(out, "out", "a place for the new dataset");
        auto handle = std::make_unique<distill_text_dataset>();
        handle->dataset = std::make_unique<text::text_dataset>(path);
        *out = handle.release();
    });
}

void distill_text_dataset_free(distill_text_dataset * dataset) { delete dataset; }

distill_status distill_text_dataset_get_info(const distill_text_dataset * dataset,
                                             distill_text_dataset_info * out) {
    return guarded([&] {
        const auto & d = unwrap(dataset);
        require_pointer(out, "out", "a distill_text_dataset_info with struct_size set");
        const distill::capi::versioned_result<distill_text_dataset_info> result(out, "out");
        const text::text_dataset_header & h = d.header();
        distill_text_dataset_info info{};
        info.context = int32_t(h.context);
        info.vocab_size = int32_t(h.vocab_size);
        info.eos_id = int32_t(h.eos_id);
        info.token_bytes = int32_t(h.token_bytes);
        info.train_documents = int64_t(h.train_documents);
        info.validation_documents = int64_t(h.validation_documents);
        info.train_tokens = int64_t(h.train_tokens);
        info.validation_tokens = int64_t(h.validation_tokens);
        info.train_windows = int64_t(d.windows(text::dataset_split::train));
        info.validation_windows = int64_t(d.windows(text::dataset_split::validation));
        std::memcpy(info.tokenizer_sha256, h.tokenizer_sha256.data(), 32);
        result.write(info);
    });
}

distill_status distill_text_dataset_window(const distill_text_dataset * dataset, int32_t split,
                                           int64_t index, const void ** out_tokens,
                                           int64_t * out_length) {
    return guarded([&] {
        const auto & d = unwrap(dataset);
        require_pointer(out_tokens, "out_tokens", "a place for the window's address");
        require_pointer(out_length, "out_length", "a place for the window's length");
        if (index < 0)
            distill::fail_invalid("index: expected ≥ 0, got " + std::to_string(index));
        const text::token_window w = d.window(split_of(split), uint64_t(index));
        *out_tokens = w.tokens;
        *out_length = int64_t(w.length);
    });
}

distill_status distill_text_dataset_copy_batch(const distill_text_dataset * dataset, int32_t split,
                                               const int64_t * windows, int64_t count,
                                               int32_t * tokens, int32_t * targets) {
    return guarded([&] {
        const auto & d = unwrap(dataset);
        const text::dataset_split s = split_of(split);
        if (count < 0) distill::fail_invalid("count: expected ≥ 0, got " + std::to_string(count));
        if (count == 0) return;
        require_pointer(windows, "windows", "count window indices");
        require_pointer(tokens, "tokens", "an int32 buffer of count · context");
        require_pointer(targets, "targets", "an int32 buffer of count · context");
        std::vector<uint64_t> indices(static_cast<size_t>(count));
        for (int64_t b = 0; b < count; ++b) {
            if (windows[b] < 0)
                distill::fail_invalid("windows[" + std::to_string(b) + "]: expected ≥ 0, got " +
                                      std::to_string(windows[b]));
            indices[size_t(b)] = uint64_t(windows[b]);
        }
        d.copy_batch(s, indices.data(), indices.size(), tokens, targets);
    });
}

distill_status distill_text_dataset_shuffled_windows(const distill_text_dataset * dataset,
                                                     int32_t split, uint64_t seed, int64_t * out,
                                                     int64_t capacity, int64_t * out_count) {
    return guarded([&] {
        const auto & d = unwrap(dataset);
        const text::dataset_split s = split_of(split);
        if (capacity < 0)
            distill::fail_invalid("capacity: expected ≥ 0, got " + std::to_string(capacity));
        if (capacity > 0) require_pointer(out, "out", "a buffer of capacity indices");
        require_pointer(out_count, "out_count", "a place for the window count");
        const auto count = int64_t(d.windows(s));
        if (count <= capacity) {
            const std::vector<uint64_t> order = d.shuffled_windows(s, seed);
            for (int64_t i = 0; i < count; ++i) out[i] = int64_t(order[size_t(i)]);
        }
        *out_count = count;
    });
}

distill_status distill_text_dataset_check_tokenizer(const distill_text_dataset * dataset,
                                                    const distill_tokenizer * tokenizer) {
    return guarded([&] {
        const auto & d = unwrap(dataset);
        d.check_tokenizer(text::tokenizer_sha256(unwrap(tokenizer)));
    });
}

distill_status distill_text_dataset_check_model(const distill_text_dataset * dataset,
                                                int64_t model_vocab, int64_t model_context) {
    return guarded([&] { unwrap(dataset).check_fits_model(model_vocab, model_context); });
}

}  // extern "C"
