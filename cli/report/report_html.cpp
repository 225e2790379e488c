// render_report_html: the page around the charts (svg_line_chart.h,
// svg_heatmap.h). Styling is one inline <style>; there is no script.
#include "report/format.h"
#include "report/report.h"
#include "report/svg_heatmap.h"
#include "report/svg_line_chart.h"
#include "report/svg_reliability.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace distill_cli {
namespace {

constexpr const char * missing = "&#8212;";  // an em dash for figures not measured
// Colour-blind-safe (Okabe & Ito), one per student in the order given.
constexpr const char * series_colors[] = {"#d55e00", "#0072b2", "#009e73",
                                          "#cc79a7", "#e69f00", "#56b4e9"};
constexpr const char * teacher_color = "#3e4c59";

constexpr const char * page_style = R"(
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f5f7fa; color: #1f2933;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 32px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 6px; }
h2 { font-size: 18px; margin: 0 0 12px; }
p.lead { margin: 0; color: #52606d; max-width: 820px; }
section { background: #fff; border: 1px solid #e4e7eb; border-radius: 10px;
  padding: 20px 22px; margin-top: 20px; box-shadow: 0 1px 2px rgba(31, 41, 51, .06); }
.cards { display: flex; flex-wrap: wrap; gap: 14px; margin-top: 20px; }
.card { flex: 1 1 200px; background: #fff; border: 1px solid #e4e7eb; border-radius: 10px;
  padding: 14px 18px; box-shadow: 0 1px 2px rgba(31, 41, 51, .06); }
.card .value { font-size: 28px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .name { color: #52606d; }
.card .detail { color: #7b8794; font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 7px 10px; border-bottom: 1px solid #e4e7eb; text-align: right; }
th { font-size: 13px; font-weight: 600; color: #52606d; vertical-align: bottom; }
th:first-child, td:first-child { text-align: left; }
tbody tr:nth-child(even) { background: #f9fafb; }
.figures { display: flex; flex-wrap: wrap; gap: 24px; }
.figures figure { flex: 1 1 440px; min-width: 0; }
svg.chart { width: 100%; height: auto; }
figure { margin: 0; }
figcaption { color: #52606d; font-size: 13px; max-width: 560px; margin-top: 6px; }
.scroll { overflow-x: auto; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0 0 16px; }
dt { color: #52606d; }
dd { margin: 0; word-break: break-all; }
.note { color: #7b8794; font-size: 13px; }
)";

std::string cell(const std::string & text) { return "<td>" + text + "</td>"; }

std::string results_table(const demo_results & r) {
    std::string html =
        "<div class=\"scroll\"><table><thead><tr><th>Model</th><th>Parameters</th>"
        "<th>Test accuracy</th><th>Agreement with teacher</th><th>Mean KL to teacher "
        "(nats)</th><th>ECE</th><th>Throughput, batch 256 (samples/s, median)</th><th>Range "
        "over the repeats</th><th>Latency, batch 1 "
        "(ms)</th><th>Training (s)</th></tr></thead><tbody>";
    for (const model_row & m : r.models) {
        html += "<tr>" + cell(html_escape(m.name)) +
                cell(format_grouped(double(m.parameters), missing)) +
                cell(format_percent(m.test_accuracy, 2, missing)) +
                cell(format_percent(m.agreement_with_teacher, 2, missing)) +
                cell(format_fixed(m.mean_kl_to_teacher, 4, missing)) +
                cell(format_percent(m.expected_calibration_error, 2, missing)) +
                cell(format_grouped(m.samples_per_second_batch256, missing)) +
                cell(std::isfinite(m.samples_per_second_min)
                         ? format_grouped(m.samples_per_second_min, missing) + "&#8211;" +
                               format_grouped(m.samples_per_second_max, missing)
                         : missing) +
                cell(format_fixed(m.latency_ms_batch1, 3, missing)) +
                cell(format_fixed(m.training_seconds, 1, missing)) + "</tr>";
    }
    if (r.models.empty()) html += "<tr><td colspan=\"10\">No models were evaluated.</td></tr>";
    return html + "</tbody></table></div>";
}

std::string accuracy_cards(const demo_results & r) {
    std::string html = "<div class=\"cards\">";
    for (const model_row & m : r.models) {
        html += "<div class=\"card\"><div class=\"value\">" +
                format_percent(m.test_accuracy, 1, missing) + "</div><div class=\"name\">" +
                html_escape(m.name) + "</div><div class=\"detail\">test accuracy &#183; " +
                format_grouped(double(m.parameters), missing) + " parameters</div></div>";
    }
    return html + "</div>";
}

std::string curve_charts(const demo_results & r) {
    line_chart loss{
        "Training loss per epoch of each student", "Epoch", "Training loss", false, {}, {}};
    line_chart accuracy{
        "Validation accuracy per epoch of each student, with the teacher's validation "
        "accuracy",
        "Epoch",
        "Validation accuracy",
        true,
        {},
        {}};
    size_t color = 0;
    for (const training_curve & c : r.student_curves) {
        const std::string hue = series_colors[color++ % std::size(series_colors)];
        loss.series.push_back({c.model, c.train_loss, hue});
        accuracy.series.push_back({c.model, c.validation_accuracy, hue});
    }
    accuracy.references.push_back(
        {"teacher, validation accuracy " +
             format_percent(r.teacher_validation_accuracy, 2, "not measured"),
         r.teacher_validation_accuracy, teacher_color});
    return "<div class=\"figures\"><figure>" + render_svg_line_chart(loss) +
           "<figcaption>Mean training loss of each epoch. The two students minimise different "
           "losses (cross-entropy on labels; divergence from the teacher), so compare shapes, "
           "not heights.</figcaption></figure><figure>" +
           render_svg_line_chart(accuracy) +
           "<figcaption>Accuracy after each epoch on the validation images, held out of the "
           "training images; each model keeps its best epoch here. The dashed line is the "
           "teacher's accuracy on them. The test images play no part.</figcaption></figure>"
           "</div>";
}

std::string confusion_figure(const demo_results & r) {
    if (r.confusion.empty()) return "<p class=\"note\">Not measured in this run.</p>";
    double agreed = 0, total = 0;
    for (size_t row = 0; row < r.confusion.size(); ++row) {
        for (size_t column = 0; column < r.confusion[row].size(); ++column) {
            total += double(r.confusion[row][column]);
            if (row == column) agreed += double(r.confusion[row][column]);
        }
    }
    const heatmap map{"Confusion matrix of the teacher's and the distilled student's predictions",
                      "Teacher's prediction", "Distilled student's prediction", r.class_names,
                      r.confusion};
    return "<figure class=\"scroll\">" + render_svg_heatmap(map) +
           "<figcaption>Test images counted by the teacher's predicted class (rows) and the "
           "distilled student's (columns). They agree on the diagonal: " +
           format_grouped(agreed, missing) + " of " + format_grouped(total, missing) + " (" +
           format_percent(total > 0 ? agreed / total : NAN, 2, missing) +
           "). Shade: square root of the share of the row.</figcaption></figure>";
}

std::string calibration_figure(const demo_results & r) {
    std::vector<reliability_series> series;
    size_t color = 0;
    for (const model_row & m : r.models) {
        const bool teacher = color == 0;
        series.push_back(
            {m.name, m.reliability,
             teacher ? teacher_color : series_colors[(color - 1) % std::size(series_colors)]});
        ++color;
    }
    return "<figure>" +
           render_svg_reliability(series,
                                  "Reliability diagram: accuracy against confidence of "
                                  "each model on the test images") +
           "<figcaption>Test images binned by the model's top-class probability: each dot is a "
           "bin's mean confidence and accuracy (hover for its count). On the dashed diagonal a "
           "model is as sure as it is right; below it, overconfident. The ECE of the table is "
           "the count-weighted mean gap.</figcaption></figure>";
}

std::string per_class_table(const demo_results & r) {
    size_t classes = r.class_names.size();
    for (const model_row & m : r.models) classes = std::max(classes, m.per_class_accuracy.size());
    if (classes == 0) return "<p class=\"note\">Not measured in this run.</p>";
    std::string html = "<div class=\"scroll\"><table><thead><tr><th>Class</th>";
    for (const model_row & m : r.models) html += "<th>" + html_escape(m.name) + "</th>";
    html += "</tr></thead><tbody>";
    for (size_t c = 0; c < classes; ++c) {
        html += "<tr>" +
                cell(c < r.class_names.size() ? html_escape(r.class_names[c]) : std::to_string(c));
        for (const model_row & m : r.models)
            html += cell(c < m.per_class_accuracy.size()
                             ? format_percent(m.per_class_accuracy[c], 1, missing)
                             : missing);
        html += "</tr>";
    }
    return html + "</tbody></table></div>";
}

std::string settings_section(const run_settings & s) {
    std::string html =
        "<dl><dt>Labelled examples</dt><dd>" +
        format_grouped(double(s.labelled_examples), missing) +
        "</dd><dt>Unlabelled examples (distillation)</dt><dd>" +
        format_grouped(double(s.unlabelled_examples), missing) +
        "</dd><dt>Validation examples (held out of training)</dt><dd>" +
        format_grouped(double(s.validation_examples), missing) + "</dd><dt>Test examples</dt><dd>" +
        format_grouped(double(s.test_examples), missing) + "</dd><dt>Seed</dt><dd>" +
        std::to_string(s.seed) + "</dd><dt>Threads</dt><dd>" + std::to_string(s.threads) +
        "</dd><dt>Dataset</dt><dd>" + html_escape(s.dataset_path) +
        "</dd><dt>distill version</dt><dd>" + html_escape(s.version) + "</dd><dt>Date</dt><dd>" +
        html_escape(s.date) + "</dd></dl>";
    html += "<table><thead><tr><th>Phase</th><th>Wall-clock (s)</th></tr></thead><tbody>";
    double total = 0;
    for (const phase_timing & p : s.phases) {
        html += "<tr>" + cell(html_escape(p.phase)) + cell(format_fixed(p.seconds, 2, missing)) +
                "</tr>";
        if (std::isfinite(p.seconds)) total += p.seconds;
    }
    html += "</tbody><tfoot><tr><th>Run time (the sum)</th><th>" + format_fixed(total, 2, missing) +
            "</th></tr></tfoot></table>";
    return html;
}

}  // namespace

std::string render_report_html(const demo_results & results) {
    check_demo_results(results);
    const run_settings & s = results.settings;
    const std::string title =
        html_escape(results.title) + (s.quick ? " &#8212; quick run (a subset)" : "");
    std::string html =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>" +
        title + "</title><style>" + page_style + "</style></head><body><main><header><h1>" + title +
        "</h1>";
    if (s.quick)
        html +=
            "<p class=\"lead\"><strong>A --quick run:</strong> a subset of the images and a few "
            "epochs, to test the pipeline. Its figures are not the demo's; run <code>distill "
            "demo</code> without --quick for those.</p>";
    const double ratio = teacher_to_student_parameters(results);
    html += "<p class=\"lead\">A teacher trained on the labelled training images, and a student " +
            (std::isfinite(ratio) ? format_fixed(ratio, 1, missing) + " times smaller "
                                  : std::string("smaller ")) +
            "trained two ways: on " + format_grouped(double(s.labelled_examples), missing) +
            " labelled images only, and by distillation from the teacher's answers on " +
            format_grouped(double(s.unlabelled_examples), missing) +
            " images whose labels it never sees. Each model's epochs are chosen on " +
            format_grouped(double(s.validation_examples), missing) +
            " validation images held out of the training images; the table's figures are on the " +
            format_grouped(double(s.test_examples), missing) +
            " test images, measured once at the end.</p></header>";
    html += accuracy_cards(results);
    html += "<section><h2>Results</h2>" + results_table(results) +
            "<p class=\"note\">Agreement: share of test images where the model's top class is the "
            "teacher's. Mean KL: KL(teacher &#8214; model) in nats, averaged over test images. "
            "ECE: expected calibration error (gap between confidence and accuracy, over "
            "confidence bins). Throughput and latency: inference on this machine with " +
            std::to_string(s.threads) + " threads; throughput is the median of " +
            std::to_string(s.throughput_repeats) +
            " repeats, with the slowest and fastest.</p></section>";
    html += "<section><h2>Learning curves</h2>" + curve_charts(results) + "</section>";
    html += "<section><h2>Where the distilled student and the teacher disagree</h2>" +
            confusion_figure(results) + "</section>";
    html += "<section><h2>Calibration and per-class accuracy</h2><div class=\"figures\">" +
            calibration_figure(results) + "<div>" + per_class_table(results) +
            "</div></div></section>";
    html += "<section><h2>Run settings</h2>" + settings_section(s) + "</section>";
    return html + "</main></body></html>\n";
}

}  // namespace distill_cli
