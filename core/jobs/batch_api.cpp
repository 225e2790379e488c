#include "jobs/batch_api.h"

#include <cerrno>
#include <chrono>
#include <fstream>
#include <optional>
#include <set>
#include <unordered_map>

#include <unistd.h>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/file_error.h"
#include "jobs/cached_query.h"
#include "store/store.h"
#include "teachers/request_key.h"

namespace distill {
namespace {

using nlohmann::json;

// Output lines committed per transaction while ingesting.
constexpr size_t ingest_group_size = 256;

void check_openai(const http_teacher & t) {
    if (t.configured_dialect() == http_dialect::ollama)
        fail_invalid("teacher: the Batch API is OpenAI's; an Ollama teacher cannot use it");
}

const std::string & model_of(const http_teacher & t) {
    return t.identity().at("model").get_ref<const std::string &>();
}

// "/v1/chat/completions" for a chat request: the path the Batch API names
// its endpoints by (the teacher's base URL is not part of it).
std::string batch_url(request_kind kind) {
    return "/v1" + endpoint_path(http_dialect::openai, kind);
}

// A failure row: the reason, and the status a live call would have had
// (a 4xx is the request's fault, anything else the server's).
void fail_record(teacher_record & record, int64_t http_status, const std::string & why) {
    record.text.clear();
    record.finish_reason.clear();
    record.positions.clear();
    record.embeddings.clear();
    record.kind = logprob_kind::unknown;
    record.error_status = int32_t(http_status >= 400 && http_status < 500 ? status::invalid_argument
                                                                          : status::internal);
    record.error_message = "batch: " + why;
}

// A string member of `object`, or "" (absent, null, another type).
std::string string_member(const json & object, const char * name) {
    const auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// A member of `object`, or null.
const json & member(const json & object, const char * name) {
    static const json null;
    const auto it = object.find(name);
    return it == object.end() ? null : *it;
}

// One output line's record for `request`: the answer normalised as the
// HTTP teacher does, or a failure row. Throws invalid_argument when the
// line is not an output line at all (nothing to store).
teacher_record record_of_line(const http_teacher & t, const json & request, const json & line) {
    teacher_record record;
    const request_kind kind = kind_of(request);
    record.origin.provider = "openai-batch";
    record.origin.endpoint =
        string_member(t.identity(), "base_url") + endpoint_path(http_dialect::openai, kind);
    const json & line_error = member(line, "error");
    const json & response = member(line, "response");
    if (line_error.is_null() && !response.is_object())
        fail_invalid("neither a \"response\" object nor an \"error\"");
    if (response.is_object()) record.origin.request_id = string_member(response, "request_id");

    if (!line_error.is_null()) {
        const std::string code = line_error.is_object() ? string_member(line_error, "code") : "";
        const std::string message =
            line_error.is_object() ? string_member(line_error, "message") : line_error.dump();
        fail_record(record, 0, (code.empty() ? "" : code + ": ") + message);
        return record;
    }
    const json & status_code = member(response, "status_code");
    if (!status_code.is_number_integer())
        fail_invalid("\"response\" without an integer \"status_code\"");
    const int64_t http_status = status_code.get<int64_t>();
    const json & body = member(response, "body");
    if (http_status < 200 || http_status >= 300) {
        const server_error e =
            parse_error_body(body.is_string() ? body.get<std::string>() : body.dump());
        fail_record(record, http_status,
                    "HTTP " + std::to_string(http_status) + ": " + e.message +
                        (e.code.empty() ? "" : " (code " + e.code + ")"));
        return record;
    }
    try {
        normalise_response(http_dialect::openai, kind, body, record);
        // The request id names the call; the body's id names the completion.
        const std::string request_id = string_member(response, "request_id");
        if (!request_id.empty()) record.origin.request_id = request_id;
    } catch (const error & e) {
        fail_record(record, 0, "HTTP " + std::to_string(http_status) + ": " + e.what());
    } catch (const json::exception & e) {
        // A value of an unexpected type deep in the body (the dialect
        // parser reads what the shape promises).
        fail_record(record, 0, "HTTP " + std::to_string(http_status) + ": " + e.what());
    }
    return record;
}

}  // namespace

batch_build_summary write_batch_input(const http_teacher & t, store * s,
                                      const std::vector<json> & requests, const std::string & url,
                                      const std::string & path) {
    check_openai(t);
    batch_build_summary summary;
    summary.requests = int64_t(requests.size());
    std::string lines;
    std::set<std::string> seen;
    std::optional<request_kind> first_kind;
    for (size_t i = 0; i < requests.size(); ++i) {
        const std::string name = "requests[" + std::to_string(i) + "]";
        const json & request = requests[i];
        request_kind kind;
        std::string key;
        try {
            kind = kind_of(request);
            key = request_key(t, request);
        } catch (const error & e) {
            throw error(e.code(), name + ": " + e.what());
        }
        if (!first_kind) first_kind = kind;
        if (url.empty() && kind != *first_kind)
            fail_invalid(name + ": a " + batch_url(kind) + " request in a batch of " +
                         batch_url(*first_kind) +
                         " requests; one batch file has one endpoint (give the url, or split "
                         "the set)");
        if (!seen.insert(key).second) {
            ++summary.repeated;
            continue;
        }
        // Read only (a build writes nothing to the store): an answer under
        // a key of an older distill counts as stored without being filed again.
        if (s != nullptr && stored_success(t, *s, request, false)) {
            ++summary.already_stored;
            continue;
        }
        if (++summary.written > batch_max_requests)
            fail_invalid("requests: more than " + std::to_string(batch_max_requests) +
                         " to write, OpenAI's limit for one batch file; split the set");
        const json line = {
            {"custom_id", key},
            {"method", "POST"},
            {"url", url.empty() ? batch_url(kind) : url},
            {"body", build_body(http_dialect::openai, kind, request, t.parameters(), model_of(t))}};
        lines += line.dump(-1, ' ', false, json::error_handler_t::replace);
        lines += '\n';
    }
    write_file_atomically(path, lines);
    return summary;
}

batch_ingest_summary read_batch_output(const http_teacher & t, store & s,
                                       const std::vector<json> & requests, const std::string & path,
                                       const batch_problem_fn & problem) {
    check_openai(t);
    std::unordered_map<std::string, size_t> index_of_key;
    for (size_t i = 0; i < requests.size(); ++i) {
        try {
            kind_of(requests[i]);
            index_of_key.emplace(request_key(t, requests[i]), i);
            // An input file built by an older distill names requests by their old keys.
            for (const json & former : t.former_identities())
                index_of_key.emplace(request_key(former, requests[i], t.parameters()), i);
        } catch (const error & e) {
            throw error(e.code(), "requests[" + std::to_string(i) + "]: " + e.what());
        }
    }
    // Opened once by file_error's rule for its status (not_found, io_error
    // for a directory or no permission), then read line by line.
    ::close(open_file_for_reading(path));
    std::ifstream in(path, std::ios::binary);
    if (!in) fail_file("opening", path, errno);

    batch_ingest_summary summary;
    std::vector<teacher_record> group;
    auto flush = [&] {
        s.put_many(group);
        group.clear();
    };
    auto tell = [&](int64_t number, const std::string & why) {
        if (problem) problem(number, why);
    };
    std::string text;
    for (int64_t number = 1; std::getline(in, text); ++number) {
        if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
        ++summary.lines;
        const json line = json::parse(text, nullptr, false);
        const auto custom_id = line.is_object() ? line.find("custom_id") : line.end();
        if (line.is_discarded() || !line.is_object() || custom_id == line.end() ||
            !custom_id->is_string()) {
            ++summary.malformed;
            tell(number, line.is_discarded() ? "not JSON"
                                             : "not a JSON object with a string \"custom_id\"");
            continue;
        }
        const std::string key = custom_id->get<std::string>();
        const auto found = index_of_key.find(key);
        if (found == index_of_key.end()) {
            ++summary.unknown;
            tell(number, "custom_id \"" + key + "\" is the key of no request of the set");
            continue;
        }
        const json & request = requests[found->second];
        teacher_record record;
        try {
            const auto now = std::chrono::system_clock::now();
            const auto start = std::chrono::steady_clock::now();
            record = record_of_line(t, request, line);
            stamp_record(t, request, now, start, record);
        } catch (const error & e) {
            ++summary.malformed;
            tell(number, e.what());
            continue;
        }
        if (record.failed()) {
            const std::optional<teacher_record> stored = s.get(record.key);
            if (stored && !stored->failed()) {
                ++summary.already_stored;
                continue;
            }
            ++summary.failed;
        } else {
            ++summary.succeeded;
        }
        group.push_back(std::move(record));
        if (group.size() >= ingest_group_size) flush();
    }
    if (in.bad()) fail_file("reading", path, errno);
    flush();
    return summary;
}

}  // namespace distill
