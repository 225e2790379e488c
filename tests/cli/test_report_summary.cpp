// summary_json and render_results_table: stable keys, the figures as given,
// NaN as null / "-", and the text columns aligned.
#include "test_report_sample.h"

#include "report/report.h"

#include <doctest/doctest.h>

#include <limits>

using report_test::sample_results;

TEST_CASE("report json: stable keys and the figures as given") {
    const nlohmann::json j = distill_cli::summary_json(sample_results());
    std::vector<std::string> keys;
    for (const auto & item : j.items()) keys.push_back(item.key());
    CHECK(keys == std::vector<std::string>{"class_names", "confusion_teacher_vs_distilled",
                                           "curves", "date", "models", "quick", "schema",
                                           "settings", "teacher_test_accuracy",
                                           "teacher_to_student_parameters",
                                           "teacher_validation_accuracy", "title", "version"});
    CHECK(j["schema"] == "distill.demo.summary/2");
    CHECK(j["quick"] == false);
    CHECK(j["version"] == "0.1.0");
    CHECK(j["date"] == "2026-12-02T05:00:00Z");
    CHECK(j["teacher_test_accuracy"] == 0.9112);
    CHECK(j["teacher_validation_accuracy"] == 0.9051);
    CHECK(j["teacher_to_student_parameters"].get<double>() ==
          doctest::Approx(1199882.0 / 118282.0));
    REQUIRE(j["models"].size() == 3);
    const nlohmann::json expected_row = {
        {"name", "student (distilled)"},
        {"parameters", 118282},
        {"test_accuracy", 0.8781},
        {"agreement_with_teacher", 0.9263},
        {"mean_kl_to_teacher", 0.1532},
        {"expected_calibration_error", 0.0211},
        {"samples_per_second_batch256", 130500.2},
        {"samples_per_second_min", 0.9 * 130500.2},
        {"samples_per_second_max", 1.05 * 130500.2},
        {"latency_ms_batch1", 0.050},
        {"training_seconds", 61.7},
    };
    nlohmann::json row = j["models"][2];
    REQUIRE(row["per_class_accuracy"].size() == 10);
    CHECK(row["per_class_accuracy"][1].get<double>() == doctest::Approx(0.8681));
    REQUIRE(row["reliability"].size() == 15);
    CHECK(row["reliability"][0] == nlohmann::json{{"lower", 0.0},
                                                  {"upper", 1.0 / 15},
                                                  {"count", 0},
                                                  {"mean_confidence", nullptr},
                                                  {"accuracy", nullptr}});
    CHECK(row["reliability"][14]["count"] == 560);
    row.erase("per_class_accuracy");
    row.erase("reliability");
    CHECK(row == expected_row);
    REQUIRE(j["curves"].size() == 2);
    CHECK(j["curves"][0]["model"] == "student (labels only)");
    CHECK(j["curves"][1]["train_loss"].size() == 12);
    CHECK(j["curves"][1]["validation_accuracy"][11].get<double>() ==
          doctest::Approx(0.88 - 0.25 * std::exp(-4.0)));
    CHECK(j["class_names"][9] == "Ankle boot");
    CHECK(j["confusion_teacher_vs_distilled"][6][0] == 96);
    CHECK(j["confusion_teacher_vs_distilled"][6][6] == 640);
    const nlohmann::json & s = j["settings"];
    CHECK(s["labelled_examples"] == 1000);
    CHECK(s["unlabelled_examples"] == 54000);
    CHECK(s["validation_examples"] == 5000);
    CHECK(s["test_examples"] == 10000);
    CHECK(s["throughput_repeats"] == 5);
    CHECK(s["seed"] == 42);
    CHECK(s["threads"] == 2);
    CHECK(s["dataset_path"] == "/usr/share/datasets/fashion-mnist");
    CHECK(s["phases"][1] == nlohmann::json{{"phase", "train teacher"}, {"seconds", 312.4}});
}

TEST_CASE("report json: NaN and infinite figures become null") {
    distill_cli::demo_results r = sample_results();
    r.teacher_test_accuracy = distill_cli::not_measured;
    r.models[1].mean_kl_to_teacher = std::numeric_limits<double>::infinity();
    r.student_curves[0].train_loss = {0.5, distill_cli::not_measured};
    r.student_curves[1].validation_accuracy.clear();
    r.settings.phases[0].seconds = distill_cli::not_measured;
    const nlohmann::json j = distill_cli::summary_json(r);
    CHECK(j["teacher_test_accuracy"].is_null());
    CHECK(j["models"][1]["mean_kl_to_teacher"].is_null());
    CHECK(j["curves"][0]["train_loss"] == nlohmann::json::parse("[0.5, null]"));
    CHECK(j["curves"][1]["validation_accuracy"] == nlohmann::json::array());
    CHECK(j["settings"]["phases"][0]["seconds"].is_null());
    // The dump is valid JSON (NaN is not) and reads back to the same value.
    CHECK(nlohmann::json::parse(j.dump()) == j);

    const nlohmann::json empty = distill_cli::summary_json(distill_cli::demo_results{});
    CHECK(empty["models"] == nlohmann::json::array());
    CHECK(empty["confusion_teacher_vs_distilled"] == nlohmann::json::array());
}

TEST_CASE("report table: aligned columns, missing figures as '-'") {
    distill_cli::demo_results r = sample_results();
    r.models[1].latency_ms_batch1 = distill_cli::not_measured;
    CHECK(distill_cli::render_results_table(r) ==
          "model                     params  test acc    agree  KL(t||s)    ECE  "
          "  samples/s@256 (min-max)   ms@1  train s\n"
          "teacher                1,199,882    91.12%  100.00%    0.0000  1.82%  "
          "   14,211 (12,789-14,921)  0.412    312.4\n"
          "student (labels only)    118,282    79.35%   81.27%    0.6114  7.34%  "
          "131,072 (117,965-137,626)      -      4.9\n"
          "student (distilled)      118,282    87.81%   92.63%    0.1532  2.11%  "
          "130,500 (117,450-137,025)  0.050     61.7\n");
    CHECK(distill_cli::render_results_table(distill_cli::demo_results{}) ==
          "model  params  test acc  agree  KL(t||s)  ECE  samples/s@256 (min-max)  ms@1  train "
          "s\n");
}
