// Built-in students on a GPU, through the public C ABI only: a trainer on a
// CUDA context against one on the CPU (same model, seed and batches), and
// distill_model_predict on CUDA against the CPU. Inputs and outputs stay
// host tensors; the library runs the model on the device. Without a GPU
// every case says so and returns (the emulated backend in
// tests/core/test_device_student.cpp covers the same paths on any machine).
#if DISTILL_TEST_CUDA

#include <doctest/doctest.h>

#include <distill/distill.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "student_test_support.h"

namespace {

// fp32 on both sides; the sums of cuBLAS and cuDNN differ from OpenBLAS's
// only in order (no TF32), so the results agree to a few ulps per layer.
constexpr double tolerance = 1e-5;

bool cuda_device_present() {
    int32_t count = 0;
    REQUIRE(distill_cuda_device_count(&count) == DISTILL_STATUS_OK);
    if (count == 0) MESSAGE("no CUDA device: skipped");
    return count > 0;
}

const std::string gelu_mlp = R"({"kind": "mlp", "inputs": 12, "hidden": [32, 24],
    "activation": "gelu", "dropout": 0.25, "outputs": 4})";
// 1 × 8 × 6 = 48 inputs; odd planes after the first pool (4 × 3).
const std::string relu_cnn = R"({"kind": "cnn", "input_shape": [1, 8, 6],
    "conv": [{"channels": 4, "kernel": 3, "padding": 1}, {"channels": 6, "kernel": 2}],
    "hidden": [16], "activation": "relu", "dropout": 0.1, "outputs": 4})";

// max |a − b| / max |b|
double relative_error(const std::vector<float> & a, const std::vector<float> & b) {
    double worst = 0, scale = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
        scale = std::max(scale, std::fabs(double(b[i])));
    }
    return scale > 0 ? worst / scale : worst;
}

enum class targets { dense, topk, labels_only };

struct trainer_run {
    std::vector<distill_step_metrics> steps;
    std::vector<float> parameters;
};

// Five AdamW steps of a fresh model (seed 7) on `context`.
trainer_run train(const distill::Context & context, const std::string & config, targets kind) {
    distill::Model model = distill::Model::create(config, 7);
    distill_kd_loss_options loss;
    distill::check(distill_kd_loss_options_init(&loss));
    loss.temperature = 2.0f;
    loss.soft_weight = kind == targets::labels_only ? 0.0f : 0.7f;
    loss.hard_weight = kind == targets::labels_only ? 1.0f : 0.3f;
    if (kind == targets::topk) loss.tail = DISTILL_TAIL_BUCKET;
    distill_trainer_options options;
    distill::check(distill_trainer_options_init(&options));
    options.optimizer_json = R"({"kind": "adamw", "lr": 0.01})";
    options.loss = &loss;
    options.max_grad_norm = 5.0f;
    options.seed = 11;
    distill::Trainer trainer(context, model, options);
    trainer_run run;
    for (int step = 0; step < 5; ++step) {
        // Batches of two sizes: the device buffers grow and are reused.
        const int64_t rows = step % 2 ? 24 : 32;
        test::synthetic_set set =
            test::make_synthetic_set(rows, model.inputs(), 4, uint32_t(30 + step));
        // The teacher's top 2 classes of each row, as log-probabilities.
        test::host_tensor ids(test::storage::i64, {rows, 2}),
            logprobs(test::storage::f32, {rows, 2});
        for (int64_t r = 0; r < rows; ++r) {
            std::vector<double> t(4);
            double total = 0;
            for (int64_t c = 0; c < 4; ++c) {
                t[size_t(c)] = set.teacher_logits.get(size_t(r * 4 + c));
                total += std::exp(t[size_t(c)]);
            }
            std::vector<int64_t> order = {0, 1, 2, 3};
            std::sort(order.begin(), order.end(),
                      [&](int64_t p, int64_t q) { return t[size_t(p)] > t[size_t(q)]; });
            for (size_t j = 0; j < 2; ++j) {
                ids.set(size_t(r) * 2 + j, double(order[j]));
                logprobs.set(size_t(r) * 2 + j, t[size_t(order[j])] - std::log(total));
            }
        }
        distill_batch batch;
        distill::check(distill_batch_init(&batch));
        batch.inputs = set.inputs.dl();
        batch.labels = set.labels.dl();
        if (kind == targets::dense) batch.teacher_logits = set.teacher_logits.dl();
        if (kind == targets::topk) {
            batch.teacher_topk_ids = ids.dl();
            batch.teacher_topk_logprobs = logprobs.dl();
        }
        run.steps.push_back(trainer.step(batch));
    }
    run.parameters = test::all_parameters(model);
    return run;
}

}  // namespace

TEST_CASE("cuda students: a trainer on a CUDA context matches a CPU trainer over five steps") {
    if (!cuda_device_present()) return;
    const distill::Context cpu;
    const distill::Context gpu(distill::ContextOptions::cuda());
    for (const std::string & config : {gelu_mlp, relu_cnn}) {
        for (targets kind : {targets::dense, targets::topk, targets::labels_only}) {
            INFO(config, " targets ", int(kind));
            const trainer_run a = train(cpu, config, kind);
            const trainer_run b = train(gpu, config, kind);
            for (size_t s = 0; s < a.steps.size(); ++s) {
                INFO("step ", s + 1, ": cpu loss ", a.steps[s].loss, ", cuda ", b.steps[s].loss);
                CHECK(std::fabs(b.steps[s].loss - a.steps[s].loss) <=
                      tolerance * std::fabs(a.steps[s].loss));
                CHECK(std::fabs(b.steps[s].grad_norm - a.steps[s].grad_norm) <=
                      tolerance * std::fabs(a.steps[s].grad_norm));
            }
            CHECK(relative_error(b.parameters, a.parameters) < tolerance);
        }
    }
}

TEST_CASE("cuda students: predict on a CUDA context matches the CPU's, for every output kind") {
    if (!cuda_device_present()) return;
    const distill::Context cpu;
    const distill::Context gpu(distill::ContextOptions::cuda());
    for (const std::string & config : {gelu_mlp, relu_cnn}) {
        INFO(config);
        distill::Model model = distill::Model::create(config, 3);
        test::synthetic_set set = test::make_synthetic_set(40, model.inputs(), 4, 5);
        const auto * x = static_cast<const float *>(set.inputs.dl()->data);
        for (distill_output output :
             {DISTILL_OUTPUT_RAW, DISTILL_OUTPUT_PROBABILITIES, DISTILL_OUTPUT_LOG_PROBABILITIES}) {
            INFO("output ", int(output));
            const std::vector<float> expected = model.predict(cpu, x, 40, output);
            // Twice on the device: a second call starts from a fresh session too.
            for (int call = 0; call < 2; ++call)
                CHECK(relative_error(model.predict(gpu, x, 40, output), expected) < tolerance);
        }
    }
}

TEST_CASE("cuda students: fit on a CUDA context matches fit on the CPU") {
    if (!cuda_device_present()) return;
    const distill::Context cpu;
    const distill::Context gpu(distill::ContextOptions::cuda());
    test::synthetic_set set = test::make_synthetic_set(96, 12, 4, 9);
    distill::Dataset data = distill::Dataset::create(*set.inputs.dl(), set.labels.dl());
    data.set_teacher_logits(*set.teacher_logits.dl());
    std::vector<float> parameters[2];
    double accuracy[2];
    for (int device = 0; device < 2; ++device) {
        distill::Model model = distill::Model::create(gelu_mlp, 4);
        distill_kd_loss_options loss;
        distill::check(distill_kd_loss_options_init(&loss));
        loss.hard_weight = 0.5f;
        distill_trainer_options options;
        distill::check(distill_trainer_options_init(&options));
        options.optimizer_json = R"({"kind": "adamw", "lr": 0.01})";
        options.loss = &loss;
        options.seed = 2;
        distill::Trainer trainer(device ? gpu : cpu, model, options);
        distill_fit_options fit;
        distill::check(distill_fit_options_init(&fit));
        fit.epochs = 2;
        fit.batch_size = 32;
        fit.validation = data.get();  // validation's forward on the fit's device
        const distill_fit_summary summary = trainer.fit(data, fit);
        CHECK(summary.steps == 6);
        parameters[device] = test::all_parameters(model);
        accuracy[device] = summary.best_val_accuracy;
    }
    // Looser than a step's: over more steps AdamW magnifies the rounding of a
    // gradient near 0 (its update is lr · g / (√v + ε), steep in g when |g| ≈ ε).
    CHECK(relative_error(parameters[1], parameters[0]) < 10 * tolerance);
    CHECK(accuracy[1] == accuracy[0]);
}

TEST_CASE("cuda students: evaluate and a model teacher on a CUDA context match the CPU's") {
    if (!cuda_device_present()) return;
    const distill::Context cpu;
    const distill::Context gpu(distill::ContextOptions::cuda());
    distill::Model model = distill::Model::create(relu_cnn, 6);
    test::synthetic_set set = test::make_synthetic_set(600, model.inputs(), 4, 8);  // 512 + 88
    distill::Dataset data = distill::Dataset::create(*set.inputs.dl(), set.labels.dl());
    data.set_teacher_logits(*set.teacher_logits.dl());
    const distill_eval_metrics a = distill::evaluate(cpu, model, data);
    const distill_eval_metrics b = distill::evaluate(gpu, model, data);
    CHECK(b.accuracy == doctest::Approx(a.accuracy).epsilon(1e-6));
    CHECK(b.agreement == doctest::Approx(a.agreement).epsilon(1e-6));
    CHECK(b.mean_kl == doctest::Approx(a.mean_kl).epsilon(1e-5));
    CHECK(b.loss == doctest::Approx(a.loss).epsilon(1e-5));

    // The model as a teacher on the GPU: the same top-k answers.
    distill::Dataset asked_cpu = distill::Dataset::create(*set.inputs.dl());
    distill::Dataset asked_gpu = distill::Dataset::create(*set.inputs.dl());
    distill::Teacher on_cpu = distill::Teacher::model(cpu, model, "cnn");
    distill::Teacher on_gpu = distill::Teacher::model(gpu, model, "cnn");
    asked_cpu.ask_teacher(on_cpu, nullptr);
    asked_gpu.ask_teacher(on_gpu, nullptr);
    const DLTensor & x = *asked_cpu.field(DISTILL_DATASET_TEACHER_TOPK_LOGPROBS);
    const DLTensor & y = *asked_gpu.field(DISTILL_DATASET_TEACHER_TOPK_LOGPROBS);
    const int64_t count = x.shape[0] * x.shape[1];
    const std::vector<float> expected(static_cast<const float *>(x.data),
                                      static_cast<const float *>(x.data) + count);
    const std::vector<float> got(static_cast<const float *>(y.data),
                                 static_cast<const float *>(y.data) + count);
    CHECK(relative_error(got, expected) < tolerance);
}

#endif  // DISTILL_TEST_CUDA
