// Text helpers shared by the report renderers: HTML escaping and the number
// formats of the tables (fixed decimals, percentages, thousands groups).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace distill_cli {

// Escapes & < > " ' so the text is safe in HTML/SVG content and in
// double- or single-quoted attributes.
std::string html_escape(std::string_view text);

// `value` with `decimals` digits after the point ("0.1234"), or `missing`
// when it is NaN or infinite.
std::string format_fixed(double value, int decimals, std::string_view missing);
// A fraction as a percentage: 0.91234 -> "91.23%" with 2 decimals.
std::string format_percent(double fraction, int decimals, std::string_view missing);
// Rounded to an integer with thousands separators: 1234567.4 -> "1,234,567";
// `missing` when NaN, infinite or beyond +-1e18 (past int64 after rounding).
std::string format_grouped(double value, std::string_view missing);

}  // namespace distill_cli
