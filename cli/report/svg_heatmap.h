// A confusion matrix as an inline SVG heat map: one square per (row, column)
// pair holding its count, class names along both axes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace distill_cli {

struct heatmap {
    std::string aria_label;
    std::string row_title;           // e.g. "Teacher's prediction" (rows, left)
    std::string column_title;        // e.g. "Distilled student's prediction" (columns, top)
    std::vector<std::string> names;  // [C] row and column labels
    std::vector<std::vector<int64_t>> counts;  // [C][C], counts[row][column] >= 0
};

// One <svg> element. A cell's shade is the square root of its share of the
// row: the diagonal of a good match is dark, and the square root keeps the
// few off-diagonal confusions visible beside it. Diagonal cells are blue,
// off-diagonal ones orange; a row with no counts stays white. Zeros are
// written in light grey so the confusions stand out.
std::string render_svg_heatmap(const heatmap & map);

}  // namespace distill_cli
