// A teacher behind an OpenAI-compatible HTTP server (OpenAI, vLLM,
// llama.cpp server, Ollama): builds the request body for the dialect,
// retries what may heal (connection errors, 408/409/429/5xx) within a
// count and time budget, and keeps a final failure as the record's error.
#pragma once

#include <chrono>
#include <climits>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

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
    // A final failure that other requests would meet too
    // (fails_every_request: a refused key, no quota, an unknown model). A
    // job stops on it rather than failing every request; a request the
    // server rejects on its own (400, 413, 422) fails alone.
    bool fatal = false;
};

// `text` with each occurrence of `key` replaced by "[redacted]", scanning
// on after each replacement (so it ends whatever the key, "e" and "red"
// included). A key of 8 characters or more is replaced wherever it occurs;
// a shorter one (vLLM's "EMPTY", a test's "x") only where it does not
// continue a run of letters or digits around it, so "max_retries" keeps its
// x while "key x.", "Bearer x" or "%20EMPTY" lose the key. "" = no key.
std::string redact_key(const std::string & text, const std::string & key);

// Every server that returns log-probabilities takes at least this many
// alternatives (the legacy API's own limit), so only larger asks are probed.
constexpr int32_t top_logprobs_everywhere = 5;

class http_teacher final : public teacher {
public:
    // Reads the API key now, so a missing one fails at creation (naming the
    // variable or file, never the key) rather than on the first request.
    explicit http_teacher(http_teacher_settings settings);

    const nlohmann::json & identity() const override { return identity_; }
    // Before the dialect left the identity, it was part of every key.
    std::vector<nlohmann::json> former_identities() const override;
    // The dialect given in the settings (auto_detect included).
    http_dialect configured_dialect() const { return settings_.dialect; }
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

    // The top_logprobs to send for a chat request asking `asked` (> 5):
    // `asked` when the server takes it, else the largest value below it
    // that it takes among 20, 10 and 5. Found by asking (a one-token chat
    // request per value: `asked` first, then smaller) the first time it is
    // not known, then remembered for this teacher (its server and model):
    // the largest value taken and the smallest refused. Requests asking for
    // more are clamped, and the record's parameters_json says so
    // ({"top_logprobs_clamped": {"asked": k, "sent": m}}), instead of every
    // request failing with the same 400. Nothing when the probe was
    // inconclusive (no answer, or an error other than 400: asked again next
    // time). Thread-safe.
    std::optional<int32_t> top_logprobs_to_send(int32_t asked) const;

    // The dialect answers are read in: the one given, or for auto_detect
    // the one detect_dialect() finds from GET <base_url>/models, asked once
    // (the first time it is needed) and remembered. Thread-safe.
    http_dialect dialect() const;

private:
    // The URL, headers and limits of a request of `kind`; the body is the caller's.
    http_request base_request(request_kind kind) const;
    // Whether the server answers a chat request for k alternatives; nothing
    // when its answer says neither (not a 2xx nor a 400).
    std::optional<bool> takes_top_logprobs(int32_t k) const;

    // The key must never leave this object: what a message quotes from
    // outside (the server's body, libcurl's error, the URL) goes through
    // redact() first (some servers echo the key back).
    std::string redact(const std::string & text) const { return redact_key(text, api_key_); }

    http_teacher_settings settings_;
    std::string api_key_;
    nlohmann::json identity_;
    mutable std::mutex probe_mutex_;
    mutable std::mutex detect_mutex_;
    mutable std::optional<http_dialect> detected_;
    mutable int32_t top_logprobs_taken_ = 0;            // the largest seen taken (0: none yet)
    mutable int32_t top_logprobs_refused_ = INT32_MAX;  // the smallest seen refused
};

}  // namespace distill
