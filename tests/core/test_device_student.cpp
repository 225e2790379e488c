// The device student (core/students/device_student.h) and the trainer's
// CUDA path, on the emulated CUDA backend (emulated_cuda_backend.h): the
// same model run through the backend's primitives must give the CPU
// model's logits and gradients, a trainer on a CUDA context the CPU
// trainer's losses and parameters; backend failures surface as
// distill::error with the backend's message; nothing leaks.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "emulated_cuda_backend.h"
#include "students/device_student.h"
#include "students/model.h"
#include "teachers/example_wire.h"
#include "teachers/model_teacher.h"
#include "teachers/teacher_record.h"
#include "test_student_support.h"
#include "train/evaluation.h"
#include "train/host_tensor.h"
#include "train/student_trainer.h"

using distill::device_buffer;
using distill::device_student;
using distill::model;
using emulated_cuda::emulated_cuda_backend;
using namespace student_test;

namespace {

const std::string gelu_mlp = R"({"kind": "mlp", "inputs": 20, "hidden": [32, 24],
    "activation": "gelu", "dropout": 0.25, "outputs": 7})";
// Odd 9 × 7 planes (the pools drop a row and a column), padding on the first
// convolution only, dropout in the head.
const std::string relu_cnn = R"({"kind": "cnn", "input_shape": [2, 9, 7],
    "conv": [{"channels": 3, "kernel": 3, "padding": 1}, {"channels": 4, "kernel": 2}],
    "hidden": [10], "activation": "relu", "dropout": 0.1, "outputs": 5})";

model make(const std::string & config, uint64_t seed = 5) {
    return model(distill::parse_model_config(nlohmann::json::parse(config)), seed);
}

std::vector<float> download(device_student & d, const float * device, size_t count) {
    std::vector<float> host(count);
    d.session().copy(host.data(), device, sizeof(float) * count, 1);
    return host;
}

// Forward (train and eval) and backward of `m` on the CPU and on the device,
// for a batch of `batch` rows; each relative error under 1e-5.
void check_against_cpu(const std::string & config, int64_t batch) {
    emulated_cuda_backend backend;
    {
        model m = make(config);
        const auto inputs = random_values<float>(size_t(batch * m.input_size()), 11);
        const auto d_logits = random_values<float>(size_t(batch * m.output_size()), 12);
        const uint64_t dropout_seed = 99;

        std::vector<float> cpu_eval(d_logits.size()), cpu_train(d_logits.size());
        m.forward(inputs.data(), batch, cpu_eval.data(), false, 0);
        m.forward(inputs.data(), batch, cpu_train.data(), true, dropout_seed);
        m.backward(d_logits.data());
        const std::vector<float> cpu_gradients(m.gradients().begin(), m.gradients().end());
        std::fill(m.gradients().begin(), m.gradients().end(), 0.0f);

        const distill::context ctx = backend.context();
        device_student d(ctx, m);
        d.upload_parameters();
        // A larger batch first, so the buffers are reused at a smaller one.
        const auto big = random_values<float>(size_t((batch + 3) * m.input_size()), 13);
        d.forward(big.data(), batch + 3, true, 1);

        const float * logits = d.forward(inputs.data(), batch, false, 0);
        CHECK(relative_error(download(d, logits, cpu_eval.size()), cpu_eval) < 1e-5);
        std::vector<float> downloaded(cpu_eval.size());
        d.download_logits(downloaded.data());
        CHECK(relative_error(downloaded, cpu_eval) < 1e-5);

        logits = d.forward(inputs.data(), batch, true, dropout_seed);
        CHECK(relative_error(download(d, logits, cpu_train.size()), cpu_train) < 1e-5);
        device_buffer device_d_logits(d.session());
        device_d_logits.upload(d_logits.data(), sizeof(float) * d_logits.size());
        d.backward(device_d_logits.as<float>());
        const std::vector<float> gradients(m.gradients().begin(), m.gradients().end());
        // Per tensor, so a small one (a bias) is not hidden by a large one.
        for (const distill::parameter_info & p : m.parameter_table()) {
            INFO(p.name);
            const auto at = [&](const std::vector<float> & all) {
                return std::vector<float>(all.begin() + p.offset, all.begin() + p.offset + p.count);
            };
            CHECK(relative_error(at(gradients), at(cpu_gradients)) < 1e-5);
        }
    }
    CHECK(backend.live_allocations() == 0);
    CHECK(backend.live_sessions() == 0);
}

}  // namespace

TEST_CASE("device student: an MLP with GELU and dropout matches the CPU model") {
    check_against_cpu(gelu_mlp, 9);
}

TEST_CASE("device student: a CNN with padding, max pooling and ReLU matches the CPU model") {
    check_against_cpu(relu_cnn, 6);
}

TEST_CASE("device student: a single linear layer (the first op is the last) matches the CPU") {
    check_against_cpu(R"({"kind": "mlp", "inputs": 5, "outputs": 3})", 4);
}

TEST_CASE("device student: backward needs a training forward before it") {
    emulated_cuda_backend backend;
    model m = make(gelu_mlp);
    const distill::context ctx = backend.context();
    device_student d(ctx, m);
    d.upload_parameters();
    const auto inputs = random_values<float>(size_t(2 * m.input_size()), 1);
    d.forward(inputs.data(), 2, false, 0);
    device_buffer d_logits(d.session());
    d_logits.reserve(sizeof(float) * 2 * size_t(m.output_size()));
    CHECK_THROWS_WITH_AS(d.backward(d_logits.as<float>()),
                         doctest::Contains("expected a forward(training = true)"), distill::error);
}

TEST_CASE("device student: a backend failure is a distill::error with the backend's message") {
    emulated_cuda_backend backend;
    {
        model m = make(relu_cnn);
        const distill::context ctx = backend.context();
        SUBCASE("allocation") {
            backend.fail("memory_alloc", 1, 3, "out of memory (emulated)");
            try {
                device_student d(ctx, m);  // parameters, then gradients: the second fails
                FAIL("expected a failure");
            } catch (const distill::error & e) {
                CHECK(e.code() == distill::status::out_of_memory);
                CHECK(std::string(e.what()).find("out of memory (emulated)") != std::string::npos);
                CHECK(std::string(e.what()).find("device memory of") != std::string::npos);
            }
        }
        SUBCASE("a primitive in the forward") {
            device_student d(ctx, m);
            d.upload_parameters();
            backend.fail("maxpool2d_forward", 0, 4, "kernel launch failed (emulated)");
            const auto inputs = random_values<float>(size_t(3 * m.input_size()), 1);
            try {
                d.forward(inputs.data(), 3, true, 1);
                FAIL("expected a failure");
            } catch (const distill::error & e) {
                CHECK(e.code() == distill::status::internal);
                CHECK(std::string(e.what()) ==
                      "maxpool2d forward: kernel launch failed (emulated)");
            }
        }
        SUBCASE("the session") {
            backend.fail("session_create", 0, 2, "cuDNN is missing (emulated)");
            CHECK_THROWS_WITH_AS(device_student(ctx, m),
                                 doctest::Contains("cuDNN is missing (emulated)"), distill::error);
        }
    }
    CHECK(backend.live_allocations() == 0);
    CHECK(backend.live_sessions() == 0);
}

// ---- the trainer ----------------------------------------------------------------------

namespace {

enum class teacher_kind { dense, topk, labels_only };

// A batch of `rows` examples of a model with `features` inputs and
// `classes` outputs, every form of target filled.
struct batch_data {
    int64_t rows, classes, k = 3;
    std::vector<float> inputs, teacher_logits, topk_logprobs;
    std::vector<int64_t> labels, topk_ids;
    int64_t input_shape[2], label_shape[1], logit_shape[2], topk_shape[2];
    DLTensor inputs_t, labels_t, logits_t, ids_t, logprobs_t;

    batch_data(int64_t rows_, int64_t features, int64_t classes_, uint64_t seed)
        : rows(rows_), classes(classes_) {
        inputs = random_values<float>(size_t(rows * features), seed);
        teacher_logits = random_values<float>(size_t(rows * classes), seed + 1, -3.0, 3.0);
        for (int64_t r = 0; r < rows; ++r) {
            labels.push_back((r * 5 + int64_t(seed)) % classes);
            // The teacher's top k classes of the row, as log-probabilities.
            const float * t = teacher_logits.data() + r * classes;
            double total = 0;
            for (int64_t c = 0; c < classes; ++c) total += std::exp(double(t[c]));
            std::vector<int64_t> order(static_cast<size_t>(classes));
            for (int64_t c = 0; c < classes; ++c) order[size_t(c)] = c;
            std::sort(order.begin(), order.end(),
                      [&](int64_t a, int64_t b) { return t[a] > t[b]; });
            for (int64_t j = 0; j < k; ++j) {
                topk_ids.push_back(order[size_t(j)]);
                topk_logprobs.push_back(float(double(t[order[size_t(j)]]) - std::log(total)));
            }
        }
        labels[1] = -100;  // an ignored row
        input_shape[0] = label_shape[0] = logit_shape[0] = topk_shape[0] = rows;
        input_shape[1] = features;
        logit_shape[1] = classes;
        topk_shape[1] = k;
        inputs_t = distill::host_tensor(inputs.data(), input_shape, 2);
        labels_t = distill::host_tensor(labels.data(), label_shape, 1);
        logits_t = distill::host_tensor(teacher_logits.data(), logit_shape, 2);
        ids_t = distill::host_tensor(topk_ids.data(), topk_shape, 2);
        logprobs_t = distill::host_tensor(topk_logprobs.data(), topk_shape, 2);
    }

    distill::batch_tensors tensors(teacher_kind kind) const {
        distill::batch_tensors b;
        b.inputs = &inputs_t;
        b.labels = &labels_t;
        if (kind == teacher_kind::dense) b.teacher_logits = &logits_t;
        if (kind == teacher_kind::topk) {
            b.teacher_topk_ids = &ids_t;
            b.teacher_topk_logprobs = &logprobs_t;
        }
        return b;
    }
};

distill::trainer_settings settings_for(teacher_kind kind) {
    distill::trainer_settings s;
    s.optimizer = {{"kind", "adamw"}, {"lr", 0.01}};
    s.seed = 17;
    s.max_grad_norm = 5.0f;
    s.loss.temperature = 2.0f;
    if (kind == teacher_kind::labels_only) {
        s.loss.soft_weight = 0.0f;
        s.loss.hard_weight = 1.0f;
    } else {
        s.loss.soft_weight = 0.7f;
        s.loss.hard_weight = 0.3f;
    }
    if (kind == teacher_kind::topk) s.loss.tail = 1;  // the tail as one bucket
    return s;
}

// Five AdamW steps on the CPU and on the emulated device, from the same
// model, seed and batches: losses, metrics and parameters agree.
void check_trainer_against_cpu(const std::string & config, teacher_kind kind) {
    emulated_cuda_backend backend;
    {
        auto cpu_model = std::make_shared<model>(make(config));
        auto gpu_model = std::make_shared<model>(make(config));
        distill::student_trainer cpu(distill::context{}, cpu_model, settings_for(kind));
        distill::student_trainer gpu(backend.context(), gpu_model, settings_for(kind));
        for (int step = 0; step < 5; ++step) {
            INFO("step ", step + 1);
            // Batches of changing sizes: the device buffers grow and are reused.
            const batch_data batch(step % 2 ? 6 : 8, cpu_model->input_size(),
                                   cpu_model->output_size(), uint64_t(40 + step));
            const distill::step_outcome a = cpu.step(batch.tensors(kind));
            const distill::step_outcome b = gpu.step(batch.tensors(kind));
            CHECK(b.step == a.step);
            CHECK(std::fabs(b.loss - a.loss) <= 1e-5 * std::fabs(a.loss));
            CHECK(std::fabs(b.grad_norm - a.grad_norm) <= 1e-5 * std::fabs(a.grad_norm));
            CHECK(b.learning_rate == a.learning_rate);
            CHECK(b.accuracy == a.accuracy);
            if (kind == teacher_kind::labels_only)
                CHECK(std::isnan(b.agreement));
            else
                CHECK(b.agreement == a.agreement);
        }
        const std::vector<float> p(cpu_model->parameters().begin(), cpu_model->parameters().end());
        const std::vector<float> q(gpu_model->parameters().begin(), gpu_model->parameters().end());
        CHECK(relative_error(q, p) < 1e-5);
    }
    CHECK(backend.live_allocations() == 0);
    CHECK(backend.live_sessions() == 0);
}

}  // namespace

TEST_CASE("trainer on CUDA (emulated): five AdamW steps match the CPU trainer") {
    for (const std::string & config : {gelu_mlp, relu_cnn}) {
        INFO(config);
        SUBCASE("dense teacher") { check_trainer_against_cpu(config, teacher_kind::dense); }
        SUBCASE("top-k teacher") { check_trainer_against_cpu(config, teacher_kind::topk); }
        SUBCASE("labels only") { check_trainer_against_cpu(config, teacher_kind::labels_only); }
    }
}

TEST_CASE("trainer on CUDA (emulated): bad values get the CPU's message, failures the backend's") {
    emulated_cuda_backend backend;
    {
        auto m = std::make_shared<model>(make(gelu_mlp));
        const std::vector<float> before(m->parameters().begin(), m->parameters().end());
        distill::student_trainer trainer(backend.context(), m, settings_for(teacher_kind::dense));
        batch_data batch(4, m->input_size(), m->output_size(), 3);
        SUBCASE("a label out of range") {
            batch.labels[2] = 7;
            CHECK_THROWS_WITH_AS(trainer.step(batch.tensors(teacher_kind::dense)),
                                 doctest::Contains("labels: expected each label in [0, V)"),
                                 distill::error);
        }
        SUBCASE("a repeated top-k id") {
            batch.topk_ids[1] = batch.topk_ids[0];
            CHECK_THROWS_WITH_AS(trainer.step(batch.tensors(teacher_kind::topk)),
                                 doctest::Contains("expected distinct ids within a row"),
                                 distill::error);
        }
        SUBCASE("the loss kernel fails") {
            backend.fail("kd_loss_dense", 0, 4, "an illegal memory access (emulated)");
            CHECK_THROWS_WITH_AS(trainer.step(batch.tensors(teacher_kind::dense)),
                                 doctest::Contains("an illegal memory access (emulated)"),
                                 distill::error);
        }
        SUBCASE("an allocation of the step fails") {
            backend.fail("memory_alloc", 0, 3, "out of memory (emulated)");
            try {
                trainer.step(batch.tensors(teacher_kind::dense));
                FAIL("expected a failure");
            } catch (const distill::error & e) {
                CHECK(e.code() == distill::status::out_of_memory);
                CHECK(std::string(e.what()).find("out of memory (emulated)") != std::string::npos);
            }
        }
        CHECK(trainer.global_step() == 0);
        CHECK(std::vector<float>(m->parameters().begin(), m->parameters().end()) == before);
        // The trainer still works after a refused step.
        batch_data good(4, m->input_size(), m->output_size(), 4);
        CHECK(trainer.step(good.tensors(teacher_kind::dense)).step == 1);
    }
    CHECK(backend.live_allocations() == 0);
    CHECK(backend.live_sessions() == 0);
}

TEST_CASE("trainer on CUDA (emulated): a failing session refuses the trainer") {
    emulated_cuda_backend backend;
    backend.fail("session_create", 0, 2, "libcublas.so.13 not found (emulated)");
    auto m = std::make_shared<model>(make(gelu_mlp));
    CHECK_THROWS_WITH_AS(
        distill::student_trainer(backend.context(), m, settings_for(teacher_kind::dense)),
        doctest::Contains("libcublas.so.13 not found (emulated)"), distill::error);
    CHECK(backend.live_allocations() == 0);
    CHECK(backend.live_sessions() == 0);
}

TEST_CASE("evaluation on CUDA (emulated): the device's logits give the CPU's metrics") {
    emulated_cuda_backend backend;
    for (const std::string & config : {gelu_mlp, relu_cnn}) {
        INFO(config);
        model m = make(config);
        // 700 rows: a full batch of 512 and a partial one.
        distill::example_set set;
        set.rows = 700;
        set.features = m.input_size();
        set.inputs = random_values<float>(size_t(set.rows * set.features), 21);
        set.teacher_classes = m.output_size();
        set.teacher_logits = random_values<float>(size_t(set.rows * set.teacher_classes), 22);
        for (int64_t r = 0; r < set.rows; ++r) set.labels.push_back(r % m.output_size());
        const distill::evaluation cpu = distill::evaluate_model(m, set, distill::context{});
        const distill::evaluation gpu = distill::evaluate_model(m, set, backend.context());
        CHECK(gpu.examples == cpu.examples);
        CHECK(gpu.accuracy == doctest::Approx(cpu.accuracy).epsilon(1e-6));
        CHECK(gpu.agreement == doctest::Approx(cpu.agreement).epsilon(1e-6));
        CHECK(gpu.mean_kl == doctest::Approx(cpu.mean_kl).epsilon(1e-5));
        CHECK(gpu.ece == doctest::Approx(cpu.ece).epsilon(1e-4));
        CHECK(gpu.loss == doctest::Approx(cpu.loss).epsilon(1e-5));
    }
    CHECK(backend.live_allocations() == 0);
    CHECK(backend.live_sessions() == 0);
}

TEST_CASE("model teacher on CUDA (emulated): answers as the CPU teacher, weights uploaded once") {
    emulated_cuda_backend backend;
    {
        const model m = make(relu_cnn);
        distill::model_teacher cpu(m, "cnn", 3, 2.0f, distill::context{});
        distill::model_teacher gpu(m, "cnn", 3, 2.0f, backend.context());
        CHECK(gpu.identity() == cpu.identity());  // where it runs is not who it is
        const int64_t rows = 5;
        const auto inputs = random_values<float>(size_t(rows * m.input_size()), 31);
        std::vector<nlohmann::json> requests;
        for (int64_t r = 0; r < rows; ++r)
            requests.push_back(distill::example_request(inputs.data() + r * m.input_size(),
                                                        m.input_size()));
        requests.push_back(nlohmann::json{{"input", "not an example"}});  // fails alone
        std::vector<distill::teacher_record> a(requests.size()), b(requests.size());
        cpu.ask_batch(requests, a);
        gpu.ask_batch(requests, b);
        for (size_t i = 0; i < requests.size(); ++i) {
            INFO("request ", i);
            REQUIRE(a[i].failed() == b[i].failed());
            CHECK(a[i].error_message == b[i].error_message);
            if (a[i].failed()) continue;
            REQUIRE(a[i].positions.size() == 1);
            REQUIRE(b[i].positions.size() == 1);
            const auto & x = a[i].positions[0].top;
            const auto & y = b[i].positions[0].top;
            REQUIRE(x.size() == y.size());
            for (size_t j = 0; j < x.size(); ++j) {
                CHECK(y[j].id == x[j].id);
                CHECK(y[j].logprob == doctest::Approx(x[j].logprob).epsilon(1e-5));
            }
        }
        CHECK(a.back().failed());
    }
    CHECK(backend.live_allocations() == 0);
    CHECK(backend.live_sessions() == 0);
}

TEST_CASE("fit on CUDA (emulated): validation reuses the trainer's device student") {
    emulated_cuda_backend backend;
    {
        distill::example_set set;
        set.rows = 40;
        set.features = 20;
        set.inputs = random_values<float>(size_t(set.rows * set.features), 41);
        for (int64_t r = 0; r < set.rows; ++r) set.labels.push_back(r % 7);
        distill::fit_settings fit;
        fit.epochs = 2;
        fit.batch_size = 16;
        fit.validation = &set;
        distill::fit_outcome outcomes[2];
        for (int device = 0; device < 2; ++device) {
            auto m = std::make_shared<model>(make(gelu_mlp));
            distill::student_trainer trainer(device ? backend.context() : distill::context{}, m,
                                             settings_for(teacher_kind::labels_only));
            // No further session may be made: validation must use the trainer's.
            if (device) backend.fail("session_create", 0, 3, "no second session");
            outcomes[device] = trainer.fit(set, fit, nullptr);
        }
        CHECK(outcomes[1].epochs_run == 2);
        CHECK(outcomes[1].best_epoch == outcomes[0].best_epoch);
        CHECK(outcomes[1].best_val_accuracy == outcomes[0].best_val_accuracy);
    }
    CHECK(backend.live_allocations() == 0);
    CHECK(backend.live_sessions() == 0);
}
