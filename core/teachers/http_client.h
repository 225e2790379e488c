// A small HTTP client over libcurl's multi interface (POSTs, and the GET
// of a server's /models): http_multi keeps many requests in flight on the
// calling thread (no thread per request; connections are reused between
// requests), http_post_all runs a batch to completion. Nothing here
// retries or parses JSON: that is retry_policy and http_dialect.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "teachers/retry_policy.h"

namespace distill {

struct http_request {
    std::string url;
    std::string body;                  // sent as application/json (POST)
    bool get = false;                  // a GET without a body instead of a POST
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

// Requests in flight, driven by poll() on one thread. Not thread-safe:
// one owner thread per object (as libcurl's multi handle requires).
class http_multi {
public:
    http_multi();
    ~http_multi();
    http_multi(const http_multi &) = delete;
    http_multi & operator=(const http_multi &) = delete;

    // Starts `request` (copied); its response comes back from poll() with `tag`.
    void start(uint64_t tag, const http_request & request);
    // Drives the transfers for at most `max_wait` (less when one finishes)
    // and returns those that finished, each with its tag.
    std::vector<std::pair<uint64_t, http_response>> poll(std::chrono::milliseconds max_wait);
    size_t in_flight() const { return transfers_.size(); }

private:
    struct transfer;
    struct multi_deleter {
        void operator()(void * multi) const;
    };
    std::unique_ptr<void, multi_deleter> multi_;
    std::map<uint64_t, std::unique_ptr<transfer>> transfers_;
};

// Runs every request to completion (concurrently) and returns the
// responses in the same order. Thread-safe: each call has its own handles.
std::vector<http_response> http_post_all(const std::vector<http_request> & requests);

}  // namespace distill
