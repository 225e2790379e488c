#include "report/svg_line_chart.h"

#include "report/format.h"
#include "report/svg_axis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace distill_cli {
namespace {

constexpr double legend_row_height = 18;
constexpr double legend_swatch_width = 22;
constexpr double char_width = 6.6;  // average glyph width of the 12 px sans-serif text

std::string num(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", v);
    return text;
}

struct legend_entry {
    std::string label;
    std::string color;
    bool dashed;
};

// Lays the entries out left to right, wrapping at `width`; returns the SVG
// and sets `rows` to the number of rows used.
std::string render_legend(const std::vector<legend_entry> & entries, double left, double top,
                          double width, int & rows) {
    std::string svg = "<g class=\"legend\">";
    double x = left, y = top;
    rows = entries.empty() ? 0 : 1;
    for (const legend_entry & e : entries) {
        const double item_width =
            legend_swatch_width + 6 + char_width * double(e.label.size()) + 18;
        if (x > left && x + item_width > left + width) {
            x = left;
            y += legend_row_height;
            ++rows;
        }
        const std::string mid = num(y + legend_row_height / 2);
        svg += "<line x1=\"" + num(x) + "\" y1=\"" + mid + "\" x2=\"" +
               num(x + legend_swatch_width) + "\" y2=\"" + mid + "\" stroke=\"" +
               html_escape(e.color) + "\" stroke-width=\"2.5\"" +
               (e.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>";
        svg += "<text x=\"" + num(x + legend_swatch_width + 6) + "\" y=\"" + num(y + 13) + "\">" +
               html_escape(e.label) + "</text>";
        x += item_width;
    }
    return svg + "</g>";
}

}  // namespace

std::string render_svg_line_chart(const line_chart & chart, int width, int height) {
    // Work in displayed units: percentages are drawn as 0..100.
    const double scale = chart.y_as_percent ? 100.0 : 1.0;
    size_t epochs = 0;
    double low = INFINITY, high = -INFINITY;
    for (const chart_series & s : chart.series) {
        epochs = std::max(epochs, s.values.size());
        for (double v : s.values) {
            if (std::isfinite(v)) low = std::min(low, v * scale), high = std::max(high, v * scale);
        }
    }
    for (const chart_reference_line & r : chart.references) {
        if (std::isfinite(r.value))
            low = std::min(low, r.value * scale), high = std::max(high, r.value * scale);
    }
    if (!(low <= high)) low = 0, high = chart.y_as_percent ? 100 : 1;  // nothing finite to show
    const axis_ticks y_axis = nice_axis(low, high, 5);
    const axis_ticks x_axis = epoch_axis(epochs);

    std::vector<legend_entry> entries;
    for (const chart_series & s : chart.series) {
        const bool any = std::any_of(s.values.begin(), s.values.end(),
                                     [](double v) { return std::isfinite(v); });
        entries.push_back({any ? s.name : s.name + " (no data)", s.color, false});
    }
    for (const chart_reference_line & r : chart.references)
        entries.push_back({r.name, r.color, true});

    const double left = 64, right = 18, bottom = 50;
    int legend_rows = 0;
    const std::string legend = render_legend(entries, left, 8, width - left - right, legend_rows);
    const double top = 16 + legend_row_height * legend_rows;
    const double plot_w = width - left - right, plot_h = height - top - bottom;
    const auto px = [&](double epoch) {
        return left + (epoch - x_axis.low) / (x_axis.high - x_axis.low) * plot_w;
    };
    const auto py = [&](double y) {
        return top + plot_h - (y - y_axis.low) / (y_axis.high - y_axis.low) * plot_h;
    };

    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 " +
                      std::to_string(width) + " " + std::to_string(height) + "\" width=\"" +
                      std::to_string(width) + "\" height=\"" + std::to_string(height) +
                      "\" role=\"img\" aria-label=\"" + html_escape(chart.aria_label) +
                      "\" font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\" "
                      "font-size=\"12\" fill=\"#1f2933\">";
    svg += legend;

    // Grid and y ticks, then x ticks, then the axes on top of the grid.
    svg += "<g class=\"axis\" font-size=\"11\" fill=\"#52606d\">";
    for (double y : y_axis.values()) {
        const std::string at = num(py(y));
        svg += "<line x1=\"" + num(left) + "\" y1=\"" + at + "\" x2=\"" + num(left + plot_w) +
               "\" y2=\"" + at + "\" stroke=\"#e4e7eb\"/>";
        svg += "<text x=\"" + num(left - 8) + "\" y=\"" + num(py(y) + 4) +
               "\" text-anchor=\"end\">" + y_axis.label(y) + (chart.y_as_percent ? "%" : "") +
               "</text>";
    }
    for (double x : x_axis.values()) {
        const std::string at = num(px(x));
        svg += "<line x1=\"" + at + "\" y1=\"" + num(top + plot_h) + "\" x2=\"" + at + "\" y2=\"" +
               num(top + plot_h + 5) + "\" stroke=\"#52606d\"/>";
        svg += "<text x=\"" + at + "\" y=\"" + num(top + plot_h + 18) +
               "\" text-anchor=\"middle\">" + x_axis.label(x) + "</text>";
    }
    svg += "</g>";
    svg += "<path d=\"M" + num(left) + " " + num(top) + "V" + num(top + plot_h) + "H" +
           num(left + plot_w) + "\" fill=\"none\" stroke=\"#52606d\"/>";
    svg += "<text x=\"" + num(left + plot_w / 2) + "\" y=\"" + num(height - 10.0) +
           "\" text-anchor=\"middle\">" + html_escape(chart.x_label) + "</text>";
    svg += "<text transform=\"translate(16 " + num(top + plot_h / 2) +
           ") rotate(-90)\" text-anchor=\"middle\">" + html_escape(chart.y_label) + "</text>";

    for (const chart_reference_line & r : chart.references) {
        if (!std::isfinite(r.value)) continue;
        const std::string at = num(py(r.value * scale));
        svg += "<line class=\"reference\" x1=\"" + num(left) + "\" y1=\"" + at + "\" x2=\"" +
               num(left + plot_w) + "\" y2=\"" + at + "\" stroke=\"" + html_escape(r.color) +
               "\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"><title>" + html_escape(r.name) +
               "</title></line>";
    }
    // Dots only while they stay apart; hovering one shows its value.
    const bool dots = epochs <= 60;
    for (const chart_series & s : chart.series) {
        std::string points, marks;
        for (size_t i = 0; i < s.values.size(); ++i) {
            const double v = s.values[i] * scale;
            if (!std::isfinite(v)) continue;
            const std::string xy[2] = {num(px(double(i + 1))), num(py(v))};
            points += (points.empty() ? "" : " ") + xy[0] + "," + xy[1];
            if (dots) {
                marks += "<circle cx=\"" + xy[0] + "\" cy=\"" + xy[1] + "\" r=\"3\"><title>" +
                         html_escape(s.name) + ", epoch " + std::to_string(i + 1) + ": " +
                         format_fixed(v, chart.y_as_percent ? 2 : 4, "") +
                         (chart.y_as_percent ? "%" : "") + "</title></circle>";
            }
        }
        if (points.empty()) continue;
        const std::string color = html_escape(s.color);
        svg +=
            "<g class=\"series\" fill=\"" + color + "\"><polyline points=\"" + points +
            "\" fill=\"none\" stroke=\"" + color +
            "\" stroke-width=\"2.5\" stroke-linejoin=\"round\" stroke-linecap=\"round\"><title>" +
            html_escape(s.name) + "</title></polyline>" + marks + "</g>";
    }
    return svg + "</svg>";
}

}  // namespace distill_cli
