// distill_teacher_create_http: the C options struct read into
// distill::http_teacher_settings, every field checked here so a wrong
// option fails at creation, naming itself.
#include <memory>
#include <string>

#include "api_guard.h"
#include "teacher_handle.h"
#include "teachers/http_teacher.h"
#include "teachers/request_key.h"
#include "versioned_struct.h"

using distill::capi::guarded;
using distill::capi::require_pointer;

namespace {

void require_at_least(int64_t value, int64_t minimum, const char * name) {
    if (value < minimum)
        distill::fail_invalid(std::string("options.") + name + ": expected >= " +
                              std::to_string(minimum) + ", got " + std::to_string(value));
}

}  // namespace

extern "C" {

distill_status distill_http_teacher_options_init(distill_http_teacher_options * options) {
    return guarded([&] {
        require_pointer(options, "options", "a distill_http_teacher_options to fill");
        *options = distill_http_teacher_options{};
        options->struct_size = sizeof(distill_http_teacher_options);
        options->base_url = nullptr;
        options->model = "";
        options->dialect = DISTILL_HTTP_DIALECT_AUTO;
        options->api_key_env = nullptr;
        options->api_key_file = nullptr;
        options->parameters_json = nullptr;
        options->timeout_ms = 600000;
        options->connect_timeout_ms = 10000;
        options->low_speed_seconds = 60;
        options->max_retries = 2;
        options->max_retry_seconds = 60.0;
        options->retry_base_ms = 500;
        options->retry_max_delay_ms = 8000;
        options->verify_tls = 1;
    });
}

distill_status distill_teacher_create_http(const distill_http_teacher_options * options,
                                           distill_teacher ** out) {
    return guarded([&] {
        require_pointer(options, "options", "a distill_http_teacher_options with base_url set");
        require_pointer(out, "out", "a place for the new teacher");
        distill_http_teacher_options defaults{};
        distill_http_teacher_options_init(&defaults);
        const distill_http_teacher_options o =
            distill::capi::read_versioned(options, defaults, "options");
        require_pointer(o.base_url, "options.base_url", "the server's URL");
        if (o.dialect < DISTILL_HTTP_DIALECT_AUTO || o.dialect > DISTILL_HTTP_DIALECT_OLLAMA)
            distill::fail_invalid("options.dialect: expected a distill_http_dialect (0..4), got " +
                                  std::to_string(o.dialect));
        require_at_least(o.timeout_ms, 1, "timeout_ms");
        require_at_least(o.connect_timeout_ms, 1, "connect_timeout_ms");
        require_at_least(o.low_speed_seconds, 0, "low_speed_seconds");
        require_at_least(o.max_retries, 0, "max_retries");
        require_at_least(o.retry_base_ms, 0, "retry_base_ms");
        require_at_least(o.retry_max_delay_ms, 0, "retry_max_delay_ms");
        if (!(o.max_retry_seconds >= 0.0))
            distill::fail_invalid("options.max_retry_seconds: expected >= 0, got " +
                                  std::to_string(o.max_retry_seconds));

        distill::http_teacher_settings s;
        s.base_url = o.base_url;
        s.model = o.model ? o.model : "";
        s.dialect = distill::http_dialect(o.dialect);
        s.api_key_env = o.api_key_env ? o.api_key_env : "";
        s.api_key_file = o.api_key_file ? o.api_key_file : "";
        s.parameters = o.parameters_json ? distill::parse_json_argument(o.parameters_json,
                                                                        "options.parameters_json")
                                         : nlohmann::json();
        if (!s.parameters.is_null() && !s.parameters.is_object())
            distill::fail_invalid("options.parameters_json: expected a JSON object");
        s.timeout_ms = o.timeout_ms;
        s.connect_timeout_ms = o.connect_timeout_ms;
        s.low_speed_seconds = o.low_speed_seconds;
        s.verify_tls = o.verify_tls != 0;
        s.retry.max_retries = o.max_retries;
        s.retry.max_retry_seconds = o.max_retry_seconds;
        s.retry.base_delay_ms = o.retry_base_ms;
        s.retry.max_delay_ms = o.retry_max_delay_ms;

        auto handle = std::make_unique<distill_teacher>();
        handle->impl = std::make_unique<distill::http_teacher>(std::move(s));
        *out = handle.release();
    });
}

}  // extern "C"
