// Request and token budgets per minute for a collection job, as token
// buckets, tightened by what the server says is left
// (x-ratelimit-remaining-* / x-ratelimit-reset-*). Waiting here, before a
// request is sent, is cheaper than a 429 and its retry.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "teachers/retry_policy.h"

namespace distill {

// A Go-style duration as OpenAI's x-ratelimit-reset-* headers spell it:
// "6m0s", "1s", "20ms", "1m30.5s", "1h2m", "500us"/"500µs", "3ns"; a bare
// number is seconds. Nothing (not zero) for anything malformed or negative:
// a wait is only honoured when the server said it clearly.
std::optional<std::chrono::milliseconds> parse_reset_duration(const std::string & text);

struct rate_limits {
    double requests_per_minute = 0;  // 0 = no limit of our own
    double tokens_per_minute = 0;    // 0 = no limit of our own
};

class rate_limiter {
public:
    using clock = std::chrono::steady_clock;

    // Both buckets start full. A bucket holds one second of its budget
    // (at least one request): requests are spread over the minute rather
    // than sent as a burst of a whole minute's worth that the server would
    // meet with 429s.
    rate_limiter(rate_limits limits, clock::time_point now);

    // How long until a request estimated at `tokens` may start; zero = now.
    std::chrono::milliseconds wait_before(int64_t tokens, clock::time_point now);
    // Spends one request and `tokens` (call when wait_before() says zero).
    void spend(int64_t tokens, clock::time_point now);
    // A request's real token count once known: the difference to its
    // estimate is given back or owed.
    void settle(int64_t estimated_tokens, int64_t actual_tokens);
    // Reads x-ratelimit-remaining-{requests,tokens} and
    // x-ratelimit-reset-{requests,tokens}: with R left until the reset,
    // at most R more (requests or tokens) start before it.
    void observe(const header_map & headers, clock::time_point now);

private:
    struct bucket {
        double per_ms = 0;  // refill rate; 0 = unlimited
        double capacity = 0;
        double level = 0;  // may go below zero: a request larger than the bucket is owed
    };
    // What the server said is left, until `until`.
    struct server_window {
        bool active = false;
        double remaining = 0;
        clock::time_point until;
    };
    void refill(clock::time_point now);
    static std::chrono::milliseconds bucket_wait(const bucket & b, double cost);
    static std::chrono::milliseconds window_wait(server_window & w, double cost,
                                                 clock::time_point now);
    static void read_window(const header_map & headers, const char * remaining_name,
                            const char * reset_name, server_window & w, clock::time_point now);

    bucket requests_, tokens_;
    server_window server_requests_, server_tokens_;
    clock::time_point refilled_at_;
};

// A request's token estimate before it is sent: its JSON length / 4 (about
// four bytes a token in English) plus the max_tokens (or
// max_completion_tokens) it sets, else the teacher-wide parameters' one.
// settle() corrects it once the usage is known.
int64_t estimate_tokens(const nlohmann::json & request, const nlohmann::json & parameters);

}  // namespace distill
