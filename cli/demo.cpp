// distill demo — the main job: a real distillation on Fashion-MNIST.
//
//  1. The teacher (Hinton's 784-1200-1200-10 MLP, ~2.4 M parameters) learns
//     from the 60,000 labelled training images — or is loaded from the
//     cache, where the first run leaves its checkpoint.
//  2. The distiller has 1,000 labels and 59,000 unlabelled images. It asks
//     the teacher (an in-process model teacher, through the teacher
//     interface and a store: a second run asks nothing) about the 59,000,
//     and trains a 784-128-10 student (~24× fewer parameters) twice:
//     (a) on the 1,000 labels alone, (b) on the teacher's answers.
//  3. Both are measured on the 10,000 test images — accuracy, agreement and
//     KL to the teacher, calibration, inference speed — printed as a table
//     and written as report.html and summary.json.
#include <distill/distill.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "commands.h"
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
    int64_t labelled = 1000;
    bool json = false;
};

// Everything that shapes a run; the quick mode shrinks it for tests.
struct demo_plan {
    std::string teacher_config;
    std::string student_config;
    int64_t train_rows, test_rows, labelled;
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
        plan.test_rows = 2000;
        plan.labelled = std::min<int64_t>(o.labelled, 300);
        plan.teacher_epochs = 3;
        plan.labels_only_epochs = 20;
        plan.distilled_epochs = 3;
    } else {
        plan.teacher_config =
            R"({"kind": "mlp", "inputs": 784, "hidden": [1200, 1200], "activation": "relu", "dropout": 0.2, "outputs": 10})";
        plan.train_rows = 60000;
        plan.test_rows = 10000;
        plan.labelled = o.labelled;
        plan.teacher_epochs = 10;
        plan.labels_only_epochs = 60;
        plan.distilled_epochs = 12;
    }
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

// Trains `model` with `options`, reporting per epoch on stderr; returns the
// curves and the seconds it took.
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
    fit.progress = training_progress::callback;
    fit.progress_user_data = &progress;
    const distill_fit_summary summary = trainer.fit(data, fit);
    progress.finish();
    return {progress.epoch_losses(), progress.epoch_val_accuracies(), summary.seconds};
}

// Inference speed: samples/s at batch 256 and milliseconds for one image.
void measure_inference(const distill::Context & cpu, distill::Model & model,
                       const distill::Dataset & test, model_row & row) {
    const DLTensor inputs = *test.field(DISTILL_DATASET_INPUTS);
    const auto * x = static_cast<const float *>(inputs.data);
    const int64_t batch = std::min<int64_t>(256, test.rows());
    model.predict(cpu, x, batch);  // warm-up: workspaces, caches
    int runs = 0;
    auto start = clock_type::now();
    while (runs < 5 || seconds_since(start) < 0.3) {
        model.predict(cpu, x, batch);
        ++runs;
    }
    row.samples_per_second_batch256 = double(runs * batch) / seconds_since(start);
    runs = 0;
    start = clock_type::now();
    while (runs < 20 || seconds_since(start) < 0.2) {
        model.predict(cpu, x + (runs % batch) * inputs.shape[1], 1);
        ++runs;
    }
    row.latency_ms_batch1 = 1000.0 * seconds_since(start) / runs;
}

// The argmax class of each row of a [N, C] output.
std::vector<int64_t> predictions(const std::vector<float> & outputs, int64_t classes) {
    std::vector<int64_t> out(outputs.size() / size_t(classes));
    for (size_t r = 0; r < out.size(); ++r) {
        const float * row = outputs.data() + r * size_t(classes);
        out[r] = std::max_element(row, row + classes) - row;
    }
    return out;
}

int run_demo(const demo_options & o) {
    install_interrupt_handler();
    const auto run_start = clock_type::now();
    const demo_plan plan = make_plan(o);
    const distill::Context cpu(distill::ContextOptions::cpu(o.threads));
    demo_results results;
    results.settings.seed = o.seed;
    results.settings.threads = o.threads;
    auto phase = [&](const std::string & name, clock_type::time_point start) {
        results.settings.phases.push_back({name, seconds_since(start)});
    };

    // --- data ---------------------------------------------------------------
    auto start = clock_type::now();
    std::fprintf(stderr, "demo: loading Fashion-MNIST%s\n", o.quick ? " (quick: a subset)" : "");
    const distill::Dataset train_set =
        distill::Dataset::fashion_mnist("train", o.data_dir, plan.train_rows);
    distill::Dataset test_set = distill::Dataset::fashion_mnist("test", o.data_dir, plan.test_rows);
    results.settings.dataset_path =
        o.data_dir.empty()
            ? (std::getenv("DISTILL_FASHION_MNIST_DIR") ? std::getenv("DISTILL_FASHION_MNIST_DIR")
                                                        : "/usr/share/datasets/fashion-mnist")
            : o.data_dir;
    results.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                           "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    phase("load data", start);

    // --- 1. the teacher, trained on every label, cached -------------------------
    start = clock_type::now();
    const fs::path cache = o.cache_dir.empty() ? default_cache_dir() : fs::path(o.cache_dir);
    const std::string teacher_id =
        settings_hash(plan.teacher_config + "|" + std::to_string(plan.train_rows) + "|" +
                      std::to_string(plan.teacher_epochs) + "|" + std::to_string(o.seed));
    const fs::path teacher_dir = cache / ("demo-teacher-" + teacher_id);
    // Checkpointed each epoch while it trains; renamed to teacher_dir, whose
    // manifest then means "finished", when done. A Ctrl-C'd run resumes here.
    const fs::path teacher_partial = cache / ("demo-teacher-" + teacher_id + ".partial");
    model_row teacher_row{"teacher"};
    std::optional<distill::Model> teacher_model;
    if (fs::exists(teacher_dir / "manifest.json")) {
        std::fprintf(stderr, "demo: teacher loaded from %s\n", teacher_dir.c_str());
        teacher_model = distill::Model::load(teacher_dir.string());
    } else {
        teacher_model = distill::Model::create(plan.teacher_config, o.seed);
        distill_kd_loss_options labels_loss;
        distill::check(distill_kd_loss_options_init(&labels_loss));
        labels_loss.soft_weight = 0.0f;
        labels_loss.hard_weight = 1.0f;
        const int64_t steps = plan.teacher_epochs * ((train_set.rows() + 127) / 128);
        const std::string schedule = cosine(steps, steps / 20);
        const std::string optimizer = R"({"kind": "adamw", "lr": 1e-3, "weight_decay": 1e-4})";
        const distill_trainer_options options =
            trainer_options(optimizer, schedule, labels_loss, o.seed);
        distill::Trainer trainer(cpu, *teacher_model, options);
        if (fs::exists(teacher_partial / "manifest.json")) {
            trainer.resume(teacher_partial.string());
            std::fprintf(stderr, "demo: resuming the teacher's training from %s (epoch %lld)\n",
                         teacher_partial.c_str(), (long long)trainer.position().first);
        }
        // All epochs may be done already (stopped between the last save and the rename).
        if (const int64_t remaining = plan.teacher_epochs - trainer.position().first;
            remaining > 0) {
            training_progress progress("teacher");
            distill_fit_options fit;
            distill::check(distill_fit_options_init(&fit));
            fit.epochs = int32_t(remaining);
            fit.batch_size = 128;
            fit.validation = test_set.get();
            fit.checkpoint_dir = teacher_partial.c_str();
            fit.progress = training_progress::callback;
            fit.progress_user_data = &progress;
            const distill_fit_summary summary = trainer.fit(train_set, fit);
            progress.finish();
            teacher_row.training_seconds = summary.seconds;
        }
        fs::remove_all(teacher_dir);  // a directory without a manifest: an interrupted rename
        fs::rename(teacher_partial, teacher_dir);
        std::fprintf(stderr, "demo: teacher saved to %s\n", teacher_dir.c_str());
    }
    phase("teacher", start);

    // The teacher's view of the test set: agreement and KL of the students.
    const std::vector<float> teacher_test_logits = teacher_model->predict(
        cpu, static_cast<const float *>(test_set.field(DISTILL_DATASET_INPUTS)->data),
        test_set.rows());
    {
        int64_t shape[2] = {test_set.rows(), 10};
        DLTensor logits{const_cast<float *>(teacher_test_logits.data()),
                        {kDLCPU, 0},
                        2,
                        {kDLFloat, 32, 1},
                        shape,
                        nullptr,
                        0};
        test_set.set_teacher_logits(logits);
    }

    // --- 2. the distiller: 1,000 labels, 59,000 images, the teacher's answers ---
    start = clock_type::now();
    const int64_t unlabelled_count = train_set.rows() - plan.labelled;
    const distill::Dataset labelled = train_set.slice(0, plan.labelled);
    distill::Dataset unlabelled = unlabelled_images(train_set, plan.labelled, unlabelled_count);
    results.settings.labelled_examples = plan.labelled;
    results.settings.unlabelled_examples = unlabelled_count;
    fs::create_directories(cache);
    distill::Store store((cache / "demo-teacher-answers.db").string());
    distill::Teacher teacher =
        distill::Teacher::model(cpu, *teacher_model, "fashion-mnist-teacher");
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
              labelled, test_set, plan.labels_only_epochs, 64, "student (labels only)");
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
              unlabelled, test_set, plan.distilled_epochs, 128, "student (distilled)");
    phase("student (distilled)", start);

    // --- 3. measure, print, write -------------------------------------------------
    start = clock_type::now();
    model_row labels_row{"student (labels only)"}, distilled_row{"student (distilled)"};
    labels_row.training_seconds = labels_run.seconds;
    distilled_row.training_seconds = soft_run.seconds;
    struct measured {
        distill::Model * model;
        model_row * row;
    };
    for (measured m :
         {measured{&*teacher_model, &teacher_row}, measured{&labels_student, &labels_row},
          measured{&distilled_student, &distilled_row}}) {
        const distill_eval_metrics e = distill::evaluate(cpu, *m.model, test_set);
        m.row->parameters = m.model->parameter_count();
        m.row->test_accuracy = e.accuracy;
        m.row->agreement_with_teacher = e.agreement;
        m.row->mean_kl_to_teacher = e.mean_kl;
        m.row->expected_calibration_error = e.ece;
        measure_inference(cpu, *m.model, test_set, *m.row);
    }
    results.models = {teacher_row, labels_row, distilled_row};
    results.teacher_test_accuracy = teacher_row.test_accuracy;
    results.student_curves = {{labels_row.name, labels_run.losses, labels_run.val_accuracies},
                              {distilled_row.name, soft_run.losses, soft_run.val_accuracies}};
    const std::vector<int64_t> teacher_classes = predictions(teacher_test_logits, 10);
    const std::vector<int64_t> student_classes = predictions(
        distilled_student.predict(
            cpu, static_cast<const float *>(test_set.field(DISTILL_DATASET_INPUTS)->data),
            test_set.rows()),
        10);
    results.confusion.assign(10, std::vector<int64_t>(10, 0));
    for (size_t i = 0; i < teacher_classes.size(); ++i)
        ++results.confusion[size_t(teacher_classes[i])][size_t(student_classes[i])];
    phase("measure", start);
    results.settings.phases.push_back({"total", seconds_since(run_start)});

    fs::create_directories(o.out_dir);
    write_text_file_atomically(fs::path(o.out_dir) / "report.html", render_report_html(results));
    const nlohmann::json summary = summary_json(results);
    write_text_file_atomically(fs::path(o.out_dir) / "summary.json", summary.dump(2) + "\n");
    if (o.json) {
        std::printf("%s\n", summary.dump(2).c_str());
    } else {
        std::printf("%s", render_results_table(results).c_str());
        std::printf(
            "\nDistillation gain over labels only: %+.1f points of test accuracy; "
            "gap to the teacher: %.1f points.\n",
            100.0 * (distilled_row.test_accuracy - labels_row.test_accuracy),
            100.0 * (teacher_row.test_accuracy - distilled_row.test_accuracy));
        std::printf("Report: %s/report.html, figures: %s/summary.json (%.0f s in all)\n",
                    o.out_dir.c_str(), o.out_dir.c_str(), seconds_since(run_start));
    }
    return exit_ok;
}

}  // namespace

void add_demo(CLI::App & app, int & exit_code) {
    auto options = std::make_shared<demo_options>();
    CLI::App * demo = app.add_subcommand(
        "demo", "Distil a Fashion-MNIST teacher into a 24x smaller student, and report");
    demo->add_flag("--quick", options->quick,
                   "A small, fast run (a subset, few epochs): for tests");
    demo->add_option("--out", options->out_dir, "Where report.html and summary.json go")
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
    demo->add_option("--labels", options->labelled, "Labelled examples the distiller has")
        ->check(CLI::Range(int64_t{10}, int64_t{50000}))
        ->capture_default_str();
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
