// The chart axes: round tick steps covering the data, epoch ticks that stay
// few, and degenerate ranges widened rather than divided by zero.
#include "report/svg_axis.h"

#include <doctest/doctest.h>

#include <cmath>

using distill_cli::axis_ticks;

namespace {

std::vector<std::string> labels(const axis_ticks & axis) {
    std::vector<std::string> out;
    for (double tick : axis.values()) out.push_back(axis.label(tick));
    return out;
}

}  // namespace

TEST_CASE("report axis: nice ticks cover the data with round steps") {
    const axis_ticks loss = distill_cli::nice_axis(0.16, 1.61, 5);
    CHECK(loss.low == 0.0);
    CHECK(loss.high == 2.0);
    CHECK(labels(loss) == std::vector<std::string>{"0.0", "0.5", "1.0", "1.5", "2.0"});

    const axis_ticks percent = distill_cli::nice_axis(66.8, 91.12, 5);
    CHECK(labels(percent) == std::vector<std::string>{"65", "70", "75", "80", "85", "90", "95"});

    const axis_ticks quarter = distill_cli::nice_axis(0.0, 1.1, 5);
    CHECK(labels(quarter) ==
          std::vector<std::string>{"0.00", "0.25", "0.50", "0.75", "1.00", "1.25"});

    // Through zero: no "-0.0" from rounding noise.
    CHECK(labels(distill_cli::nice_axis(-0.3, 0.3, 6)) ==
          std::vector<std::string>{"-0.3", "-0.2", "-0.1", "0.0", "0.1", "0.2", "0.3"});

    // One value, or only zeros: widened around it.
    CHECK(labels(distill_cli::nice_axis(3, 3, 5)) ==
          std::vector<std::string>{"2.6", "2.8", "3.0", "3.2", "3.4"});
    const axis_ticks zero = distill_cli::nice_axis(0, 0, 4);
    CHECK(zero.low == -1.0);
    CHECK(zero.high == 1.0);

    // Past double's range: drawn without ticks, not looping or dividing by zero.
    const axis_ticks huge = distill_cli::nice_axis(-1e308, 1e308, 5);
    CHECK(huge.values().empty());
    CHECK(huge.low == -1e308);
}

TEST_CASE("report axis: epoch ticks") {
    const axis_ticks one = distill_cli::epoch_axis(1);
    CHECK(one.low == 0.0);
    CHECK(one.high == 2.0);
    CHECK(labels(one) == std::vector<std::string>{"1"});
    CHECK(labels(distill_cli::epoch_axis(0)) == std::vector<std::string>{"1"});
    CHECK(labels(distill_cli::epoch_axis(3)) == std::vector<std::string>{"1", "2", "3"});
    CHECK(labels(distill_cli::epoch_axis(12)) ==
          std::vector<std::string>{"2", "4", "6", "8", "10", "12"});
    CHECK(labels(distill_cli::epoch_axis(25)) ==
          std::vector<std::string>{"1", "5", "10", "15", "20", "25"});
    const axis_ticks hundred = distill_cli::epoch_axis(100);
    CHECK(hundred.low == 1.0);
    CHECK(hundred.high == 100.0);
    CHECK(labels(hundred).size() == 11);  // 1, 10, 20, ..., 100
    CHECK(labels(distill_cli::epoch_axis(1000000)).size() <= 11);
}
