// summary_json: the figures of report.h as JSON, NaN as null.
#include "report/report.h"

#include <cmath>

namespace distill_cli {
namespace {

nlohmann::json number_or_null(double value) {
    return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

nlohmann::json numbers(const std::vector<double> & values) {
    nlohmann::json out = nlohmann::json::array();
    for (double v : values) out.push_back(number_or_null(v));
    return out;
}

}  // namespace

nlohmann::json summary_json(const demo_results & results) {
    check_demo_results(results);
    nlohmann::json models = nlohmann::json::array();
    for (const model_row & m : results.models) {
        models.push_back({
            {"name", m.name},
            {"parameters", m.parameters},
            {"test_accuracy", number_or_null(m.test_accuracy)},
            {"agreement_with_teacher", number_or_null(m.agreement_with_teacher)},
            {"mean_kl_to_teacher", number_or_null(m.mean_kl_to_teacher)},
            {"expected_calibration_error", number_or_null(m.expected_calibration_error)},
            {"samples_per_second_batch256", number_or_null(m.samples_per_second_batch256)},
            {"latency_ms_batch1", number_or_null(m.latency_ms_batch1)},
            {"training_seconds", number_or_null(m.training_seconds)},
        });
    }
    nlohmann::json curves = nlohmann::json::array();
    for (const training_curve & c : results.student_curves) {
        curves.push_back({{"model", c.model},
                          {"train_loss", numbers(c.train_loss)},
                          {"validation_accuracy", numbers(c.validation_accuracy)}});
    }
    nlohmann::json phases = nlohmann::json::array();
    for (const phase_timing & p : results.settings.phases) {
        phases.push_back({{"phase", p.phase}, {"seconds", number_or_null(p.seconds)}});
    }
    const run_settings & s = results.settings;
    return {
        {"schema", "distill.demo.summary/1"},
        {"title", results.title},
        {"teacher_test_accuracy", number_or_null(results.teacher_test_accuracy)},
        {"models", models},
        {"curves", curves},
        {"class_names", results.class_names},
        {"confusion_teacher_vs_distilled", results.confusion},
        {"settings",
         {{"labelled_examples", s.labelled_examples},
          {"unlabelled_examples", s.unlabelled_examples},
          {"seed", s.seed},
          {"threads", s.threads},
          {"dataset_path", s.dataset_path},
          {"phases", phases}}},
    };
}

}  // namespace distill_cli
