// Evaluation of a classifier student on a dataset: accuracy against the
// labels, top-1 agreement and mean KL against the teacher targets, expected
// calibration error and cross-entropy (train/metrics.h defines each).
#pragma once

#include <cstdint>
#include <string>

#include "backend/context.h"
#include "train/example_set.h"

namespace distill {

class device_student;
class model;

struct evaluation {
    int64_t examples = 0;
    double accuracy, agreement, mean_kl, ece, loss;  // NaN when not defined
};

// Evaluation of `m` on `set` (eval mode, batches of 512): the forward on
// the context's device (a CUDA context: students/device_student.h), the
// metrics on the host. `device`, when given, is a device student of `m` on
// that context to run it with (a trainer's: no second session or buffers);
// its parameters are uploaded first. The caller holds m.usage_mutex().
evaluation evaluate_model(model & m, const example_set & set, const context & ctx,
                          device_student * device = nullptr);
// What evaluate_model refuses (a non-classifier, other features, labels or
// teacher classes outside the model's), checked without running the model;
// errors name the set `name`.
void check_evaluation_set(const model & m, const example_set & set, const std::string & name);

}  // namespace distill
