// render_report_html: a well-formed, self-contained page whose text is
// escaped, with one polyline per plotted series, and no crash on NaN or
// empty curves.
#include "test_report_sample.h"

#include "report/report.h"

#include <doctest/doctest.h>

#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using distill_cli::render_report_html;
using report_test::sample_results;

namespace {

size_t count_of(const std::string & text, const std::string & needle) {
    size_t count = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        ++count;
    }
    return count;
}

// Checks that every opened element is closed in order (void elements and
// "/>" excepted), that text holds no stray '>' and every '&' starts an
// entity. Returns "" when well-formed, else what is wrong and where.
std::string well_formed_problem(const std::string & html) {
    static const std::set<std::string> void_elements = {"meta", "br", "hr", "img", "input", "link"};
    static const std::regex entity("^&(amp|lt|gt|quot|#[0-9]+);");
    std::vector<std::string> open;
    size_t at = 0;
    while (at < html.size()) {
        const size_t tag = html.find('<', at);
        const std::string text =
            html.substr(at, tag == std::string::npos ? std::string::npos : tag - at);
        if (text.find('>') != std::string::npos)
            return "a raw '>' in text near offset " + std::to_string(at);
        for (size_t amp = text.find('&'); amp != std::string::npos; amp = text.find('&', amp + 1)) {
            if (!std::regex_search(text.substr(amp, 12), entity)) {
                return "a bare '&' at offset " + std::to_string(at + amp);
            }
        }
        if (tag == std::string::npos) break;
        if (html.compare(tag, 2, "<!") == 0) {  // the doctype
            at = html.find('>', tag) + 1;
            continue;
        }
        const size_t end = html.find('>', tag);
        if (end == std::string::npos) return "an unterminated tag at offset " + std::to_string(tag);
        const std::string inside = html.substr(tag + 1, end - tag - 1);
        if (inside.find('<') != std::string::npos)
            return "a '<' inside the tag at offset " + std::to_string(tag);
        if (inside.empty()) return "an empty tag at offset " + std::to_string(tag);
        if (inside[0] == '/') {
            const std::string name = inside.substr(1);
            if (open.empty() || open.back() != name) {
                return "</" + name + "> at offset " + std::to_string(tag) + " closes <" +
                       (open.empty() ? std::string("nothing") : open.back()) + ">";
            }
            open.pop_back();
            at = end + 1;
            continue;
        }
        const std::string name = inside.substr(0, inside.find_first_of(" \t\n/"));
        at = end + 1;
        if (inside.back() == '/' || void_elements.count(name) > 0) continue;
        open.push_back(name);
        if (name == "style") {  // raw text up to its end tag
            at = html.find("</style>", at);
            if (at == std::string::npos) return "an unclosed <style>";
        }
    }
    return open.empty() ? "" : "<" + open.back() + "> is never closed";
}

}  // namespace

TEST_CASE("report html: the checker itself catches what it should") {
    CHECK(well_formed_problem("<p><b>x</b></p>") == "");
    CHECK(well_formed_problem("<p><b>x</p>") == "</p> at offset 7 closes <b>");
    CHECK(well_formed_problem("<div>") == "<div> is never closed");
    CHECK(well_formed_problem("<p>a & b</p>") == "a bare '&' at offset 5");
    CHECK(well_formed_problem("<p>a > b</p>") == "a raw '>' in text near offset 3");
}

TEST_CASE("report html: the sample page is well formed, self-contained and complete") {
    const std::string html = render_report_html(sample_results());
    CHECK(well_formed_problem(html) == "");
    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    for (const char * external : {"<script", "<link", "src=", "href=", "url(", "@import"}) {
        CAPTURE(external);
        CHECK(html.find(external) == std::string::npos);
    }
    // Two line charts, the heat map and the reliability diagram; one polyline
    // per student per line chart and per model in the diagram; the teacher's
    // validation accuracy and the diagonal as dashed reference lines.
    CHECK(count_of(html, "<svg") == 4);
    CHECK(count_of(html, "<polyline") == 4 + 3);
    CHECK(count_of(html, "class=\"reference\"") == 2);
    CHECK(count_of(html, "stroke-dasharray") == 3);  // the references and the legend swatch
    CHECK(count_of(html, "<rect") == 101);           // 10 x 10 cells and the frame
    // 12 epochs: a dot per point, with its value on hover; 11 non-empty bins a model.
    CHECK(count_of(html, "<circle") == 48 + 3 * 11);
    CHECK(html.find("<title>student (distilled), epoch 12: 87.54%</title>") != std::string::npos);
    CHECK(html.find("teacher, validation accuracy 90.51%") != std::string::npos);
    CHECK(html.find("<title>teacher, confidence 27%&#8211;33%: 160 images, mean confidence "
                    "30.0%, accuracy 28.0%</title>") != std::string::npos);
    // Table figures, class names, settings and the agreement on the diagonal.
    for (const std::string expected :
         {"<td>student (distilled)</td><td>118,282</td><td>87.81%</td><td>92.63%</td>"
          "<td>0.1532</td><td>2.11%</td><td>130,500</td><td>117,450&#8211;137,025</td>"
          "<td>0.050</td><td>61.7</td>",
          ">Ankle boot</text>", ">T-shirt/top</text>", "<dd>54,000</dd>",
          "<dt>Validation examples (held out of training)</dt><dd>5,000</dd>",
          "<dt>Test examples</dt><dd>10,000</dd>", "<dd>0.1.0</dd>",
          "<dd>2026-12-02T05:00:00Z</dd>", "with 2 threads; throughput is the median of 5 repeats",
          "a student 10.1 times smaller", "<tr><td>Ankle boot</td><td>91.1%</td>",
          "<dd>/usr/share/datasets/fashion-mnist</dd>", "<td>train teacher</td><td>312.40</td>",
          "<th>Run time (the sum)</th><th>385.41</th>",
          "They agree on the diagonal: 9,041 of 9,641 (93.78%)"}) {
        CAPTURE(expected);
        CHECK(html.find(expected) != std::string::npos);
    }
}

TEST_CASE("report html: text from the results is escaped everywhere") {
    distill_cli::demo_results r = sample_results();
    const std::string nasty = "a<b & c>d \"e\" 'f'";
    const std::string escaped = "a&lt;b &amp; c&gt;d &quot;e&quot; &#39;f&#39;";
    r.title = nasty;
    r.models[2].name = nasty;
    r.student_curves[1].model = nasty;
    r.class_names[3] = nasty;
    r.settings.dataset_path = nasty;
    r.settings.phases[0].phase = nasty;
    const std::string html = render_report_html(r);
    CHECK(well_formed_problem(html) == "");
    CHECK(html.find("a<b") == std::string::npos);
    CHECK(html.find("\"e\"") == std::string::npos);
    // Title (twice), table, card, legends (2), polyline and dot titles,
    // heat-map labels and cell titles, dataset, phase.
    CHECK(count_of(html, escaped) > 10);
    CHECK(html.find("<h1>" + escaped + "</h1>") != std::string::npos);
}

TEST_CASE("report html: NaN figures, empty and partial curves render without crashing") {
    distill_cli::demo_results r = sample_results();
    r.models[0].test_accuracy = distill_cli::not_measured;
    r.models[1].mean_kl_to_teacher = std::numeric_limits<double>::infinity();
    r.teacher_test_accuracy = distill_cli::not_measured;
    r.teacher_validation_accuracy = distill_cli::not_measured;
    r.student_curves[0].train_loss.clear();
    r.student_curves[0].validation_accuracy.clear();
    r.student_curves[1].train_loss = {distill_cli::not_measured, 0.9, distill_cli::not_measured,
                                      0.5};
    r.student_curves[1].validation_accuracy = {distill_cli::not_measured};
    const std::string html = render_report_html(r);
    CHECK(well_formed_problem(html) == "");
    CHECK_FALSE(std::regex_search(html, std::regex("\\b(nan|inf)\\b", std::regex::icase)));
    // Only the distilled student's loss has data, and the reliability diagram.
    CHECK(count_of(html, "<polyline") == 1 + 3);
    CHECK(count_of(html, "(no data)") == 3);
    CHECK(count_of(html, "class=\"reference\"") == 1);  // the diagonal
    CHECK(html.find("teacher, validation accuracy not measured") != std::string::npos);
    CHECK(html.find("<td>teacher</td><td>1,199,882</td><td>&#8212;</td>") != std::string::npos);

    // Nothing at all: no models, curves, classes or confusion matrix.
    const std::string empty = render_report_html(distill_cli::demo_results{});
    CHECK(well_formed_problem(empty) == "");
    CHECK(empty.find("No models were evaluated.") != std::string::npos);
    CHECK(empty.find("Not measured in this run.") != std::string::npos);
    CHECK(count_of(empty, "<svg") == 3);
}

TEST_CASE("report html: a --quick run says so at the top; a full run does not") {
    distill_cli::demo_results r = sample_results();
    CHECK(render_report_html(r).find("quick") == std::string::npos);
    r.settings.quick = true;
    const std::string html = render_report_html(r);
    CHECK(well_formed_problem(html) == "");
    CHECK(html.find("<h1>Knowledge distillation on Fashion-MNIST &#8212; quick run (a "
                    "subset)</h1>") != std::string::npos);
    CHECK(html.find("<strong>A --quick run:</strong>") != std::string::npos);
    // The size ratio is computed from the models, never a fixed figure.
    r.models[0].parameters = 4 * 118282;
    CHECK(render_report_html(r).find("a student 4.0 times smaller") != std::string::npos);
}

TEST_CASE("report html: a confusion matrix of the wrong shape is refused by name") {
    distill_cli::demo_results r = sample_results();
    r.confusion[4].pop_back();
    CHECK_THROWS_WITH_AS(render_report_html(r),
                         "confusion: expected a 10 x 10 matrix (one row and one column per "
                         "class), got 9 columns in row 4",
                         std::invalid_argument);
    r.confusion.pop_back();
    CHECK_THROWS_WITH_AS(render_report_html(r),
                         "confusion: expected a 10 x 10 matrix (one row and one column per "
                         "class), got 9 rows",
                         std::invalid_argument);
    r = sample_results();
    r.confusion[2][7] = -1;
    CHECK_THROWS_WITH_AS(render_report_html(r),
                         "confusion: expected counts >= 0, got -1 at row 2, column 7",
                         std::invalid_argument);
}
