#include "teachers/retry_policy.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>

namespace distill {
namespace {

std::string lower_trimmed(const std::string & text) {
    size_t begin = 0, end = text.size();
    while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
    while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
    std::string out = text.substr(begin, end - begin);
    for (char & c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

const std::string * find(const header_map & headers, const char * name) {
    const auto it = headers.find(name);
    return it == headers.end() ? nullptr : &it->second;
}

// A non-negative decimal number, or nothing (a malformed header is ignored,
// not trusted: a wait is only honoured when the server said it clearly).
std::optional<double> parse_number(const std::string & text) {
    const std::string t = lower_trimmed(text);
    if (t.empty()) return std::nullopt;
    char * end = nullptr;
    const double value = std::strtod(t.c_str(), &end);
    if (end != t.c_str() + t.size() || !std::isfinite(value) || value < 0) return std::nullopt;
    return value;
}

// An IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT"), the form RFC 9110 requires.
std::optional<std::chrono::system_clock::time_point> parse_http_date(const std::string & text) {
    std::tm tm{};
    const char * end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == nullptr) return std::nullopt;
    const time_t seconds = timegm(&tm);
    if (seconds == time_t(-1)) return std::nullopt;
    return std::chrono::system_clock::from_time_t(seconds);
}

}  // namespace

bool should_retry(long http_status, bool transport_retryable, const header_map & headers,
                  const std::string & error_code) {
    if (const std::string * v = find(headers, "x-should-retry")) {
        const std::string value = lower_trimmed(*v);
        if (value == "true") return true;
        if (value == "false") return false;
    }
    if (http_status == 0) return transport_retryable;
    if (http_status == 429) return error_code != "insufficient_quota";
    return http_status == 408 || http_status == 409 || http_status >= 500;
}

bool fails_every_request(long http_status, const std::string & error_code) {
    if (error_code == "insufficient_quota" || error_code == "invalid_api_key" ||
        error_code == "model_not_found")
        return true;
    return http_status == 401 || http_status == 403 || http_status == 404;
}

std::optional<std::chrono::milliseconds> server_retry_delay(
    const header_map & headers, std::chrono::system_clock::time_point now) {
    using std::chrono::milliseconds;
    if (const std::string * v = find(headers, "retry-after-ms"))
        if (auto ms = parse_number(*v)) return milliseconds(int64_t(std::ceil(*ms)));
    if (const std::string * v = find(headers, "retry-after")) {
        if (auto seconds = parse_number(*v))
            return milliseconds(int64_t(std::ceil(*seconds * 1000)));
        if (auto date = parse_http_date(*v)) {
            const auto wait = std::chrono::duration_cast<milliseconds>(*date - now);
            return std::max(wait, milliseconds(0));
        }
    }
    return std::nullopt;
}

std::chrono::milliseconds backoff_delay(const retry_settings & settings, int retry,
                                        std::mt19937_64 & rng) {
    const double base = double(std::max(settings.base_delay_ms, 0)) * std::pow(2.0, retry);
    const double capped = std::min(base, double(std::max(settings.max_delay_ms, 0)));
    std::uniform_real_distribution<double> jitter(0.75, 1.0);
    return std::chrono::milliseconds(int64_t(capped * jitter(rng)));
}

}  // namespace distill
