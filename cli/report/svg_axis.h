// Axis ranges and tick positions for the SVG charts: "nice" steps (1, 2, 2.5
// or 5 times a power of ten) so tick labels read as round numbers.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace distill_cli {

struct axis_ticks {
    double low = 0, high = 1;   // the drawn range, ticks included
    std::vector<double> ticks;  // ascending, within [low, high]
    int decimals = 0;           // enough to tell the ticks apart

    const std::vector<double> & values() const { return ticks; }
    std::string label(double value) const;
};

// A range covering [low, high] with about `target` intervals. An empty range
// (low == high) is widened around its value.
axis_ticks nice_axis(double low, double high, int target);

// Epochs 1..epochs: the range [1, epochs] (or [0, 2] for a single epoch, to
// centre it), ticks at multiples of 1, 2, 5, 10, ... (at most ~10), and at 1
// unless the step is 2.
axis_ticks epoch_axis(size_t epochs);

}  // namespace distill_cli
