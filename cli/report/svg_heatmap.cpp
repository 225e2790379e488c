#include "report/svg_heatmap.h"

#include "report/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace distill_cli {
namespace {

constexpr double cell = 46;
constexpr double char_width = 6.6;         // of the 12 px labels
constexpr double diagonal_slant = 0.7071;  // cos 45°: column labels are drawn at -45°

std::string num(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", v);
    return text;
}

// White blended towards `r, g, b` by t in [0, 1].
std::string shade(double t, int r, int g, int b) {
    const auto mix = [t](int c) { return int(std::lround(255 + (c - 255) * t)); };
    char text[8];
    std::snprintf(text, sizeof text, "#%02x%02x%02x", mix(r), mix(g), mix(b));
    return text;
}

}  // namespace

std::string render_svg_heatmap(const heatmap & map) {
    const size_t classes = map.counts.size();
    size_t longest = 1;
    for (const std::string & name : map.names) longest = std::max(longest, name.size());
    const double label_extent = char_width * double(longest);

    const double left = 34 + label_extent;
    const double top = 34 + label_extent * diagonal_slant;
    const double right = 16 + label_extent * diagonal_slant;
    const double width = left + cell * double(classes) + right;
    const double height = top + cell * double(classes) + 12;

    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"heatmap\" viewBox=\"0 0 " +
                      num(width) + " " + num(height) + "\" width=\"" + num(width) + "\" height=\"" +
                      num(height) + "\" role=\"img\" aria-label=\"" + html_escape(map.aria_label) +
                      "\" font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\" "
                      "font-size=\"12\" fill=\"#1f2933\">";
    svg += "<text x=\"" + num(left + cell * double(classes) / 2) +
           "\" y=\"16\" text-anchor=\"middle\" font-weight=\"600\">" +
           html_escape(map.column_title) + "</text>";
    svg += "<text transform=\"translate(14 " + num(top + cell * double(classes) / 2) +
           ") rotate(-90)\" text-anchor=\"middle\" font-weight=\"600\">" +
           html_escape(map.row_title) + "</text>";

    std::vector<std::string> names(classes);
    for (size_t i = 0; i < classes; ++i) {
        names[i] = i < map.names.size() ? html_escape(map.names[i]) : std::to_string(i);
    }
    for (size_t i = 0; i < classes; ++i) {
        const std::string & name = names[i];
        const double center = double(i) * cell + cell / 2;
        svg += "<text x=\"" + num(left - 8) + "\" y=\"" + num(top + center + 4) +
               "\" text-anchor=\"end\">" + name + "</text>";
        svg += "<text transform=\"translate(" + num(left + center) + " " + num(top - 8) +
               ") rotate(-45)\">" + name + "</text>";
    }

    svg += "<g class=\"cells\" font-size=\"11\" text-anchor=\"middle\">";
    for (size_t row = 0; row < classes; ++row) {
        double row_total = 0;  // in double: int64 counts could overflow a sum
        for (int64_t count : map.counts[row]) row_total += double(count);
        for (size_t column = 0; column < map.counts[row].size(); ++column) {
            const int64_t count = map.counts[row][column];
            const double t = row_total > 0 ? std::sqrt(double(count) / row_total) : 0;
            const std::string fill = row == column ? shade(t, 0x08, 0x51, 0x9c)   // blue
                                                   : shade(t, 0xd9, 0x48, 0x01);  // orange
            const double x = left + double(column) * cell, y = top + double(row) * cell;
            svg += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(cell) +
                   "\" height=\"" + num(cell) + "\" fill=\"" + fill +
                   "\" stroke=\"#ffffff\" stroke-width=\"1\"><title>" + html_escape(map.row_title) +
                   ": " + names[row] + ", " + html_escape(map.column_title) + ": " + names[column] +
                   " &#8212; " + std::to_string(count) + "</title></rect>";
            svg += "<text x=\"" + num(x + cell / 2) + "\" y=\"" + num(y + cell / 2 + 4) +
                   "\" fill=\"" +
                   (t > 0.55     ? "#ffffff"
                    : count == 0 ? "#b8c0c8"
                                 : "#1f2933") +
                   "\">" + std::to_string(count) + "</text>";
        }
    }
    svg += "</g>";
    svg += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" +
           num(cell * double(classes)) + "\" height=\"" + num(cell * double(classes)) +
           "\" fill=\"none\" stroke=\"#9aa5b1\"/>";
    return svg + "</svg>";
}

}  // namespace distill_cli
