#include "report/format.h"

#include <cmath>
#include <cstdio>

namespace distill_cli {

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string format_fixed(double value, int decimals, std::string_view missing) {
    if (!std::isfinite(value)) return std::string(missing);
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

std::string format_percent(double fraction, int decimals, std::string_view missing) {
    if (!std::isfinite(fraction)) return std::string(missing);
    return format_fixed(fraction * 100.0, decimals, missing) + "%";
}

std::string format_grouped(double value, std::string_view missing) {
    // Beyond 1e18 the rounded value no longer fits the int64 below.
    if (!std::isfinite(value) || std::fabs(value) >= 1e18) return std::string(missing);
    const long long rounded = std::llround(value);
    const std::string digits = std::to_string(rounded < 0 ? -rounded : rounded);
    std::string out = rounded < 0 ? "-" : "";
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

}  // namespace distill_cli
