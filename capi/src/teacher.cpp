// distill_teacher_*: teachers behind one handle type, and the C callback
// adapted to distill::callback_teacher.
#include <cstring>
#include <memory>
#include <string>

#include "api_guard.h"
#include "jobs/cached_query.h"
#include "store_handle.h"
#include "teacher_handle.h"
#include "teacher_record_handle.h"
#include "teachers/callback_teacher.h"
#include "teachers/request_key.h"
#include "versioned_struct.h"

namespace distill::capi {
namespace {

distill::teacher & unwrap_teacher(const distill_teacher * teacher) {
    require_pointer(teacher, "teacher", "a teacher from distill_teacher_create_*");
    return *teacher->impl;
}

// The C function sees a distill_teacher_record handle; the core fills a
// teacher_record. The handle lives for the call and its contents move into
// the core's record afterwards.
distill::callback_teacher::answer_fn adapt(distill_teacher_callback fn, void * user_data) {
    return [fn, user_data](const std::string & request_json, distill::teacher_record & record) {
        distill_teacher_record handle;
        const distill_status result = fn(user_data, request_json.c_str(), &handle);
        record = std::move(handle.impl);
        return result;
    };
}

distill_teacher_record * new_handle(distill::teacher_record && record) {
    auto handle = std::make_unique<distill_teacher_record>();
    handle->impl = std::move(record);
    return handle.release();
}

}  // namespace
}  // namespace distill::capi

using distill::capi::guarded;
using distill::capi::require_pointer;

extern "C" {

distill_status distill_callback_teacher_options_init(distill_callback_teacher_options * options) {
    return guarded([&] {
        require_pointer(options, "options", "a distill_callback_teacher_options to fill");
        *options = distill_callback_teacher_options{};
        options->struct_size = sizeof(distill_callback_teacher_options);
        options->name = "callback";
        options->model = "";
        options->parameters_json = nullptr;
    });
}

distill_status distill_teacher_create_callback(distill_teacher_callback fn, void * user_data,
                                               const distill_callback_teacher_options * options,
                                               distill_teacher ** out) {
    return guarded([&] {
        require_pointer(reinterpret_cast<const void *>(fn), "fn", "a distill_teacher_callback");
        require_pointer(out, "out", "a place for the new teacher");
        distill_callback_teacher_options defaults{};
        distill_callback_teacher_options_init(&defaults);
        const distill_callback_teacher_options o =
            distill::capi::read_versioned(options, defaults, "options");
        require_pointer(o.name, "options.name", "the teacher's name");
        require_pointer(o.model, "options.model", "the teacher's model (\"\" for none)");
        const nlohmann::json parameters =
            o.parameters_json
                ? distill::parse_json_argument(o.parameters_json, "options.parameters_json")
                : nlohmann::json();
        auto handle = std::make_unique<distill_teacher>();
        handle->impl = std::make_unique<distill::callback_teacher>(
            distill::capi::adapt(fn, user_data), o.name, o.model, parameters);
        *out = handle.release();
    });
}

void distill_teacher_free(distill_teacher * teacher) { delete teacher; }

distill_status distill_teacher_request_key(const distill_teacher * teacher,
                                           const char * request_json, char * out_key,
                                           size_t capacity) {
    return guarded([&] {
        const distill::teacher & t = distill::capi::unwrap_teacher(teacher);
        const nlohmann::json request = distill::parse_json_argument(request_json, "request_json");
        require_pointer(out_key, "out_key", "a buffer of at least 65 chars");
        if (capacity < 65)
            distill::fail_invalid("capacity: expected >= 65 (64 hex digits and a NUL), got " +
                                  std::to_string(capacity));
        const std::string key = distill::request_key(t, request);
        std::memcpy(out_key, key.c_str(), key.size() + 1);
    });
}

distill_status distill_teacher_query(distill_teacher * teacher, const char * request_json,
                                     distill_teacher_record ** out) {
    return guarded([&] {
        distill::teacher & t = distill::capi::unwrap_teacher(teacher);
        const nlohmann::json request = distill::parse_json_argument(request_json, "request_json");
        require_pointer(out, "out", "a place for the record");
        *out = distill::capi::new_handle(distill::query(t, request));
    });
}

distill_status distill_teacher_query_cached(distill_teacher * teacher, distill_store * store,
                                            const char * request_json,
                                            distill_teacher_record ** out) {
    return guarded([&] {
        distill::teacher & t = distill::capi::unwrap_teacher(teacher);
        distill::store & s = distill::capi::unwrap(store);
        const nlohmann::json request = distill::parse_json_argument(request_json, "request_json");
        require_pointer(out, "out", "a place for the record");
        *out = distill::capi::new_handle(distill::query_cached(t, s, request));
    });
}

}  // extern "C"
