#include "teachers/http_teacher.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "common/atomic_file.h"
#include "common/error.h"
#include "teachers/http_client.h"
#include "teachers/request_key.h"

namespace distill {
namespace {

using steady = std::chrono::steady_clock;

std::string trimmed(const std::string & text) {
    const size_t begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) return "";
    return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

std::string read_api_key(const http_teacher_settings & s) {
    if (!s.api_key_env.empty() && !s.api_key_file.empty())
        fail_invalid("options: give api_key_env or api_key_file, not both");
    if (!s.api_key_env.empty()) {
        const char * value = std::getenv(s.api_key_env.c_str());
        if (value == nullptr || trimmed(value).empty())
            fail_invalid("options.api_key_env: environment variable " + s.api_key_env +
                         " is not set or empty");
        return trimmed(value);
    }
    if (!s.api_key_file.empty()) {
        std::string content;
        try {
            content = read_whole_file(s.api_key_file);
        } catch (const error & e) {  // not_found, io_error: kept, with the option's name
            throw error(e.code(), std::string("options.api_key_file: ") + e.what());
        }
        const std::string key = trimmed(content);
        if (key.empty()) fail_invalid("options.api_key_file: " + s.api_key_file + " is empty");
        return key;
    }
    return "";
}

std::string without_trailing_slash(std::string url) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
}

std::string provider_of(http_dialect dialect) {
    return dialect == http_dialect::auto_detect ? "openai-compatible" : dialect_name(dialect);
}

}  // namespace

http_teacher::http_teacher(http_teacher_settings settings) : settings_(std::move(settings)) {
    if (settings_.base_url.empty()) fail_invalid("options.base_url: expected the server's URL");
    if (settings_.base_url.rfind("http://", 0) != 0 && settings_.base_url.rfind("https://", 0) != 0)
        fail_invalid("options.base_url: expected an http:// or https:// URL, got \"" +
                     settings_.base_url + "\"");
    settings_.base_url = without_trailing_slash(settings_.base_url);
    api_key_ = read_api_key(settings_);
    // Who answers: server and model; not how we read its answers (the
    // dialect: auto and llama.cpp ask the same server the same question),
    // never the key (the same question under another key is the same one).
    identity_ = {{"kind", "http"}, {"base_url", settings_.base_url}, {"model", settings_.model}};
}

// Shorter keys are words that may occur by chance in a message.
constexpr size_t key_redacted_anywhere = 8;

namespace {

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
// Whether `outside` continues the run `inside` belongs to (letters with
// letters, digits with digits).
bool continues(char outside, char inside) {
    return (is_letter(outside) && is_letter(inside)) || (is_digit(outside) && is_digit(inside));
}

}  // namespace

std::string redact_key(const std::string & text, const std::string & key) {
    if (key.empty()) return text;
    std::string out;
    size_t from = 0;
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
        const size_t end = at + key.size();
        const bool alone = key.size() >= key_redacted_anywhere ||
                           ((at == 0 || !continues(text[at - 1], key.front())) &&
                            (end == text.size() || !continues(text[end], key.back())));
        if (!alone || at < from) continue;  // inside a word, or overlapping the last one
        out.append(text, from, at - from).append("[redacted]");
        from = end;
    }
    return out.append(text, from, std::string::npos);
}

http_request http_teacher::base_request(request_kind kind) const {
    http_request http;
    http.url = settings_.base_url + endpoint_path(settings_.dialect, kind);
    http.headers.push_back("Accept: application/json");
    if (!api_key_.empty()) http.secret_headers.push_back("Authorization: Bearer " + api_key_);
    http.timeout_ms = settings_.timeout_ms;
    http.connect_timeout_ms = settings_.connect_timeout_ms;
    http.low_speed_seconds = settings_.low_speed_seconds;
    http.verify_tls = settings_.verify_tls;
    return http;
}

std::optional<bool> http_teacher::takes_top_logprobs(int32_t k) const {
    http_request http = base_request(request_kind::chat);
    const nlohmann::json probe = {{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                                  {"max_tokens", 1},
                                  {"logprobs", true},
                                  {"top_logprobs", k}};
    http.body =
        build_body(settings_.dialect, request_kind::chat, probe, nullptr, settings_.model).dump();
    const http_response response = std::move(http_post_all({http}).front());
    if (response.status >= 200 && response.status < 300) return true;
    // Only a 400 says "not this value"; anything else says nothing.
    if (response.status == 400) return false;
    return std::nullopt;
}

std::optional<int32_t> http_teacher::top_logprobs_to_send(int32_t asked) const {
    std::lock_guard<std::mutex> lock(probe_mutex_);
    if (asked <= top_logprobs_taken_) return asked;
    // What was asked first, then the common limits below it (OpenAI's 20,
    // ...), leaving out what is known taken or refused already.
    std::vector<int32_t> ladder;
    if (asked < top_logprobs_refused_) ladder.push_back(asked);
    for (const int32_t k : {20, 10, top_logprobs_everywhere})
        if (k < asked && k > top_logprobs_taken_ && k < top_logprobs_refused_) ladder.push_back(k);
    for (const int32_t k : ladder) {
        const std::optional<bool> taken = takes_top_logprobs(k);
        if (!taken) return std::nullopt;
        if (*taken) {
            top_logprobs_taken_ = k;
            return k;
        }
        top_logprobs_refused_ = k;
    }
    return top_logprobs_taken_;
}

http_dialect http_teacher::dialect() const {
    if (settings_.dialect != http_dialect::auto_detect) return settings_.dialect;
    std::lock_guard<std::mutex> lock(detect_mutex_);
    if (!detected_) {
        http_request http = base_request(request_kind::chat);
        http.url = settings_.base_url + "/models";
        http.get = true;
        // A question of identity, not of answers: a server that is slow to
        // list its models is read as plain OpenAI rather than waited for.
        http.timeout_ms = std::min<int64_t>(settings_.timeout_ms, 10000);
        const http_response response = std::move(http_post_all({http}).front());
        // A server without /models (or down) is read as plain OpenAI; asked once.
        detected_ = response.status >= 200 && response.status < 300
                        ? detect_dialect(response.headers, response.body)
                        : http_dialect::auto_detect;
    }
    return *detected_;
}

std::vector<nlohmann::json> http_teacher::former_identities() const {
    std::vector<nlohmann::json> former;
    for (const http_dialect d :
         {http_dialect::auto_detect, http_dialect::openai, http_dialect::vllm,
          http_dialect::llama_cpp, http_dialect::ollama}) {
        nlohmann::json identity = identity_;
        identity["dialect"] = dialect_name(d);
        former.push_back(std::move(identity));
    }
    return former;
}

http_request http_teacher::prepare(const nlohmann::json & request, teacher_record & record) const {
    const request_kind kind = kind_of(request);
    http_request http = base_request(kind);
    nlohmann::json body =
        build_body(settings_.dialect, kind, request, settings_.parameters, settings_.model);
    const auto top = body.find("top_logprobs");
    if (kind == request_kind::chat && top != body.end() && top->is_number_integer() &&
        top->get<int64_t>() > top_logprobs_everywhere) {
        const int64_t asked = top->get<int64_t>();
        const int32_t probed = int32_t(std::min<int64_t>(asked, INT32_MAX));
        if (const std::optional<int32_t> most = top_logprobs_to_send(probed);
            most && asked > *most) {
            *top = *most;
            nlohmann::json sent =
                settings_.parameters.is_object() ? settings_.parameters : nlohmann::json::object();
            sent["top_logprobs_clamped"] = {{"asked", asked}, {"sent", *most}};
            record.origin.parameters_json = canonical_json(sent);
        }
    }
    http.body = body.dump();
    record.origin.provider = provider_of(dialect());
    record.origin.endpoint = http.url;
    return http;
}

steady::time_point http_teacher::retry_deadline(steady::time_point start) const {
    return start + std::chrono::milliseconds(int64_t(settings_.retry.max_retry_seconds * 1000.0));
}

http_attempt_outcome http_teacher::read_attempt(const nlohmann::json & request,
                                                const http_request & http,
                                                const http_response & response, int attempt,
                                                steady::time_point deadline,
                                                teacher_record & record) const {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    record.origin.attempts = attempt + 1;
    // The id of this attempt's call (a failed earlier attempt's id would mislead).
    const auto id = response.headers.find("x-request-id");
    record.origin.request_id = id == response.headers.end() ? "" : id->second;

    std::string code, failure;
    int32_t failure_status = 0;
    if (response.status >= 200 && response.status < 300) {
        const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
        try {
            if (body.is_discarded()) fail_invalid("response body is not JSON");
            const std::string header_id = record.origin.request_id;
            normalise_response(dialect(), kind_of(request), body, record);
            // The header names the HTTP call; prefer it over the body's id when both exist.
            if (!header_id.empty()) record.origin.request_id = header_id;
        } catch (const error & e) {
            // A half-parsed answer is not data: keep only the failure.
            record.text.clear();
            record.finish_reason.clear();
            record.positions.clear();
            record.embeddings.clear();
            record.kind = logprob_kind::unknown;
            record.error_status = int32_t(status::internal);
            record.error_message = "HTTP " + std::to_string(response.status) + " from " +
                                   redact(http.url) + ": " + redact(e.what());
        }
        return {};
    } else if (response.status != 0) {
        const server_error e = parse_error_body(response.body);
        code = e.code;
        failure = "HTTP " + std::to_string(response.status) + " from " + redact(http.url) + ": " +
                  redact(e.message) + (e.code.empty() ? "" : " (code " + redact(e.code) + ")");
        // 4xx: the request (or the account) is wrong; 5xx: the server.
        failure_status =
            int32_t(response.status < 500 ? status::invalid_argument : status::internal);
    } else {
        failure =
            (response.timed_out
                 ? "request timed out (timeout_ms = " + std::to_string(settings_.timeout_ms) +
                       ", connect_timeout_ms = " + std::to_string(settings_.connect_timeout_ms) +
                       "): "
                 : "connection to " + redact(http.url) + " failed: ") +
            redact(response.transport_error);
        failure_status = int32_t(status::internal);
    }

    const retry_settings & policy = settings_.retry;
    const bool retry =
        should_retry(response.status, response.transport_retryable, response.headers, code);
    std::string why_stopped;
    if (!retry) {
        why_stopped = "not retried";
    } else if (attempt >= policy.max_retries) {
        why_stopped = "gave up after " + std::to_string(attempt + 1) +
                      " attempts (max_retries = " + std::to_string(policy.max_retries) + ")";
    } else {
        const auto wait = server_retry_delay(response.headers, std::chrono::system_clock::now())
                              .value_or(backoff_delay(policy, attempt, rng));
        if (steady::now() + wait <= deadline) return {false, wait, false};
        why_stopped = "gave up after " + std::to_string(attempt + 1) +
                      " attempts: the next wait (" + std::to_string(wait.count()) +
                      " ms) would pass max_retry_seconds";
    }
    if (code == "insufficient_quota")
        why_stopped = "not retried: the account is out of quota; add credit or change the key";
    else if (response.status == 401 && api_key_.empty())
        why_stopped =
            "not retried: no API key was sent (none was configured); give one through "
            "api_key_env or api_key_file";
    record.error_status = failure_status;
    // Only what came from outside was redacted: our own words stay whole.
    record.error_message = failure + "; " + why_stopped;
    return {true, std::chrono::milliseconds(0),
            !retry && response.status != 0 && fails_every_request(response.status, code)};
}

void http_teacher::ask(const nlohmann::json & request, teacher_record & record) {
    const http_request http = prepare(request, record);
    const auto deadline = retry_deadline(steady::now());
    for (int attempt = 0;; ++attempt) {
        const http_response response = std::move(http_post_all({http}).front());
        const http_attempt_outcome outcome =
            read_attempt(request, http, response, attempt, deadline, record);
        if (outcome.done) return;
        std::this_thread::sleep_for(outcome.wait);
    }
}

}  // namespace distill
