// A small HTTP POST client over libcurl's multi interface. One call runs a
// batch of requests concurrently on the calling thread (one request is a
// batch of one), so a later scheduler can keep many queries in flight
// without threads per request. Nothing here retries or parses JSON: that
// is retry_policy and http_dialect.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "teachers/retry_policy.h"

namespace distill {

struct http_request {
    std::string url;
    std::string body;                  // sent as application/json
    std::vector<std::string> headers;  // "Name: value" lines
    // Secret header lines (Authorization): sent, never echoed anywhere.
    std::vector<std::string> secret_headers;
    int64_t timeout_ms = 0;          // whole attempt; 0 = none
    int64_t connect_timeout_ms = 0;  // 0 = libcurl's default
    int64_t low_speed_seconds = 0;   // abort below 1 byte/s for this long; 0 = off
    bool verify_tls = true;
};

struct http_response {
    long status = 0;     // HTTP status; 0 when no answer came
    header_map headers;  // lowercased names; the last value wins
    std::string body;
    // Transport failure (status 0): libcurl's reason, and whether it is the
    // kind that may heal by itself (refused, reset, timed out).
    std::string transport_error;
    bool timed_out = false;
    bool transport_retryable = false;
};

// Runs every request to completion (concurrently) and returns the
// responses in the same order. Thread-safe: each call has its own handles.
std::vector<http_response> http_post_all(const std::vector<http_request> & requests);

}  // namespace distill
