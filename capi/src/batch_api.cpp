// distill_batch_build / distill_batch_ingest: the C arguments read into
// core/jobs/batch_api.h's calls.
#include <cstddef>
#include <string>
#include <vector>

#include "api_guard.h"
#include "store_handle.h"
#include "teacher_handle.h"
#include "jobs/batch_api.h"
#include "teachers/request_key.h"
#include "versioned_struct.h"

using distill::capi::guarded;
using distill::capi::require_pointer;

namespace {

const distill::http_teacher & http_teacher_of(distill_teacher * teacher) {
    require_pointer(teacher, "teacher", "a teacher from distill_teacher_create_http");
    const auto * http = dynamic_cast<const distill::http_teacher *>(teacher->impl.get());
    if (http == nullptr)
        distill::fail_invalid(
            "teacher: expected an HTTP teacher (distill_teacher_create_http); batch files are "
            "OpenAI's");
    return *http;
}

std::vector<nlohmann::json> parse_requests(const char * const * requests_json, size_t count) {
    if (count > 0) require_pointer(requests_json, "requests_json", "count request strings");
    std::vector<nlohmann::json> requests;
    requests.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        const std::string name = "requests_json[" + std::to_string(i) + "]";
        require_pointer(requests_json[i], name.c_str(), "a JSON request string");
        requests.push_back(distill::parse_json_argument(requests_json[i], name.c_str()));
    }
    return requests;
}

}  // namespace

extern "C" {

distill_status distill_batch_build(distill_teacher * teacher, distill_store * store,
                                   const char * const * requests_json, size_t count,
                                   const char * url, const char * path,
                                   distill_batch_build_summary * summary_out) {
    return guarded([&] {
        const distill::http_teacher & t = http_teacher_of(teacher);
        distill::store * s = store != nullptr ? &distill::capi::unwrap(store) : nullptr;
        require_pointer(path, "path", "the batch input file to write");
        const distill::capi::versioned_result result(summary_out, "summary_out");
        const std::vector<nlohmann::json> requests = parse_requests(requests_json, count);
        const distill::batch_build_summary summary =
            distill::write_batch_input(t, s, requests, url != nullptr ? url : "", path);
        distill_batch_build_summary c{};
        c.requests = summary.requests;
        c.written = summary.written;
        c.already_stored = summary.already_stored;
        c.repeated = summary.repeated;
        result.write(c);
    });
}

distill_status distill_batch_ingest(distill_teacher * teacher, distill_store * store,
                                    const char * const * requests_json, size_t count,
                                    const char * path, distill_batch_problem problem,
                                    void * problem_user_data,
                                    distill_batch_ingest_summary * summary_out) {
    return guarded([&] {
        const distill::http_teacher & t = http_teacher_of(teacher);
        distill::store & s = distill::capi::unwrap(store);
        require_pointer(path, "path", "the batch output file to read");
        const distill::capi::versioned_result result(summary_out, "summary_out");
        const std::vector<nlohmann::json> requests = parse_requests(requests_json, count);
        distill::batch_problem_fn tell;
        if (problem != nullptr)
            tell = [problem, problem_user_data](int64_t line, const std::string & why) {
                problem(problem_user_data, line, why.c_str());
            };
        const distill::batch_ingest_summary summary =
            distill::read_batch_output(t, s, requests, path, tell);
        distill_batch_ingest_summary c{};
        c.lines = summary.lines;
        c.succeeded = summary.succeeded;
        c.failed = summary.failed;
        c.already_stored = summary.already_stored;
        c.unknown = summary.unknown;
        c.malformed = summary.malformed;
        result.write(c);
    });
}

}  // extern "C"
