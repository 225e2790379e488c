// When to ask an HTTP teacher again, and how long to wait first. Kept apart
// from the transport so the rules (which statuses, which headers win) read
// in one place: a wrong rule here either hammers a rate-limited server or
// gives up on a request that would have succeeded a second later.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>

namespace distill {

struct retry_settings {
    int32_t max_retries = 2;          // retries after the first attempt
    double max_retry_seconds = 60.0;  // the whole query, waits included, stays under this
    int32_t base_delay_ms = 500;      // first backoff; doubles each retry
    int32_t max_delay_ms = 8000;      // cap of one computed backoff
};

// Response headers, names lowercased (HTTP header names are case-insensitive).
using header_map = std::map<std::string, std::string>;

// Whether a finished attempt is worth repeating. http_status 0 means no HTTP
// answer came (connection refused, reset, timed out): retried when
// `transport_retryable`. x-should-retry, when the server sends it, overrides
// the status (OpenAI uses it to say "this 5xx will not heal" or the reverse).
// A 429 whose error code/type is insufficient_quota is never retried: the
// account is out of credit and waiting will not change that.
bool should_retry(long http_status, bool transport_retryable, const header_map & headers,
                  const std::string & error_code);

// Whether a final failure (one not retried) would meet every request of a
// job, so that asking the rest is waste: a key or account the server
// refuses (401, 403, invalid_api_key), an account out of credit
// (insufficient_quota), an unknown model or endpoint (404, model_not_found).
// Everything else fails its own request only: a 400 for this request (too
// long for the context, invalid, content filtered), 413, 422, a 5xx.
bool fails_every_request(long http_status, const std::string & error_code);

// The server's own wait, from retry-after-ms (milliseconds), else
// retry-after (delta-seconds or an HTTP date, relative to `now`).
std::optional<std::chrono::milliseconds> server_retry_delay(
    const header_map & headers, std::chrono::system_clock::time_point now);

// Exponential backoff with jitter for retry number `retry` (0-based): the
// base doubled per retry, capped, then scaled into [75%, 100%] so clients
// that failed together do not come back together.
std::chrono::milliseconds backoff_delay(const retry_settings & settings, int retry,
                                        std::mt19937_64 & rng);

}  // namespace distill
