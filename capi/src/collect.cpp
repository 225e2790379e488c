// distill_collect: the C options read into distill::collect_settings, the
// progress callback adapted both ways (summary out, CANCELLED in).
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "api_guard.h"
#include "store_handle.h"
#include "teacher_handle.h"
#include "jobs/collect.h"
#include "teachers/request_key.h"
#include "versioned_struct.h"

using distill::capi::guarded;
using distill::capi::require_pointer;

namespace {

distill_collect_summary to_c(const distill::collect_summary & s) {
    distill_collect_summary c{};
    c.struct_size = sizeof c;
    c.requests = s.requests;
    c.answered_from_store = s.answered_from_store;
    c.asked = s.asked;
    c.succeeded = s.succeeded;
    c.failed = s.failed;
    c.prompt_tokens = s.prompt_tokens;
    c.cached_tokens = s.cached_tokens;
    c.completion_tokens = s.completion_tokens;
    c.cost_usd = s.cost_usd;
    c.elapsed_seconds = s.elapsed_seconds;
    return c;
}

double non_negative(double value, const char * name) {
    if (!(value >= 0.0) || !std::isfinite(value))
        distill::fail_invalid(std::string("options.") + name +
                              ": expected a finite number >= 0, got " + std::to_string(value));
    return value;
}

}  // namespace

extern "C" {

distill_status distill_collect_options_init(distill_collect_options * options) {
    return guarded([&] {
        require_pointer(options, "options", "a distill_collect_options to fill");
        *options = distill_collect_options{};
        options->struct_size = sizeof(distill_collect_options);
        options->concurrency = 8;
        options->progress = nullptr;
        options->progress_user_data = nullptr;
        options->stop_on_fatal_error = 1;
    });
}

distill_status distill_collect(distill_teacher * teacher, distill_store * store,
                               const char * const * requests_json, size_t count,
                               const distill_collect_options * options,
                               distill_collect_summary * summary_out) {
    return guarded([&] {
        require_pointer(teacher, "teacher", "a teacher from distill_teacher_create_*");
        distill::store & s = distill::capi::unwrap(store);
        if (count > 0) require_pointer(requests_json, "requests_json", "count request strings");
        const distill::capi::versioned_result result(summary_out, "summary_out");
        distill_collect_options defaults{};
        distill_collect_options_init(&defaults);
        const distill_collect_options o =
            distill::capi::read_versioned(options, defaults, "options");

        std::vector<nlohmann::json> requests;
        requests.reserve(count);
        for (size_t i = 0; i < count; ++i) {
            const std::string name = "requests_json[" + std::to_string(i) + "]";
            require_pointer(requests_json[i], name.c_str(), "a JSON request string");
            requests.push_back(distill::parse_json_argument(requests_json[i], name.c_str()));
        }

        distill::collect_settings settings;
        settings.concurrency = o.concurrency;
        settings.limits.requests_per_minute =
            non_negative(o.requests_per_minute, "requests_per_minute");
        settings.limits.tokens_per_minute = non_negative(o.tokens_per_minute, "tokens_per_minute");
        settings.prices.prompt = non_negative(o.price_prompt, "price_prompt");
        settings.prices.cached = non_negative(o.price_cached, "price_cached");
        settings.prices.completion = non_negative(o.price_completion, "price_completion");
        settings.stop_on_fatal = o.stop_on_fatal_error != 0;
        if (o.progress != nullptr) {
            const distill_collect_progress fn = o.progress;
            void * user_data = o.progress_user_data;
            settings.progress = [fn, user_data](const distill::collect_summary & summary) {
                const distill_collect_summary c = to_c(summary);
                return fn(user_data, &c) != DISTILL_STATUS_CANCELLED;
            };
        }
        const distill::collect_summary summary =
            distill::collect(*teacher->impl, s, requests, settings);
        result.write(to_c(summary));
    });
}

}  // extern "C"
