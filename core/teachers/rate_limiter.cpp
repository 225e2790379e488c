#include "teachers/rate_limiter.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace distill {
namespace {

using std::chrono::milliseconds;

// Milliseconds per unit of a Go duration; "µs" arrives as UTF-8 bytes.
std::optional<double> unit_ms(const std::string & unit) {
    if (unit == "h") return 3600000.0;
    if (unit == "m") return 60000.0;
    if (unit == "s") return 1000.0;
    if (unit == "ms") return 1.0;
    if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") return 1e-3;
    if (unit == "ns") return 1e-6;
    return std::nullopt;
}

milliseconds ceil_ms(double ms) { return milliseconds(int64_t(std::ceil(ms))); }

}  // namespace

std::optional<milliseconds> parse_reset_duration(const std::string & text) {
    size_t begin = 0, end = text.size();
    while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
    while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
    const std::string t = text.substr(begin, end - begin);
    if (t.empty()) return std::nullopt;
    double total = 0;
    size_t at = 0;
    while (at < t.size()) {
        // A number: digits with at most one '.', no sign, no exponent.
        const size_t number_start = at;
        bool dot = false;
        while (at < t.size() &&
               (std::isdigit(static_cast<unsigned char>(t[at])) || (t[at] == '.' && !dot))) {
            dot = dot || t[at] == '.';
            ++at;
        }
        const std::string number = t.substr(number_start, at - number_start);
        if (number.empty() || number == ".") return std::nullopt;
        const size_t unit_start = at;
        while (at < t.size() && !std::isdigit(static_cast<unsigned char>(t[at])) && t[at] != '.')
            ++at;
        const std::string unit = t.substr(unit_start, at - unit_start);
        const double value = std::strtod(number.c_str(), nullptr);
        if (unit.empty()) {
            // A bare number is seconds, and only on its own ("5", not "1m5").
            if (number_start != 0 || at != t.size()) return std::nullopt;
            total = value * 1000.0;
            break;
        }
        const std::optional<double> scale = unit_ms(unit);
        if (!scale) return std::nullopt;
        total += value * *scale;
    }
    if (!std::isfinite(total) || total > 1e12) return std::nullopt;
    return ceil_ms(total);
}

rate_limiter::rate_limiter(rate_limits limits, clock::time_point now) : refilled_at_(now) {
    const auto make = [](double per_minute, double minimum_capacity) {
        bucket b;
        if (per_minute > 0) {
            b.per_ms = per_minute / 60000.0;
            b.capacity = std::max(per_minute / 60.0, minimum_capacity);
            b.level = b.capacity;
        }
        return b;
    };
    requests_ = make(limits.requests_per_minute, 1.0);
    tokens_ = make(limits.tokens_per_minute, 1.0);
}

void rate_limiter::refill(clock::time_point now) {
    const double elapsed_ms = std::chrono::duration<double, std::milli>(now - refilled_at_).count();
    if (elapsed_ms <= 0) return;
    refilled_at_ = now;
    for (bucket * b : {&requests_, &tokens_})
        if (b->per_ms > 0) b->level = std::min(b->capacity, b->level + elapsed_ms * b->per_ms);
}

// A request larger than the whole bucket waits for a full bucket, then
// goes (the level goes below zero), so it is slowed, never refused.
milliseconds rate_limiter::bucket_wait(const bucket & b, double cost) {
    if (b.per_ms <= 0) return milliseconds(0);
    const double needed = std::min(cost, b.capacity);
    if (b.level >= needed) return milliseconds(0);
    return std::max(ceil_ms((needed - b.level) / b.per_ms), milliseconds(1));
}

milliseconds rate_limiter::window_wait(server_window & w, double cost, clock::time_point now) {
    if (!w.active) return milliseconds(0);
    if (now >= w.until) {
        w.active = false;
        return milliseconds(0);
    }
    if (w.remaining >= cost) return milliseconds(0);
    return std::max(std::chrono::ceil<milliseconds>(w.until - now), milliseconds(1));
}

milliseconds rate_limiter::wait_before(int64_t tokens, clock::time_point now) {
    refill(now);
    const double cost = double(std::max<int64_t>(tokens, 0));
    return std::max({bucket_wait(requests_, 1.0), bucket_wait(tokens_, cost),
                     window_wait(server_requests_, 1.0, now),
                     window_wait(server_tokens_, cost, now)});
}

void rate_limiter::spend(int64_t tokens, clock::time_point now) {
    refill(now);
    const double cost = double(std::max<int64_t>(tokens, 0));
    if (requests_.per_ms > 0) requests_.level -= 1.0;
    if (tokens_.per_ms > 0) tokens_.level -= cost;
    if (server_requests_.active) server_requests_.remaining -= 1.0;
    if (server_tokens_.active) server_tokens_.remaining -= cost;
}

void rate_limiter::settle(int64_t estimated_tokens, int64_t actual_tokens) {
    if (tokens_.per_ms > 0)
        tokens_.level =
            std::min(tokens_.capacity, tokens_.level + double(estimated_tokens - actual_tokens));
}

void rate_limiter::read_window(const header_map & headers, const char * remaining_name,
                               const char * reset_name, server_window & w, clock::time_point now) {
    const auto remaining = headers.find(remaining_name);
    const auto reset = headers.find(reset_name);
    if (remaining == headers.end() || reset == headers.end()) return;
    char * end = nullptr;
    const double left = std::strtod(remaining->second.c_str(), &end);
    const std::optional<milliseconds> wait = parse_reset_duration(reset->second);
    if (end == remaining->second.c_str() || !std::isfinite(left) || left < 0 || !wait) return;
    // The server's count is the truth as of this response; requests still
    // in flight were counted when they arrived there.
    w.active = true;
    w.remaining = left;
    w.until = now + *wait;
}

void rate_limiter::observe(const header_map & headers, clock::time_point now) {
    read_window(headers, "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
                server_requests_, now);
    read_window(headers, "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens", server_tokens_,
                now);
}

int64_t estimate_tokens(const nlohmann::json & request, const nlohmann::json & parameters) {
    const auto completion_budget = [](const nlohmann::json & object) -> int64_t {
        if (!object.is_object()) return 0;
        for (const char * name : {"max_tokens", "max_completion_tokens"}) {
            const auto it = object.find(name);
            if (it != object.end() && it->is_number_integer() && it->get<int64_t>() > 0)
                return it->get<int64_t>();
        }
        return 0;
    };
    const int64_t asked = completion_budget(request);
    return int64_t(request.dump().size() / 4) + (asked > 0 ? asked : completion_budget(parameters));
}

}  // namespace distill
