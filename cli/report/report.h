// The three renderings of a demo run's figures (demo_results.h): the HTML
// page `distill demo --report` writes, the JSON summary `--json` prints, and
// the text table printed on stdout.
#pragma once

#include "report/demo_results.h"

#include <nlohmann/json.hpp>

#include <string>

namespace distill_cli {

// Throws std::invalid_argument when `results` cannot be rendered: a
// confusion matrix that is not C x C (C = class_names.size(), or its own
// row count when no class names are given), or a negative count in it.
// Every renderer below checks this first. NaN figures and empty curves are
// valid: they render as missing.
void check_demo_results(const demo_results & results);

// One self-contained HTML page (no script, no external resource): the
// results table, two SVG line charts (training loss and validation accuracy
// per epoch of each student, the teacher's test accuracy as a dashed line),
// the teacher-vs-distilled-student confusion matrix as an SVG heat map, a
// reliability diagram and the per-class accuracy, and the run settings (a
// --quick run is marked as such at the top). Every piece of text from `results` is HTML-escaped.
std::string render_report_html(const demo_results & results);

// The same figures as JSON; missing figures (NaN) are null. Keys:
//   schema                  "distill.demo.summary/2"
//   title                   string
//   quick                   true for a --quick run (a subset: not the demo's figures)
//   version, date           distill_version(); the run's end, ISO 8601 UTC
//   teacher_test_accuracy, teacher_validation_accuracy   fractions
//   teacher_to_student_parameters   the teacher's parameters / the smallest student's
//   models[]                name, parameters, test_accuracy, agreement_with_teacher,
//                           mean_kl_to_teacher (nats), expected_calibration_error,
//                           samples_per_second_batch256 (median of the repeats),
//                           samples_per_second_min, samples_per_second_max,
//                           latency_ms_batch1, training_seconds, per_class_accuracy[C],
//                           reliability[] of {lower, upper, count, mean_confidence, accuracy}
//   curves[]                model, train_loss[], validation_accuracy[] (one per epoch)
//   class_names[]           string
//   confusion_teacher_vs_distilled  [C][C] counts, rows = teacher's prediction
//   settings                labelled_examples, unlabelled_examples, validation_examples,
//                           test_examples, seed, threads, throughput_repeats,
//                           dataset_path, phases[] of {phase, seconds}
nlohmann::json summary_json(const demo_results & results);

// The results table as fixed-width text (ASCII, one row per model, columns
// sized to their widest cell), ending in a newline; missing figures are "-".
std::string render_results_table(const demo_results & results);

}  // namespace distill_cli
