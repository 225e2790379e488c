// summary_json: the figures of report.h as JSON, NaN as null.
#include "report/report.h"

#include <algorithm>
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

nlohmann::json bins(const std::vector<reliability_bin> & reliability) {
    nlohmann::json out = nlohmann::json::array();
    for (const reliability_bin & b : reliability)
        out.push_back({{"lower", b.lower},
                       {"upper", b.upper},
                       {"count", b.count},
                       {"mean_confidence", number_or_null(b.mean_confidence)},
                       {"accuracy", number_or_null(b.accuracy)}});
    return out;
}

}  // namespace

double teacher_to_student_parameters(const demo_results & results) {
    if (results.models.size() < 2) return not_measured;
    int64_t smallest = results.models[1].parameters;
    for (size_t i = 2; i < results.models.size(); ++i)
        smallest = std::min(smallest, results.models[i].parameters);
    if (smallest <= 0 || results.models[0].parameters <= 0) return not_measured;
    return double(results.models[0].parameters) / double(smallest);
}

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
            {"samples_per_second_min", number_or_null(m.samples_per_second_min)},
            {"samples_per_second_max", number_or_null(m.samples_per_second_max)},
            {"latency_ms_batch1", number_or_null(m.latency_ms_batch1)},
            {"training_seconds", number_or_null(m.training_seconds)},
            {"per_class_accuracy", numbers(m.per_class_accuracy)},
            {"reliability", bins(m.reliability)},
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
        {"schema", "distill.demo.summary/2"},
        {"title", results.title},
        {"quick", s.quick},
        {"version", s.version},
        {"date", s.date},
        {"teacher_test_accuracy", number_or_null(results.teacher_test_accuracy)},
        {"teacher_validation_accuracy", number_or_null(results.teacher_validation_accuracy)},
        {"teacher_to_student_parameters", number_or_null(teacher_to_student_parameters(results))},
        {"models", models},
        {"curves", curves},
        {"class_names", results.class_names},
        {"confusion_teacher_vs_distilled", results.confusion},
        {"settings",
         {{"labelled_examples", s.labelled_examples},
          {"unlabelled_examples", s.unlabelled_examples},
          {"validation_examples", s.validation_examples},
          {"test_examples", s.test_examples},
          {"seed", s.seed},
          {"threads", s.threads},
          {"throughput_repeats", s.throughput_repeats},
          {"dataset_path", s.dataset_path},
          {"phases", phases}}},
    };
}

}  // namespace distill_cli
