// distill_batch_build / distill_batch_ingest: the C arguments read into
// core/teachers/batch_api.h's calls.
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "api_guard.h"
#include "store_handle.h"
#include "teacher_handle.h"
#include "teachers/batch_api.h"
#include "teachers/request_key.h"

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

// Checks a caller's summary struct_size (at least the first count).
template <class Summary>
void check_summary(const Summary * out, const char * type) {
    if (out != nullptr && (out->struct_size < sizeof(uint32_t) + sizeof(int64_t) ||
                           out->struct_size > sizeof(Summary)))
        distill::fail_invalid(std::string("summary_out->struct_size: expected sizeof(") + type +
                              ") (" + std::to_string(sizeof(Summary)) + "), got " +
                              std::to_string(out->struct_size));
}

// Copies `full` into the caller's struct, as far as it reaches.
template <class Summary>
void fill_summary(Summary * out, Summary full) {
    if (out == nullptr) return;
    full.struct_size = out->struct_size;
    std::memcpy(static_cast<void *>(out), &full, out->struct_size);
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
        check_summary(summary_out, "distill_batch_build_summary");
        const std::vector<nlohmann::json> requests = parse_requests(requests_json, count);
        const distill::batch_build_summary summary =
            distill::write_batch_input(t, s, requests, url != nullptr ? url : "", path);
        distill_batch_build_summary c{};
        c.requests = summary.requests;
        c.written = summary.written;
        c.already_stored = summary.already_stored;
        c.repeated = summary.repeated;
        fill_summary(summary_out, c);
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
        check_summary(summary_out, "distill_batch_ingest_summary");
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
        fill_summary(summary_out, c);
    });
}

}  // extern "C"
