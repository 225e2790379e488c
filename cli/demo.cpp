// distill demo — the main job: a real distillation on Fashion-MNIST.
//
//  0. A seeded 5,000 of the 60,000 training images are held out as the
//     validation set: every model's epochs are chosen on it (restore_best).
//     The 10,000 test images serve once, at the end, for every figure.
//  1. The teacher (Hinton's 784-1200-1200-10 MLP, ~2.4 M parameters) learns
//     from the 55,000 other labelled training images — or is loaded from the
//     cache, where the first run leaves its checkpoint.
//  2. The distiller has 1,000 of those labels and 54,000 unlabelled images.
//     It asks the teacher (an in-process model teacher, through the teacher
//     interface and a store: a second run asks nothing) about the 54,000,
//     and trains a 784-128-10 student (~24x fewer parameters) twice:
//     (a) on the 1,000 labels alone, (b) on the teacher's answers.
//  3. All three are measured on the test images — accuracy, agreement and
//     KL to the teacher, calibration (ECE and a reliability diagram),
//     per-class accuracy, inference speed over repeats — printed as a table
//     and written as report.html and summary.json.
// --quick shrinks every number (8,000 training images, 1,000 of them for
// validation, 2,000 test images, a 784-512-10 teacher: 4x the student) and
// says so in the report.
#include <distill/distill.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "demo_measure.h"
#include "output_path.h"
#include "report/atomic_file.h"
#include "report/report.h"
#include "training_progress.h"

namespace distill_cli {
namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

struct demo_options {
    bool quick = false;
    std::string out_dir = "distill-demo";
    std::string cache_dir;
    std::string data_dir;
    int threads = 0;
    uint64_t seed = 1;
    std::optional<int64_t> labelled;  // default: 1,000 (300 with --quick)
    bool json = false;
};

// Everything that shapes a run; the quick mode shrinks it for tests.
struct demo_plan {
    std::string teacher_config;
    std::string student_config;
    int64_t train_rows, validation_rows, test_rows, labelled;
    int teacher_epochs, labels_only_epochs, distilled_epochs;
    float temperature;
};

demo_plan make_plan(const demo_options & o) {
    demo_plan plan;
    const std::string student_hidden = "[128]";
    plan.student_config = R"({"kind": "mlp", "inputs": 784, "hidden": )" + student_hidden +
                          R"(, "activation": "relu", "dropout": 0.1, "outputs": 10})";
    plan.temperature = 4.0f;
    if (o.quick) {
        plan.teacher_config =
            R"({"kind": "mlp", "inputs": 784, "hidden": [512], "activation": "relu", "dropout": 0.1, "outputs": 10})";
        plan.train_rows = 8000;
        plan.validation_rows = 1000;
        plan.test_rows = 2000;
        plan.labelled = o.labelled.value_or(300);
        plan.teacher_epochs = 3;
        plan.labels_only_epochs = 20;
        plan.distilled_epochs = 3;
    } else {
        plan.teacher_config =
            R"({"kind": "mlp", "inputs": 784, "hidden": [1200, 1200], "activation": "relu", "dropout": 0.2, "outputs": 10})";
        plan.train_rows = 60000;
        plan.validation_rows = 5000;
        plan.test_rows = 10000;
        plan.labelled = o.labelled.value_or(1000);
        plan.teacher_epochs = 10;
        plan.labels_only_epochs = 60;
        plan.distilled_epochs = 12;
    }
    // The distilled student needs unlabelled images: at least as many as labels.
    const int64_t most = (plan.train_rows - plan.validation_rows) / 2;
    if (plan.labelled > most)
        throw distill::Exception(DISTILL_STATUS_INVALID_ARGUMENT,
                                 "--labels: expected at most " + std::to_string(most) +
                                     (o.quick ? " with --quick" : "") + " (half of the " +
                                     std::to_string(plan.train_rows - plan.validation_rows) +
                                     " training images outside the validation split), got " +
                                     std::to_string(plan.labelled));
    return plan;
}

fs::path default_cache_dir() {
    if (const char * xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        return fs::path(xdg) / "distill";
    if (const char * home = std::getenv("HOME"); home && *home)
        return fs::path(home) / ".cache" / "distill";
    return fs::temp_directory_path() / "distill-cache";
}

// A stable 64-bit FNV-1a hash, as 16 hex digits: the cache name of a
// teacher's settings (not a security boundary; the checkpoint's own
// manifest guards its bytes).
std::string settings_hash(const std::string & text) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
    return hex;
}

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

// A dataset of rows [begin, begin + count) of `source`'s images, without
// labels: what the distiller holds of the unlabelled images.
distill::Dataset unlabelled_images(const distill::Dataset & source, int64_t begin, int64_t count) {
    distill::Dataset part = source.slice(begin, count);
    DLTensor inputs = *part.field(DISTILL_DATASET_INPUTS);
    return distill::Dataset::create(inputs, nullptr);
}

// The options point into `optimizer`, `schedule` and `loss`: keep them alive.
distill_trainer_options trainer_options(const std::string & optimizer, const std::string & schedule,
                                        const distill_kd_loss_options & loss, uint64_t seed) {
    distill_trainer_options o;
    distill::check(distill_trainer_options_init(&o));
    o.optimizer_json = optimizer.c_str();
    o.schedule_json = schedule.c_str();
    o.loss = &loss;
    o.seed = seed;
    return o;
}

std::string cosine(int64_t steps, int64_t warmup) {
    return R"({"kind": "warmup_cosine", "warmup_steps": )" + std::to_string(warmup) +
           R"(, "total_steps": )" + std::to_string(steps) + R"(, "min_lr": 0})";
}

// Trains `model` with `options`, reporting per epoch on stderr, and ends on
// its best epoch on `validation`; returns the curves and the seconds.
struct training_run {
    std::vector<double> losses, val_accuracies;
    double seconds = 0;
};
training_run train(const distill::Context & cpu, distill::Model & model,
                   const distill_trainer_options & options, const distill::Dataset & data,
                   const distill::Dataset & validation, int epochs, int batch_size,
                   const std::string & label) {
    distill::Trainer trainer(cpu, model, options);
    training_progress progress(label);
    distill_fit_options fit;
    distill::check(distill_fit_options_init(&fit));
    fit.epochs = epochs;
    fit.batch_size = batch_size;
    fit.validation = validation.get();
    fit.restore_best = 1;  // the epoch chosen on the validation images
    fit.progress = training_progress::callback;
    fit.progress_user_data = &progress;
    const distill_fit_summary summary = trainer.fit(data, fit);
    progress.finish();
    return {progress.epoch_losses(), progress.epoch_val_accuracies(), summary.seconds};
}

// The training images in a seeded order (Fisher-Yates over a 64-bit
// Mersenne Twister, the same on every platform), so that the validation
// split and the labelled subset are a fair sample, the same for a seed.
distill::Dataset shuffled(const distill::Dataset & source, uint64_t seed) {
    const DLTensor inputs = *source.field(DISTILL_DATASET_INPUTS);
    const DLTensor labels = *source.field(DISTILL_DATASET_LABELS);
    const int64_t rows = source.rows(), features = inputs.shape[1];
    std::vector<int64_t> order(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; ++i) order[size_t(i)] = i;
    std::mt19937_64 random(seed ^ 0x76616c6964617465ull);  // "validate"
    for (int64_t i = rows - 1; i > 0; --i)
        std::swap(order[size_t(i)], order[size_t(random() % uint64_t(i + 1))]);
    std::vector<float> x(static_cast<size_t>(rows * features));
    std::vector<int64_t> y(static_cast<size_t>(rows));
    const auto * from_x = static_cast<const float *>(inputs.data);
    const auto * from_y = static_cast<const int64_t *>(labels.data);
    for (int64_t i = 0; i < rows; ++i) {
        std::copy_n(from_x + order[size_t(i)] * features, features, x.data() + i * features);
        y[size_t(i)] = from_y[order[size_t(i)]];
    }
    int64_t x_shape[2] = {rows, features}, y_shape[1] = {rows};
    const DLTensor x_view{x.data(), {kDLCPU, 0}, 2, {kDLFloat, 32, 1}, x_shape, nullptr, 0};
    const DLTensor y_view{y.data(), {kDLCPU, 0}, 1, {kDLInt, 64, 1}, y_shape, nullptr, 0};
    return distill::Dataset::create(x_view, &y_view);
}

// The threads a context of `requested` threads uses: OpenMP's default for
// 0 (OMP_NUM_THREADS, else every core).
int resolved_threads(int requested) {
    if (requested > 0) return requested;
    if (const char * env = std::getenv("OMP_NUM_THREADS"); env && std::atoi(env) > 0)
        return std::atoi(env);
    return int(std::max(1u, std::thread::hardware_concurrency()));
}

std::string utc_now_iso8601() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

// The teacher of `plan`, trained on `train_set` and chosen on `validation`
// (checkpointed each epoch under `cache`, resumed after a Ctrl-C), or
// loaded from the cache that a finished run leaves.
distill::Model cached_teacher(const distill::Context & cpu, const demo_plan & plan,
                              const demo_options & o, const fs::path & cache,
                              const distill::Dataset & train_set,
                              const distill::Dataset & validation, model_row & row) {
    // The split is part of the name: a teacher that saw the validation
    // images (demo versions before the split) is not reused.
    const std::string teacher_id =
        settings_hash(plan.teacher_config + "|" + std::to_string(plan.train_rows) + "|" +
                      std::to_string(plan.teacher_epochs) + "|" + std::to_string(o.seed) +
                      "|validation " + std::to_string(plan.validation_rows));
    const fs::path teacher_dir = cache / ("demo-teacher-" + teacher_id);
    // Checkpointed each epoch while it trains; renamed to teacher_dir, whose
    // manifest then means "finished", when done. A Ctrl-C'd run resumes here.
    const fs::path teacher_partial = cache / ("demo-teacher-" + teacher_id + ".partial");
    if (fs::exists(teacher_dir / "manifest.json")) {
        std::fprintf(stderr, "demo: teacher loaded from %s\n", teacher_dir.c_str());
        return distill::Model::load(teacher_dir.string());
    }
    distill::Model teacher = distill::Model::create(plan.teacher_config, o.seed);
    distill_kd_loss_options labels_loss;
    distill::check(distill_kd_loss_options_init(&labels_loss));
    labels_loss.soft_weight = 0.0f;
    labels_loss.hard_weight = 1.0f;
    const int64_t steps = plan.teacher_epochs * ((train_set.rows() + 127) / 128);
    const std::string schedule = cosine(steps, steps / 20);
    const std::string optimizer = R"({"kind": "adamw", "lr": 1e-3, "weight_decay": 1e-4})";
    const distill_trainer_options options =
        trainer_options(optimizer, schedule, labels_loss, o.seed);
    distill::Trainer trainer(cpu, teacher, options);
    if (fs::exists(teacher_partial / "manifest.json")) {
        trainer.resume(teacher_partial.string());
        std::fprintf(stderr, "demo: resuming the teacher's training from %s (epoch %lld)\n",
                     teacher_partial.c_str(), (long long)trainer.position().first);
    }
    // All epochs may be done already (stopped between the last save and the rename).
    if (const int64_t remaining = plan.teacher_epochs - trainer.position().first; remaining > 0) {
        training_progress progress("teacher");
        distill_fit_options fit;
        distill::check(distill_fit_options_init(&fit));
        fit.epochs = int32_t(remaining);
        fit.batch_size = 128;
        fit.validation = validation.get();
        fit.restore_best = 1;
        fit.checkpoint_dir = teacher_partial.c_str();
        fit.progress = training_progress::callback;
        fit.progress_user_data = &progress;
        const distill_fit_summary summary = trainer.fit(train_set, fit);
        progress.finish();
        row.training_seconds = summary.seconds;
        // The last checkpoint holds the last epoch's weights; the cache keeps the chosen ones.
        trainer.save(teacher_partial.string());
    }
    fs::remove_all(teacher_dir);  // a directory without a manifest: an interrupted rename
    fs::rename(teacher_partial, teacher_dir);
    std::fprintf(stderr, "demo: teacher saved to %s\n", teacher_dir.c_str());
    return teacher;
}

int run_demo(const demo_options & o) {
    install_interrupt_handler();
    const auto run_start = clock_type::now();
    // Every argument is checked before any work.
    const demo_plan plan = make_plan(o);
    require_writable_directory_path(o.out_dir, "--out");
    const fs::path cache = o.cache_dir.empty() ? default_cache_dir() : fs::path(o.cache_dir);
    require_writable_directory_path(cache, "--cache-dir");
    const distill::Context cpu(distill::ContextOptions::cpu(o.threads));
    demo_results results;
    results.settings.seed = o.seed;
    results.settings.threads = resolved_threads(o.threads);
    results.settings.quick = o.quick;
    results.settings.version = distill_version();
    constexpr int throughput_repeats = 5;
    results.settings.throughput_repeats = throughput_repeats;
    auto phase = [&](const std::string & name, clock_type::time_point start) {
        results.settings.phases.push_back({name, seconds_since(start)});
    };

    // --- data: a seeded validation split out of the training images ---------------
    auto start = clock_type::now();
    std::fprintf(stderr, "demo: loading Fashion-MNIST%s\n", o.quick ? " (quick: a subset)" : "");
    const distill::Dataset all_train =
        shuffled(distill::Dataset::fashion_mnist("train", o.data_dir, plan.train_rows), o.seed);
    const distill::Dataset validation = all_train.slice(0, plan.validation_rows);
    const distill::Dataset train_set =
        all_train.slice(plan.validation_rows, all_train.rows() - plan.validation_rows);
    distill::Dataset test_set = distill::Dataset::fashion_mnist("test", o.data_dir, plan.test_rows);
    results.settings.validation_examples = validation.rows();
    results.settings.test_examples = test_set.rows();
    results.settings.dataset_path =
        o.data_dir.empty()
            ? (std::getenv("DISTILL_FASHION_MNIST_DIR") ? std::getenv("DISTILL_FASHION_MNIST_DIR")
                                                        : "/usr/share/datasets/fashion-mnist")
            : o.data_dir;
    results.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                           "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    phase("load data", start);

    // --- 1. the teacher, trained on the labels outside the validation split ----------
    start = clock_type::now();
    fs::create_directories(cache);
    model_row teacher_row;
    teacher_row.name = "teacher";
    distill::Model teacher_model =
        cached_teacher(cpu, plan, o, cache, train_set, validation, teacher_row);
    results.teacher_validation_accuracy =
        distill::evaluate(cpu, teacher_model, validation).accuracy;
    phase("teacher", start);

    // --- 2. the distiller: some labels, the other images, the teacher's answers -----
    start = clock_type::now();
    const int64_t unlabelled_count = train_set.rows() - plan.labelled;
    const distill::Dataset labelled = train_set.slice(0, plan.labelled);
    distill::Dataset unlabelled = unlabelled_images(train_set, plan.labelled, unlabelled_count);
    results.settings.labelled_examples = plan.labelled;
    results.settings.unlabelled_examples = unlabelled_count;
    distill::Store store((cache / "demo-teacher-answers.db").string());
    distill::Teacher teacher = distill::Teacher::model(cpu, teacher_model, "fashion-mnist-teacher");
    training_progress asking("asking the teacher");
    distill_ask_options ask;
    distill::check(distill_ask_options_init(&ask));
    ask.progress = training_progress::callback;
    ask.progress_user_data = &asking;
    const auto [asked, from_store] = unlabelled.ask_teacher(teacher, &store, &ask);
    asking.finish();
    std::fprintf(stderr, "demo: the teacher answered %lld images, %lld came from the store\n",
                 (long long)asked, (long long)from_store);
    phase("ask the teacher", start);

    // (a) labels only
    start = clock_type::now();
    distill_kd_loss_options labels_loss;
    distill::check(distill_kd_loss_options_init(&labels_loss));
    labels_loss.soft_weight = 0.0f;
    labels_loss.hard_weight = 1.0f;
    distill::Model labels_student = distill::Model::create(plan.student_config, o.seed + 1);
    const int64_t label_steps = plan.labels_only_epochs * ((plan.labelled + 63) / 64);
    const training_run labels_run =
        train(cpu, labels_student,
              trainer_options(R"({"kind": "adamw", "lr": 1e-3, "weight_decay": 0.05})",
                              cosine(label_steps, label_steps / 20), labels_loss, o.seed + 1),
              labelled, validation, plan.labels_only_epochs, 64, "student (labels only)");
    phase("student (labels only)", start);

    // (b) distilled from the teacher's answers
    start = clock_type::now();
    distill_kd_loss_options soft_loss;
    distill::check(distill_kd_loss_options_init(&soft_loss));
    soft_loss.temperature = plan.temperature;
    distill::Model distilled_student = distill::Model::create(plan.student_config, o.seed + 1);
    const int64_t soft_steps = plan.distilled_epochs * ((unlabelled_count + 127) / 128);
    const training_run soft_run =
        train(cpu, distilled_student,
              trainer_options(R"({"kind": "adamw", "lr": 2e-3, "weight_decay": 1e-4})",
                              cosine(soft_steps, soft_steps / 20), soft_loss, o.seed + 1),
              unlabelled, validation, plan.distilled_epochs, 128, "student (distilled)");
    phase("student (distilled)", start);

    // --- 3. the test set, once: measure, print, write --------------------------------
    start = clock_type::now();
    const auto * test_inputs =
        static_cast<const float *>(test_set.field(DISTILL_DATASET_INPUTS)->data);
    const auto * test_labels =
        static_cast<const int64_t *>(test_set.field(DISTILL_DATASET_LABELS)->data);
    // The teacher's view of the test set: agreement and KL of the students.
    std::vector<float> teacher_test_logits =
        teacher_model.predict(cpu, test_inputs, test_set.rows());
    {
        int64_t shape[2] = {test_set.rows(), 10};
        DLTensor logits{
            teacher_test_logits.data(), {kDLCPU, 0}, 2, {kDLFloat, 32, 1}, shape, nullptr, 0};
        test_set.set_teacher_logits(logits);
    }
    model_row labels_row, distilled_row;
    labels_row.name = "student (labels only)";
    distilled_row.name = "student (distilled)";
    labels_row.training_seconds = labels_run.seconds;
    distilled_row.training_seconds = soft_run.seconds;
    std::vector<float> distilled_probabilities;
    struct measured {
        distill::Model * model;
        model_row * row;
    };
    for (measured m :
         {measured{&teacher_model, &teacher_row}, measured{&labels_student, &labels_row},
          measured{&distilled_student, &distilled_row}}) {
        const distill_eval_metrics e = distill::evaluate(cpu, *m.model, test_set);
        m.row->parameters = m.model->parameter_count();
        m.row->test_accuracy = e.accuracy;
        m.row->agreement_with_teacher = e.agreement;
        m.row->mean_kl_to_teacher = e.mean_kl;
        m.row->expected_calibration_error = e.ece;
        std::vector<float> probabilities =
            m.model->predict(cpu, test_inputs, test_set.rows(), DISTILL_OUTPUT_PROBABILITIES);
        m.row->per_class_accuracy = per_class_accuracy(probabilities, test_labels, 10);
        m.row->reliability = reliability_bins(probabilities, test_labels, 10);
        measure_inference(cpu, *m.model, test_set, throughput_repeats, *m.row);
        if (m.row == &distilled_row) distilled_probabilities = std::move(probabilities);
    }
    results.models = {teacher_row, labels_row, distilled_row};
    results.teacher_test_accuracy = teacher_row.test_accuracy;
    results.student_curves = {{labels_row.name, labels_run.losses, labels_run.val_accuracies},
                              {distilled_row.name, soft_run.losses, soft_run.val_accuracies}};
    const std::vector<int64_t> teacher_classes = predictions(teacher_test_logits, 10);
    const std::vector<int64_t> student_classes = predictions(distilled_probabilities, 10);
    results.confusion.assign(10, std::vector<int64_t>(10, 0));
    for (size_t i = 0; i < teacher_classes.size(); ++i)
        ++results.confusion[size_t(teacher_classes[i])][size_t(student_classes[i])];
    phase("measure", start);
    results.settings.date = utc_now_iso8601();

    fs::create_directories(o.out_dir);
    write_text_file_atomically(fs::path(o.out_dir) / "report.html", render_report_html(results));
    const nlohmann::json summary = summary_json(results);
    write_text_file_atomically(fs::path(o.out_dir) / "summary.json", summary.dump(2) + "\n");
    if (o.json) {
        std::printf("%s\n", summary.dump(2).c_str());
    } else {
        if (o.quick)
            std::printf("A --quick run (a subset, few epochs): not the demo's figures.\n\n");
        std::printf("%s", render_results_table(results).c_str());
        std::printf(
            "\nDistillation gain over labels only: %+.1f points of test accuracy; "
            "gap to the teacher: %.1f points; the student is %.1fx smaller than the teacher.\n",
            100.0 * (distilled_row.test_accuracy - labels_row.test_accuracy),
            100.0 * (teacher_row.test_accuracy - distilled_row.test_accuracy),
            teacher_to_student_parameters(results));
        std::printf("Report: %s/report.html, figures: %s/summary.json (%.0f s in all)\n",
                    o.out_dir.c_str(), o.out_dir.c_str(), seconds_since(run_start));
    }
    return exit_ok;
}

}  // namespace

void add_demo(CLI::App & app, int & exit_code) {
    auto options = std::make_shared<demo_options>();
    CLI::App * demo = app.add_subcommand(
        "demo",
        "Distil a Fashion-MNIST teacher into a much smaller student (the report gives the "
        "ratio), and report");
    demo->add_flag("--quick", options->quick,
                   "A small, fast run (a subset, few epochs): for tests");
    demo->add_option("--out", options->out_dir,
                     "Directory where report.html and summary.json go (created if missing)")
        ->capture_default_str();
    demo->add_option("--cache-dir", options->cache_dir,
                     "Teacher checkpoints and the teacher-answer store "
                     "(default $XDG_CACHE_HOME/distill or ~/.cache/distill)");
    demo->add_option("--data-dir", options->data_dir,
                     "Fashion-MNIST's IDX files (default $DISTILL_FASHION_MNIST_DIR or "
                     "/usr/share/datasets/fashion-mnist)");
    demo->add_option("--threads", options->threads, "CPU threads (0 = all cores)")
        ->check(CLI::NonNegativeNumber);
    demo->add_option("--seed", options->seed, "Seed of every initialisation and shuffle")
        ->capture_default_str();
    demo->add_option("--labels", options->labelled,
                     "Labelled examples the distiller has (default 1000; 300 with --quick; at "
                     "most half of the training images outside the validation split)")
        ->check(CLI::Range(int64_t{10}, int64_t{50000}));
    demo->add_flag("--json", options->json, "Print the summary as JSON instead of the table");
    demo->callback([options, &exit_code] {
        try {
            exit_code = run_demo(*options);
        } catch (const distill::Exception & e) {
            std::fprintf(stderr, "\ndistill demo: %s\n", e.what());
            exit_code = e.status() == DISTILL_STATUS_CANCELLED ? exit_interrupted : exit_failure;
        }
    });
}

}  // namespace distill_cli
