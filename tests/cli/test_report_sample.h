// Made-up figures of a demo run, shaped like the real one (Fashion-MNIST, a
// teacher and two students over 12 epochs), for the report tests.
#pragma once

#include "report/demo_results.h"

#include <cmath>

namespace report_test {

inline distill_cli::demo_results sample_results() {
    using namespace distill_cli;
    demo_results r;
    const auto row = [](const char * name, int64_t parameters, double accuracy, double agreement,
                        double kl, double ece, double throughput, double latency, double training) {
        model_row m;
        m.name = name;
        m.parameters = parameters;
        m.test_accuracy = accuracy;
        m.agreement_with_teacher = agreement;
        m.mean_kl_to_teacher = kl;
        m.expected_calibration_error = ece;
        m.samples_per_second_batch256 = throughput;
        m.latency_ms_batch1 = latency;
        m.training_seconds = training;
        return m;
    };
    r.models = {
        row("teacher", 1199882, 0.9112, 1.0, 0.0, 0.0182, 14210.5, 0.412, 312.4),
        row("student (labels only)", 118282, 0.7935, 0.8127, 0.6114, 0.0734, 131072.0, 0.051, 4.9),
        row("student (distilled)", 118282, 0.8781, 0.9263, 0.1532, 0.0211, 130500.2, 0.050, 61.7),
    };
    training_curve labels_only{"student (labels only)", {}, {}};
    training_curve distilled{"student (distilled)", {}, {}};
    for (int epoch = 1; epoch <= 12; ++epoch) {
        const double e = epoch;
        labels_only.train_loss.push_back(1.9 * std::exp(-e / 3.0) + 0.25);
        labels_only.validation_accuracy.push_back(0.79 - 0.2 * std::exp(-e / 2.0));
        distilled.train_loss.push_back(1.2 * std::exp(-e / 4.0) + 0.12);
        distilled.validation_accuracy.push_back(0.88 - 0.25 * std::exp(-e / 3.0));
    }
    r.student_curves = {labels_only, distilled};
    r.teacher_test_accuracy = 0.9112;
    r.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    // Mostly diagonal, with the classic shirt / T-shirt / pullover / coat confusions.
    r.confusion.assign(10, std::vector<int64_t>(10, 0));
    const int64_t diagonal[10] = {902, 985, 861, 921, 850, 978, 640, 962, 987, 955};
    for (int c = 0; c < 10; ++c) r.confusion[c][c] = diagonal[c];
    r.confusion[0][6] = 71, r.confusion[6][0] = 96, r.confusion[2][4] = 78, r.confusion[4][2] = 69;
    r.confusion[6][2] = 88, r.confusion[6][4] = 61, r.confusion[3][4] = 24, r.confusion[4][6] = 41;
    r.confusion[5][7] = 14, r.confusion[7][9] = 22, r.confusion[9][7] = 31, r.confusion[8][0] = 5;
    r.settings.labelled_examples = 1000;
    r.settings.unlabelled_examples = 54000;
    r.settings.validation_examples = 5000;
    r.settings.test_examples = 10000;
    r.settings.seed = 42;
    r.settings.threads = 2;
    r.settings.throughput_repeats = 5;
    r.settings.dataset_path = "/usr/share/datasets/fashion-mnist";
    r.settings.version = "0.1.0";
    r.settings.date = "2026-12-02T05:00:00Z";
    r.settings.phases = {{"load data", 0.31},
                         {"train teacher", 312.4},
                         {"teacher answers", 3.9},
                         {"train student (labels only)", 4.9},
                         {"train student (distilled)", 61.7},
                         {"evaluate", 2.2}};
    r.teacher_validation_accuracy = 0.9051;
    // Throughput spreads, per-class accuracies and reliability bins.
    for (model_row & m : r.models) {
        m.samples_per_second_min = 0.9 * m.samples_per_second_batch256;
        m.samples_per_second_max = 1.05 * m.samples_per_second_batch256;
        for (int c = 0; c < 10; ++c)
            m.per_class_accuracy.push_back(m.test_accuracy - 0.01 * (c % 3));
        for (int b = 0; b < 15; ++b) {
            reliability_bin bin{b / 15.0, (b + 1) / 15.0, b < 4 ? 0 : 40 * b, not_measured,
                                not_measured};
            if (bin.count > 0) {
                bin.mean_confidence = (b + 0.5) / 15.0;
                bin.accuracy = bin.mean_confidence - 0.02;
            }
            m.reliability.push_back(bin);
        }
    }
    return r;
}

}  // namespace report_test
