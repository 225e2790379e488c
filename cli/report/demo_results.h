// The figures of one `distill demo` run (a Fashion-MNIST teacher, and a much
// smaller student trained on labels only or distilled from the teacher), as
// plain data for the report renderers (report.h). Figures not measured stay
// NaN; every renderer shows them as missing rather than as a number.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace distill_cli {

constexpr double not_measured = std::numeric_limits<double>::quiet_NaN();

// One bin of a reliability diagram: the test images whose top-class
// probability (confidence) falls in [lower, upper).
struct reliability_bin {
    double lower = 0, upper = 0;
    int64_t count = 0;
    double mean_confidence = not_measured;  // NaN when count = 0
    double accuracy = not_measured;         // share of them classified right
};

// One model, evaluated on the test split.
struct model_row {
    std::string name;  // "teacher", "student (labels only)", "student (distilled)"
    int64_t parameters = 0;
    double test_accuracy = not_measured;  // fraction in [0, 1]
    double agreement_with_teacher =
        not_measured;  // fraction of test images with the teacher's argmax
    double mean_kl_to_teacher =
        not_measured;  // nats: mean over test images of KL(teacher || model)
    double expected_calibration_error = not_measured;   // fraction in [0, 1]
    double samples_per_second_batch256 = not_measured;  // inference throughput at batch 256:
                                                        // the median over the repeats
    double samples_per_second_min = not_measured;       // the slowest and fastest repeat
    double samples_per_second_max = not_measured;
    double latency_ms_batch1 = not_measured;  // inference latency of one image
    double training_seconds = not_measured;
    std::vector<double> per_class_accuracy;    // [C] test accuracy of each class; empty: none
    std::vector<reliability_bin> reliability;  // ascending bins; empty: not measured
};

// One student's learning curves, one value per epoch (epoch 1 first).
struct training_curve {
    std::string model;                        // the model_row name it belongs to
    std::vector<double> train_loss;           // [epochs] mean training loss of the epoch
    std::vector<double> validation_accuracy;  // [epochs] fraction in [0, 1]
};

// The wall-clock time of one phase of the run ("load data", "train teacher", ...).
struct phase_timing {
    std::string phase;
    double seconds = not_measured;
};

struct run_settings {
    int64_t labelled_examples = 0;    // the labels the "labels only" student sees
    int64_t unlabelled_examples = 0;  // images the distilled student sees through the teacher
    // Held out of the training images: chooses each model's best epoch.
    int64_t validation_examples = 0;
    int64_t test_examples = 0;  // touched once, at the end, for every figure of the table
    uint64_t seed = 0;
    int threads = 0;  // the threads used (the real count, also when "all cores")
    int throughput_repeats = 0;
    bool quick = false;  // a shrunk run (--quick): its figures are not the demo's
    std::string dataset_path;
    std::string version;               // distill_version()
    std::string date;                  // when the run ended, ISO 8601 UTC
    std::vector<phase_timing> phases;  // in the order they ran; their sum is the run time
};

struct demo_results {
    std::string title = "Knowledge distillation on Fashion-MNIST";
    std::vector<model_row> models;               // table rows, in display order
    std::vector<training_curve> student_curves;  // one per student
    double teacher_test_accuracy = not_measured;
    // The teacher's accuracy on the validation images: the reference line of
    // the (validation) accuracy chart.
    double teacher_validation_accuracy = not_measured;
    std::vector<std::string> class_names;  // [C]
    // [C][C] test-image counts: row = the teacher's predicted class, column =
    // the distilled student's predicted class. Empty when not measured.
    std::vector<std::vector<int64_t>> confusion;
    run_settings settings;
};

// The teacher's parameters over the smallest student's (models[0] is the
// teacher): "24" for a student 24 times smaller; NaN without both.
double teacher_to_student_parameters(const demo_results & results);

}  // namespace distill_cli
