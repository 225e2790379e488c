// What `distill demo` measures of a trained model beyond distill_model_evaluate:
// inference speed (with its spread over repeats), per-class accuracy and the
// bins of a reliability diagram, from the model's probabilities.
#pragma once

#include <distill/distill.hpp>

#include <cstdint>
#include <vector>

#include "report/demo_results.h"

namespace distill_cli {

// Samples/s at batch 256 (the median, min and max of `repeats` timed runs of
// at least 0.2 s each, after a warm-up) and the milliseconds of one image.
void measure_inference(const distill::Context & cpu, distill::Model & model,
                       const distill::Dataset & test, int repeats, model_row & row);

// probabilities [N, C] (softmax rows) and labels [N] of the same images.
std::vector<double> per_class_accuracy(const std::vector<float> & probabilities,
                                       const int64_t * labels, int64_t classes);
// `bins` equal-width confidence bins, bin m holding ((m - 1)/M, m/M], as
// distill_model_evaluate's ECE bins them (its 15).
std::vector<reliability_bin> reliability_bins(const std::vector<float> & probabilities,
                                              const int64_t * labels, int64_t classes,
                                              int bins = 15);

// The argmax class of each row of a [N, C] output.
std::vector<int64_t> predictions(const std::vector<float> & outputs, int64_t classes);

}  // namespace distill_cli
