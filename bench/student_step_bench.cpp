// distill_bench_student_step — training and inference speed of a built-in
// student, as JSON lines: samples/s of one distillation step (forward,
// forward-KL + cross-entropy loss against dense teacher logits, backward,
// AdamW) and inference latency at batch 1 and 256. The PyTorch side of the
// comparison is bench/student_step_torch.py, which runs this binary.
//
// usage: distill_bench_student_step [--config JSON] [--batch 128] [--seconds 2] [--steps N]
//                                   [--device cpu|cuda]
//
// --device cuda trains and predicts on GPU 0 (the batch stays in host
// memory, as the trainer takes it; each step waits for its loss).
//
// --steps N runs exactly N training steps and prints nothing else: a fixed
// amount of work for an instruction count (valgrind --tool=callgrind).
#include <distill/distill.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

// Repeats fn until `budget` seconds and at least `min_runs` runs; returns
// seconds per run over the timed runs (after one warm-up).
template <class Fn>
double time_per_run(Fn && fn, double budget, int min_runs) {
    fn();
    int runs = 0;
    const auto start = clock_type::now();
    while (runs < min_runs || seconds_since(start) < budget) {
        fn();
        ++runs;
    }
    return seconds_since(start) / runs;
}

}  // namespace

int main(int argc, char ** argv) {
    std::string config =
        R"({"kind": "mlp", "inputs": 784, "hidden": [256], "activation": "relu", "dropout": 0.0, "outputs": 10})";
    int64_t batch = 128;
    double budget = 2.0;
    long long fixed_steps = 0;
    std::string device = "cpu";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--config"))
            config = argv[i + 1];
        else if (!std::strcmp(argv[i], "--batch"))
            batch = std::atoll(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--seconds"))
            budget = std::atof(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--steps"))
            fixed_steps = std::atoll(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--device") &&
                 (!std::strcmp(argv[i + 1], "cpu") || !std::strcmp(argv[i + 1], "cuda")))
            device = argv[i + 1];
        else {
            std::fprintf(stderr,
                         "usage: %s [--config JSON] [--batch N] [--seconds S] [--steps N] "
                         "[--device cpu|cuda]\n",
                         argv[0]);
            return 2;
        }
    }
    try {
        const distill::Context cpu(device == "cuda" ? distill::ContextOptions::cuda(0)
                                                    : distill::ContextOptions::cpu());
        distill::Model model = distill::Model::create(config, 0);
        const int64_t features = model.inputs(), classes = model.outputs();
        std::mt19937 random(1);
        std::uniform_real_distribution<float> unit(0.0f, 1.0f), logit(-4.0f, 4.0f);
        std::vector<float> x(static_cast<size_t>(batch * features));
        std::vector<float> t(static_cast<size_t>(batch * classes));
        std::vector<int64_t> y(static_cast<size_t>(batch));
        for (float & v : x) v = unit(random);
        for (float & v : t) v = logit(random);
        for (size_t i = 0; i < y.size(); ++i) y[i] = int64_t(i % size_t(classes));
        int64_t x_shape[2] = {batch, features}, t_shape[2] = {batch, classes}, y_shape[1] = {batch};
        DLTensor inputs{x.data(), {kDLCPU, 0}, 2, {kDLFloat, 32, 1}, x_shape, nullptr, 0};
        DLTensor teacher{t.data(), {kDLCPU, 0}, 2, {kDLFloat, 32, 1}, t_shape, nullptr, 0};
        DLTensor labels{y.data(), {kDLCPU, 0}, 1, {kDLInt, 64, 1}, y_shape, nullptr, 0};

        distill_kd_loss_options loss;
        distill::check(distill_kd_loss_options_init(&loss));
        loss.temperature = 2.0f;
        loss.soft_weight = 0.5f;
        loss.hard_weight = 0.5f;
        distill_trainer_options options;
        distill::check(distill_trainer_options_init(&options));
        options.optimizer_json = R"({"kind": "adamw", "lr": 1e-4, "weight_decay": 0.01})";
        options.loss = &loss;
        distill::Trainer trainer(cpu, model, options);
        distill_batch step_batch;
        distill::check(distill_batch_init(&step_batch));
        step_batch.inputs = &inputs;
        step_batch.labels = &labels;
        step_batch.teacher_logits = &teacher;

        if (fixed_steps > 0) {
            for (long long i = 0; i < fixed_steps; ++i) trainer.step(step_batch);
            return 0;
        }
        double fastest_step = 1e30;  // the quickest single step: least disturbed by other load
        const double step_seconds = time_per_run(
            [&] {
                const auto start = clock_type::now();
                trainer.step(step_batch);
                fastest_step = std::min(fastest_step, seconds_since(start));
            },
            budget, 10);
        const double infer_batch =
            time_per_run([&] { model.predict(cpu, x.data(), batch); }, budget / 2, 10);
        const double infer_one =
            time_per_run([&] { model.predict(cpu, x.data(), 1); }, budget / 2, 100);
        std::printf(
            "{\"bench\": \"student_step\", \"impl\": \"distill\", \"device\": \"%s\", \"config\": %s, \"batch\": %lld, "
            "\"parameters\": %lld, \"step_ms\": %.4f, \"step_min_ms\": %.4f, \"train_samples_per_s\": %.1f, "
            "\"infer_batch_ms\": %.4f, \"infer_samples_per_s\": %.1f, \"infer_batch1_ms\": %.4f}\n",
            device.c_str(), config.c_str(), (long long)batch, (long long)model.parameter_count(),
            step_seconds * 1e3, fastest_step * 1e3, double(batch) / step_seconds, infer_batch * 1e3,
            double(batch) / infer_batch, infer_one * 1e3);
    } catch (const distill::Exception & e) {
        std::fprintf(stderr, "distill_bench_student_step: %s\n", e.what());
        return 1;
    }
    return 0;
}
