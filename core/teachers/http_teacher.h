// A teacher behind an OpenAI-compatible HTTP server (OpenAI, vLLM,
// llama.cpp server, Ollama): builds the request body for the dialect,
// retries what may heal (connection errors, 408/409/429/5xx) within a
// count and time budget, and keeps a final failure as the record's error.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "teachers/http_client.h"
#include "teachers/http_dialect.h"
#include "teachers/retry_policy.h"
#include "teachers/teacher.h"

namespace distill {

struct http_teacher_settings {
    std::string base_url;  // ".../v1" for OpenAI-style servers; the host root for Ollama
    std::string model;
    http_dialect dialect = http_dialect::auto_detect;
    std::string api_key_env;   // name of the variable holding the key, or ""
    std::string api_key_file;  // path of a file holding the key, or ""
    nlohmann::json parameters;
    int64_t timeout_ms = 600000;
    int64_t connect_timeout_ms = 10000;
    int64_t low_speed_seconds = 60;
    bool verify_tls = true;
    retry_settings retry;
};

// What one attempt of a query came to (read_attempt).
struct http_attempt_outcome {
    // false: attempt again after `wait`; true: the record is final.
    bool done = true;
    std::chrono::milliseconds wait{0};
    // A final failure that other requests would meet too: a 4xx that is
    // not retried (bad key, insufficient_quota, a request the server
    // refuses). A job stops on it rather than failing every request.
    bool fatal = false;
};

class http_teacher final : public teacher {
public:
    // Reads the API key now, so a missing one fails at creation (naming the
    // variable or file, never the key) rather than on the first request.
    explicit http_teacher(http_teacher_settings settings);

    const nlohmann::json & identity() const override { return identity_; }
    const nlohmann::json & parameters() const override { return settings_.parameters; }
    // Runs the attempts of one request on the calling thread, waiting
    // between them: prepare, then read_attempt until done.
    void ask(const nlohmann::json & request, teacher_record & record) override;

    // The steps of ask() for a scheduler that keeps many requests in
    // flight (collect.cpp). prepare() builds the HTTP request and sets the
    // record's provider and endpoint; read_attempt() reads attempt number
    // `attempt` (0-based) into the record and says whether to retry.
    // `deadline`: no retry wait may end after it (retry_deadline()).
    http_request prepare(const nlohmann::json & request, teacher_record & record) const;
    http_attempt_outcome read_attempt(const nlohmann::json & request, const http_request & http,
                                      const http_response & response, int attempt,
                                      std::chrono::steady_clock::time_point deadline,
                                      teacher_record & record) const;
    std::chrono::steady_clock::time_point retry_deadline(
        std::chrono::steady_clock::time_point start) const;

    // The largest top_logprobs the server accepts among 20, 10 and 5,
    // found by asking it (a one-token chat request per value, largest
    // first) the first time a request asks for more than 5, then
    // remembered for this teacher (its server and model). Chat requests
    // asking for more are clamped to it, and the record's parameters_json
    // says so ({"top_logprobs_clamped": {"asked": k, "sent": m}}), instead
    // of every request failing with the same 400. Nothing when the probe
    // was inconclusive (no answer, or an error other than 400: asked again
    // next time). Thread-safe.
    std::optional<int32_t> max_top_logprobs() const;

private:
    // The URL, headers and limits of a request of `kind`; the body is the caller's.
    http_request base_request(request_kind kind) const;
    std::optional<int32_t> probe_top_logprobs() const;

    // The key must never leave this object: messages built from server
    // bodies go through redact() first (some servers echo the key back).
    std::string redact(std::string text) const;

    http_teacher_settings settings_;
    std::string api_key_;
    nlohmann::json identity_;
    mutable std::mutex probe_mutex_;
    mutable std::optional<int32_t> max_top_logprobs_;
};

}  // namespace distill
