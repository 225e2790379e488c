#include "report/svg_axis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace distill_cli {
namespace {

// The nice number (1, 2, 2.5 or 5 times a power of ten) at or above `rough`.
double nice_step(double rough) {
    const double power = std::pow(10.0, std::floor(std::log10(rough)));
    for (double m : {1.0, 2.0, 2.5, 5.0}) {
        if (m * power >= rough * (1 - 1e-9)) return m * power;
    }
    return 10 * power;
}

// The fewest decimals that write `step` exactly (0.25 -> 2, 5 -> 0).
int decimals_of(double step) {
    for (int d = 0; d < 8; ++d) {
        const double shifted = step * std::pow(10.0, d);
        if (std::fabs(shifted - std::round(shifted)) < 1e-6 * shifted) return d;
    }
    return 8;
}

}  // namespace

std::string axis_ticks::label(double value) const {
    char text[48];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

axis_ticks nice_axis(double low, double high, int target) {
    if (!(high > low)) {
        const double pad = low == 0 ? 1 : std::fabs(low) * 0.1;
        low -= pad;
        high += pad;
    }
    axis_ticks axis;
    const double step = nice_step((high - low) / std::max(target, 1));
    if (!std::isfinite(step) || step <= 0) {  // a range past double's: draw it without ticks
        axis.low = low;
        axis.high = high;
        return axis;
    }
    axis.low = std::floor(low / step + 1e-9) * step;
    axis.high = std::ceil(high / step - 1e-9) * step;
    axis.decimals = decimals_of(step);
    const long count = std::lround((axis.high - axis.low) / step);
    for (long i = 0; i <= count; ++i) {
        const double tick = axis.low + double(i) * step;
        // Snap rounding noise (-1e-17) to 0 so no tick reads "-0.00".
        axis.ticks.push_back(std::fabs(tick) < step * 1e-9 ? 0.0 : tick);
    }
    return axis;
}

axis_ticks epoch_axis(size_t epochs) {
    axis_ticks axis;
    if (epochs <= 1) {
        axis.low = 0;
        axis.high = 2;
        axis.ticks = {1};
        return axis;
    }
    axis.low = 1;
    axis.high = double(epochs);
    // The first of 1, 2, 5, 10, 20, 50, ... that keeps to about 10 ticks.
    double step = 1;
    for (double power = 1; step * 10 < double(epochs); power *= 10) {
        for (double m : {1.0, 2.0, 5.0}) {
            step = m * power;
            if (step * 10 >= double(epochs)) break;
        }
    }
    // Epoch 1 gets a tick too unless it would crowd the first multiple (2).
    if (step != 2) axis.ticks.push_back(1);
    for (double t = step; t <= double(epochs); t += step) {
        if (t > 1) axis.ticks.push_back(t);
    }
    return axis;
}

}  // namespace distill_cli
