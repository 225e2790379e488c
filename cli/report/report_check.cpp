#include "report/report.h"

#include <stdexcept>
#include <string>

namespace distill_cli {

void check_demo_results(const demo_results & results) {
    const auto & confusion = results.confusion;
    if (confusion.empty()) return;
    const size_t classes =
        results.class_names.empty() ? confusion.size() : results.class_names.size();
    const std::string expected = "expected a " + std::to_string(classes) + " x " +
                                 std::to_string(classes) +
                                 " matrix (one row and one column per class)";
    if (confusion.size() != classes) {
        throw std::invalid_argument("confusion: " + expected + ", got " +
                                    std::to_string(confusion.size()) + " rows");
    }
    for (size_t row = 0; row < classes; ++row) {
        if (confusion[row].size() != classes) {
            throw std::invalid_argument("confusion: " + expected + ", got " +
                                        std::to_string(confusion[row].size()) + " columns in row " +
                                        std::to_string(row));
        }
        for (size_t column = 0; column < classes; ++column) {
            if (confusion[row][column] < 0) {
                throw std::invalid_argument("confusion: expected counts >= 0, got " +
                                            std::to_string(confusion[row][column]) + " at row " +
                                            std::to_string(row) + ", column " +
                                            std::to_string(column));
            }
        }
    }
}

}  // namespace distill_cli
