// A line chart as inline SVG: y over epochs 1..n for a few series, dashed
// horizontal reference lines, axes with "nice" ticks, a legend above the
// plot. No script or external resource; all text escaped.
#pragma once

#include <string>
#include <vector>

namespace distill_cli {

struct chart_series {
    std::string name;
    std::vector<double> values;  // [epochs]: values[i] is epoch i + 1; NaN = not measured
    std::string color;           // a CSS colour, e.g. "#0072b2"
};

struct chart_reference_line {
    std::string name;  // the legend entry
    double value;      // y; NaN draws nothing
    std::string color;
};

struct line_chart {
    std::string aria_label;  // what the chart shows, for screen readers
    std::string x_label;
    std::string y_label;
    bool y_as_percent = false;  // y values are fractions, ticks read "85%"
    std::vector<chart_series> series;
    std::vector<chart_reference_line> references;
};

// One <svg> element of width x height pixels. Each series with at least one
// finite value is one <polyline> (NaN points are skipped) with a dot per
// point; a series without any is listed in the legend as "(no data)".
std::string render_svg_line_chart(const line_chart & chart, int width = 560, int height = 340);

}  // namespace distill_cli
