// The rate limiter of collection jobs (core/teachers/rate_limiter.h) on a
// made-up clock, and the parser of x-ratelimit-reset-* durations.
#include <doctest/doctest.h>

#include "teachers/rate_limiter.h"

using distill::parse_reset_duration;
using distill::rate_limiter;
using std::chrono::milliseconds;

namespace {
// Waits are rounded up from floating-point refill rates: within 1 ms.
bool near(milliseconds wait, int64_t expected_ms) {
    return wait.count() >= expected_ms && wait.count() <= expected_ms + 1;
}
}  // namespace

TEST_CASE("parse_reset_duration: Go durations as OpenAI sends them") {
    CHECK(parse_reset_duration("6m0s") == milliseconds(360000));
    CHECK(parse_reset_duration("1s") == milliseconds(1000));
    CHECK(parse_reset_duration("20ms") == milliseconds(20));
    CHECK(parse_reset_duration("1m30.5s") == milliseconds(90500));
    CHECK(parse_reset_duration("1h2m3s") == milliseconds(3723000));
    CHECK(parse_reset_duration("0.25s") == milliseconds(250));
    CHECK(parse_reset_duration("1500us") == milliseconds(2));  // rounded up, never down to 0
    CHECK(parse_reset_duration("2\xc2\xb5s") == milliseconds(1));
    CHECK(parse_reset_duration("10ns") == milliseconds(1));
    CHECK(parse_reset_duration("0s") == milliseconds(0));
    CHECK(parse_reset_duration(" 7 ") == milliseconds(7000));  // a bare number: seconds
    CHECK(parse_reset_duration("2.5") == milliseconds(2500));
}

TEST_CASE("parse_reset_duration: anything malformed is no duration") {
    for (const char * bad : {"", " ", "s", "ms", "-1s", "1x", "1.2.3s", "1m5", "m5s", "abc", "1 s",
                             "1e3s", "+1s", "999999999999h"})
        CHECK_MESSAGE(!parse_reset_duration(bad).has_value(), bad);
}

TEST_CASE("rate_limiter: a request budget refills evenly") {
    const auto t0 = rate_limiter::clock::time_point{};
    rate_limiter limiter({60, 0}, t0);  // one a second, a bucket of one
    CHECK(limiter.wait_before(0, t0) == milliseconds(0));
    limiter.spend(0, t0);
    CHECK(near(limiter.wait_before(0, t0), 1000));
    CHECK(near(limiter.wait_before(0, t0 + milliseconds(400)), 600));
    CHECK(limiter.wait_before(0, t0 + milliseconds(1000)) == milliseconds(0));
}

TEST_CASE("rate_limiter: a token budget, estimates settled against real usage") {
    const auto t0 = rate_limiter::clock::time_point{};
    rate_limiter limiter({0, 6000}, t0);  // 100 tokens a second, a bucket of 100
    CHECK(limiter.wait_before(80, t0) == milliseconds(0));
    limiter.spend(80, t0);
    CHECK(near(limiter.wait_before(80, t0), 600));  // 20 left, 60 more at 0.1/ms
    limiter.settle(80, 20);                         // it used 20: 60 come back
    CHECK(limiter.wait_before(80, t0) == milliseconds(0));
    // Larger than the bucket: waits for a full bucket, then goes into debt.
    limiter.spend(80, t0);
    CHECK(near(limiter.wait_before(500, t0), 1000));
}

TEST_CASE("rate_limiter: the server's remaining counts hold requests until the reset") {
    const auto t0 = rate_limiter::clock::time_point{};
    rate_limiter limiter({0, 0}, t0);
    CHECK(limiter.wait_before(1000, t0) == milliseconds(0));
    limiter.observe({{"x-ratelimit-remaining-requests", "1"}, {"x-ratelimit-reset-requests", "2s"}},
                    t0);
    CHECK(limiter.wait_before(0, t0) == milliseconds(0));
    limiter.spend(0, t0);
    CHECK(near(limiter.wait_before(0, t0), 2000));
    CHECK(limiter.wait_before(0, t0 + milliseconds(2000)) == milliseconds(0));

    limiter.observe({{"x-ratelimit-remaining-tokens", "50"}, {"x-ratelimit-reset-tokens", "6m0s"}},
                    t0);
    CHECK(limiter.wait_before(40, t0) == milliseconds(0));
    CHECK(near(limiter.wait_before(60, t0), 360000));
    // Malformed or partial headers are ignored, not trusted.
    rate_limiter other({0, 0}, t0);
    other.observe({{"x-ratelimit-remaining-requests", "0"}, {"x-ratelimit-reset-requests", "soon"}},
                  t0);
    other.observe({{"x-ratelimit-remaining-requests", "0"}}, t0);
    other.observe({{"x-ratelimit-remaining-tokens", "lots"}, {"x-ratelimit-reset-tokens", "1s"}},
                  t0);
    CHECK(other.wait_before(10, t0) == milliseconds(0));
}

TEST_CASE("estimate_tokens: JSON bytes / 4 plus the completion budget") {
    const nlohmann::json request = {{"prompt", std::string(387, 'x')}};  // dumps to 400 bytes
    CHECK(distill::estimate_tokens(request, nullptr) == 100);
    CHECK(distill::estimate_tokens(request, {{"max_tokens", 50}}) == 150);
    nlohmann::json own = request;
    own["max_tokens"] = 7;
    CHECK(distill::estimate_tokens(own, {{"max_tokens", 50}}) ==
          int64_t(own.dump().size() / 4) + 7);
}
