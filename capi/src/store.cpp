// distill_store_*: a thin handle over distill::store.
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>

#include "api_guard.h"
#include "store_handle.h"
#include "teacher_record_handle.h"
#include "versioned_struct.h"

namespace distill::capi {
distill::store & unwrap(distill_store * store) {
    require_pointer(store, "store", "a store from distill_store_open");
    return *store->impl;
}
}  // namespace distill::capi

using distill::capi::guarded;
using distill::capi::require_pointer;
using distill::capi::unwrap;

extern "C" {

distill_status distill_store_options_init(distill_store_options * options) {
    return guarded([&] {
        require_pointer(options, "options", "a distill_store_options to fill");
        *options = distill_store_options{};
        options->struct_size = sizeof(distill_store_options);
        options->read_only = 0;
        options->busy_timeout_ms = 5000;
    });
}

distill_status distill_store_open(const char * path, const distill_store_options * options,
                                  distill_store ** out) {
    return guarded([&] {
        require_pointer(path, "path", "the store's file name");
        require_pointer(out, "out", "a place for the new store");
        distill_store_options defaults{};
        distill_store_options_init(&defaults);
        const distill_store_options o = distill::capi::read_versioned(options, defaults, "options");
        if (o.busy_timeout_ms < 0)
            distill::fail_invalid("options.busy_timeout_ms: expected >= 0, got " +
                                  std::to_string(o.busy_timeout_ms));
        auto handle = std::make_unique<distill_store>();
        handle->impl = std::make_unique<distill::store>(path, o.read_only != 0, o.busy_timeout_ms);
        *out = handle.release();
    });
}

void distill_store_free(distill_store * store) { delete store; }

distill_status distill_store_put(distill_store * store, const distill_teacher_record * record) {
    return guarded([&] {
        distill::store & s = unwrap(store);
        s.put(unwrap(record));
    });
}

distill_status distill_store_get(distill_store * store, const char * key,
                                 distill_teacher_record ** out) {
    return guarded([&] {
        distill::store & s = unwrap(store);
        require_pointer(key, "key", "a request key (64 hex digits)");
        require_pointer(out, "out", "a place for the record");
        std::optional<distill::teacher_record> found = s.get(key);
        if (!found) {
            *out = nullptr;
            return;
        }
        auto handle = std::make_unique<distill_teacher_record>();
        handle->impl = std::move(*found);
        *out = handle.release();
    });
}

distill_status distill_store_get_stats(distill_store * store, distill_store_stats * out) {
    return guarded([&] {
        distill::store & s = unwrap(store);
        require_pointer(out, "out", "a distill_store_stats with struct_size set");
        const distill::capi::versioned_result result(out, "out");
        const distill::store_stats stats = s.stats();
        distill_store_stats full{};
        full.records = stats.records;
        full.failures = stats.failures;
        full.positions = stats.positions;
        full.blob_bytes = stats.blob_bytes;
        for (const auto & [reason, count] : stats.finish_reasons) {
            int64_t & bucket = reason == "stop"             ? full.finished_stop
                               : reason == "length"         ? full.finished_length
                               : reason == "content_filter" ? full.finished_content_filter
                               : reason == "tool_calls" || reason == "function_call"
                                   ? full.finished_tool_calls
                               : reason.empty() ? full.finish_not_given
                                                : full.finished_other;
            bucket += count;
        }
        full.other_model = stats.other_model;
        result.write(full);
    });
}

distill_status distill_store_export_jsonl(distill_store * store, const char * path) {
    return guarded([&] {
        distill::store & s = unwrap(store);
        require_pointer(path, "path", "the JSONL file to write");
        s.export_jsonl(path);
    });
}

}  // extern "C"
