// render_results_table: the results as aligned ASCII columns for a terminal.
#include "report/format.h"
#include "report/report.h"

#include <algorithm>
#include <cmath>

namespace distill_cli {
namespace {

// The median throughput, with the range of the repeats when measured.
std::string throughput(const model_row & m, const char * missing) {
    std::string text = format_grouped(m.samples_per_second_batch256, missing);
    if (std::isfinite(m.samples_per_second_min) && std::isfinite(m.samples_per_second_max))
        text += " (" + format_grouped(m.samples_per_second_min, missing) + "-" +
                format_grouped(m.samples_per_second_max, missing) + ")";
    return text;
}

}  // namespace

std::string render_results_table(const demo_results & results) {
    check_demo_results(results);
    constexpr const char * missing = "-";
    std::vector<std::vector<std::string>> rows = {{"model", "params", "test acc", "agree",
                                                   "KL(t||s)", "ECE", "samples/s@256 (min-max)",
                                                   "ms@1", "train s"}};
    for (const model_row & m : results.models) {
        rows.push_back({m.name, format_grouped(double(m.parameters), missing),
                        format_percent(m.test_accuracy, 2, missing),
                        format_percent(m.agreement_with_teacher, 2, missing),
                        format_fixed(m.mean_kl_to_teacher, 4, missing),
                        format_percent(m.expected_calibration_error, 2, missing),
                        throughput(m, missing), format_fixed(m.latency_ms_batch1, 3, missing),
                        format_fixed(m.training_seconds, 1, missing)});
    }
    std::vector<size_t> widths(rows[0].size(), 0);
    for (const auto & row : rows) {
        for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
    }
    // The name column is left-aligned, the figures right-aligned.
    std::string out;
    for (const auto & row : rows) {
        std::string line;
        for (size_t c = 0; c < row.size(); ++c) {
            const std::string pad(widths[c] - row[c].size(), ' ');
            line += c == 0 ? row[c] + pad : "  " + pad + row[c];
        }
        out += line + "\n";
    }
    return out;
}

}  // namespace distill_cli
