#include "report/svg_reliability.h"

#include "report/format.h"

#include <cmath>
#include <cstdio>

namespace distill_cli {
namespace {

std::string num(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", v);
    return text;
}

bool drawable(const reliability_bin & b) {
    return b.count > 0 && std::isfinite(b.mean_confidence) && std::isfinite(b.accuracy);
}

}  // namespace

std::string render_svg_reliability(const std::vector<reliability_series> & series,
                                   const std::string & aria_label, int width, int height) {
    const double left = 64, right = 18, bottom = 50, row = 18;
    const double top = 16 + row * double(series.size());
    const double plot_w = width - left - right, plot_h = height - top - bottom;
    const auto px = [&](double f) { return left + f * plot_w; };
    const auto py = [&](double f) { return top + plot_h - f * plot_h; };

    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 " +
                      std::to_string(width) + " " + std::to_string(height) + "\" width=\"" +
                      std::to_string(width) + "\" height=\"" + std::to_string(height) +
                      "\" role=\"img\" aria-label=\"" + html_escape(aria_label) +
                      "\" font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\" "
                      "font-size=\"12\" fill=\"#1f2933\">";
    // The legend, one row per series.
    svg += "<g class=\"legend\">";
    for (size_t i = 0; i < series.size(); ++i) {
        bool any = false;
        for (const reliability_bin & b : series[i].bins) any = any || drawable(b);
        const double y = 8 + row * double(i) + row / 2;
        svg += "<line x1=\"" + num(left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(left + 22) +
               "\" y2=\"" + num(y) + "\" stroke=\"" + html_escape(series[i].color) +
               "\" stroke-width=\"2.5\"/><text x=\"" + num(left + 28) + "\" y=\"" + num(y + 4) +
               "\">" + html_escape(any ? series[i].name : series[i].name + " (no data)") +
               "</text>";
    }
    svg += "</g><g class=\"axis\" font-size=\"11\" fill=\"#52606d\">";
    for (int tick = 0; tick <= 5; ++tick) {
        const double f = tick / 5.0;
        const std::string label = std::to_string(tick * 20) + "%";
        svg += "<line x1=\"" + num(left) + "\" y1=\"" + num(py(f)) + "\" x2=\"" +
               num(left + plot_w) + "\" y2=\"" + num(py(f)) + "\" stroke=\"#e4e7eb\"/>";
        svg += "<text x=\"" + num(left - 8) + "\" y=\"" + num(py(f) + 4) +
               "\" text-anchor=\"end\">" + label + "</text>";
        svg += "<text x=\"" + num(px(f)) + "\" y=\"" + num(top + plot_h + 18) +
               "\" text-anchor=\"middle\">" + label + "</text>";
    }
    svg += "</g><path d=\"M" + num(left) + " " + num(top) + "V" + num(top + plot_h) + "H" +
           num(left + plot_w) + "\" fill=\"none\" stroke=\"#52606d\"/>";
    svg += "<line class=\"reference\" x1=\"" + num(px(0)) + "\" y1=\"" + num(py(0)) + "\" x2=\"" +
           num(px(1)) + "\" y2=\"" + num(py(1)) +
           "\" stroke=\"#3e4c59\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"><title>perfect "
           "calibration</title></line>";
    svg += "<text x=\"" + num(left + plot_w / 2) + "\" y=\"" + num(height - 10.0) +
           "\" text-anchor=\"middle\">Confidence (top-class probability)</text>";
    svg += "<text transform=\"translate(16 " + num(top + plot_h / 2) +
           ") rotate(-90)\" text-anchor=\"middle\">Accuracy</text>";
    for (const reliability_series & s : series) {
        std::string points, marks;
        for (const reliability_bin & b : s.bins) {
            if (!drawable(b)) continue;
            const std::string xy[2] = {num(px(b.mean_confidence)), num(py(b.accuracy))};
            points += (points.empty() ? "" : " ") + xy[0] + "," + xy[1];
            marks += "<circle cx=\"" + xy[0] + "\" cy=\"" + xy[1] + "\" r=\"3\"><title>" +
                     html_escape(s.name) + ", confidence " + format_percent(b.lower, 0, "") +
                     "&#8211;" + format_percent(b.upper, 0, "") + ": " +
                     format_grouped(double(b.count), "") + " images, mean confidence " +
                     format_percent(b.mean_confidence, 1, "") + ", accuracy " +
                     format_percent(b.accuracy, 1, "") + "</title></circle>";
        }
        if (points.empty()) continue;
        const std::string color = html_escape(s.color);
        svg += "<g class=\"series\" fill=\"" + color + "\"><polyline points=\"" + points +
               "\" fill=\"none\" stroke=\"" + color +
               "\" stroke-width=\"2\" stroke-linejoin=\"round\"><title>" + html_escape(s.name) +
               "</title></polyline>" + marks + "</g>";
    }
    return svg + "</svg>";
}

}  // namespace distill_cli
