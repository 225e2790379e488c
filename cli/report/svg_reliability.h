// A reliability diagram as inline SVG: for each model, the accuracy of the
// test images in each confidence bin against the bin's mean confidence; a
// calibrated model lies on the dashed diagonal. The picture behind an ECE.
#pragma once

#include "report/demo_results.h"

#include <string>
#include <vector>

namespace distill_cli {

struct reliability_series {
    std::string name;
    std::vector<reliability_bin> bins;  // bins with count 0 are not drawn
    std::string color;                  // a CSS colour
};

// One <svg> of width x height pixels, both axes 0..100%: the diagonal, and
// per series one <polyline> through its non-empty bins with a dot per bin
// (its title gives the bin, its count, confidence and accuracy). A series
// without any non-empty bin is listed in the legend as "(no data)".
std::string render_svg_reliability(const std::vector<reliability_series> & series,
                                   const std::string & aria_label, int width = 440,
                                   int height = 400);

}  // namespace distill_cli
