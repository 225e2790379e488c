// The device transformer (core/lm/device_transformer.h) on the emulated
// CUDA backend (emulated_cuda_backend.h: its transformer primitives are
// plain fp64 loops written from the table's contract, attention a plain
// softmax per row), so this runs on every machine: the same model through
// the backend's primitives gives the CPU model's logits, loss and
// gradients, and a few optimiser steps the CPU trainer's losses; bad
// inputs get the CPU's messages; backend failures surface as
// distill::error with the backend's message; nothing leaks. The same
// checks on a real GPU: test_cuda_lm.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "emulated_cuda_backend.h"
#include "lm/device_transformer.h"
#include "lm/transformer.h"
#include "lm_device_checks.h"
#include "train/device_token_step.h"
#include "train/token_distillation.h"

using distill::lm::device_transformer;
using distill::lm::transformer;
using emulated_cuda::emulated_cuda_backend;
using lm_device_checks::make_config;

namespace {

// fp32 on the CPU against fp64 sums in the emulation.
constexpr double tolerance = 2e-5;

std::string message_of(const std::function<void()> & body) {
    try {
        body();
    } catch (const distill::error & e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("lm device transformer: matches the CPU model (emulated backend): GQA, tied, odd sizes") {
    emulated_cuda_backend backend;
    const distill::context ctx = backend.context();
    SUBCASE("grouped-query attention, H = 4, KV = 2, D = 8") {
        lm_device_checks::check_against_cpu(ctx, make_config(29, 32, 2, 4, 2, 40, 12, false), 2,
                                            11, tolerance);
    }
    SUBCASE("tied embeddings, D = 16, one head per key/value head") {
        lm_device_checks::check_against_cpu(ctx, make_config(23, 32, 1, 2, 2, 24, 9, true), 3, 9,
                                            tolerance);
    }
    SUBCASE("multi-query, D = 6, T = 1") {
        lm_device_checks::check_against_cpu(ctx, make_config(17, 18, 2, 3, 1, 20, 5, false), 2,
                                            1, tolerance);
    }
    CHECK(backend.live_allocations() == 0);
    CHECK(backend.live_sessions() == 0);
}

TEST_CASE("lm device transformer: optimiser steps follow the CPU trainer (emulated backend)") {
    emulated_cuda_backend backend;
    lm_device_checks::check_training_curve(backend.context(),
                                           make_config(19, 16, 2, 4, 2, 24, 10, false), 2, 10, 5,
                                           1e-4);
    CHECK(backend.live_allocations() == 0);
}

TEST_CASE("lm device transformer: two train steps of the same batch give the same bits") {
    emulated_cuda_backend backend;
    lm_device_checks::check_repeatable(backend.context(), make_config(19, 16, 1, 4, 2, 24, 10, true),
                                       2, 7);
}

TEST_CASE("lm device transformer: bad inputs get the CPU model's messages") {
    emulated_cuda_backend backend;
    const distill::context ctx = backend.context();
    transformer cpu(make_config(11, 8, 1, 2, 1, 8, 4, false), 1);
    transformer host(cpu.config(), 1);
    device_transformer device(ctx, host);
    device.upload_parameters();
    const std::vector<int32_t> tokens = {1, 2, 11, 3}, targets = {2, 3, 4, 70};
    const auto cpu_message = [&](auto && call) { return message_of([&] { call(cpu); }); };
    const auto device_message = [&](auto && call) { return message_of([&] { call(device); }); };
    const auto forward_bad_id = [&](auto & m) { m.forward(tokens.data(), 1, 4); };
    CHECK(device_message(forward_bad_id) == cpu_message(forward_bad_id));
    CHECK(device_message(forward_bad_id).find("tokens[0, 2]") != std::string::npos);
    const auto too_long = [&](auto & m) { m.forward(tokens.data(), 1, 5); };
    CHECK(device_message(too_long) == cpu_message(too_long));
    const auto no_batch = [&](auto & m) { m.forward(tokens.data(), 0, 4); };
    CHECK(device_message(no_batch) == cpu_message(no_batch));
    // A failed forward leaves nothing to run backward from.
    const std::vector<float> d_logits(4 * 11, 0.0f);
    const auto backward = [&](auto & m) { m.backward(d_logits.data()); };
    CHECK(device_message(backward) == cpu_message(backward));
    CHECK(message_of([&] { device.backward_from_host(d_logits.data()); }) ==
          cpu_message(backward));
    std::vector<float> logits(4 * 11);
    CHECK(message_of([&] { device.download_logits(logits.data()); }).find("forward before") !=
          std::string::npos);
    const std::vector<int32_t> good = {1, 2, 3, 4};
    const auto bad_target = [&](auto & m) { m.train_step(good.data(), targets.data(), 1, 4); };
    CHECK(device_message(bad_target) == cpu_message(bad_target));
    CHECK(device_message(bad_target).find("targets[3]") != std::string::npos);
}

TEST_CASE("lm device transformer: a CPU context is refused; backend failures carry its message") {
    transformer host(make_config(11, 8, 1, 2, 1, 8, 4, false), 1);
    CHECK(message_of([&] { device_transformer d(distill::context{}, host); })
              .find("expected a CUDA context") != std::string::npos);
    emulated_cuda_backend backend;
    {
        device_transformer device(backend.context(), host);
        device.upload_parameters();
        const std::vector<int32_t> tokens = {1, 2, 3, 4};
        backend.fail("attention_forward", 0, 4, "kernel launch failed (emulated)");
        const std::string message = message_of([&] { device.forward(tokens.data(), 1, 4); });
        CHECK(message.find("attention") != std::string::npos);
        CHECK(message.find("kernel launch failed (emulated)") != std::string::npos);
        // Recovered: the next forward runs.
        CHECK_NOTHROW(device.forward(tokens.data(), 1, 4));
        backend.fail("memory_alloc", 0, 3, "out of memory (emulated)");
        const std::vector<int32_t> longer(8, 1);
        try {
            device.forward(longer.data(), 2, 4);
            FAIL("expected an error");
        } catch (const distill::error & e) {
            CHECK(e.code() == distill::status::out_of_memory);
            CHECK(std::string(e.what()).find("out of memory (emulated)") != std::string::npos);
        }
    }
    CHECK(backend.live_allocations() == 0);
    CHECK(backend.live_sessions() == 0);
}

TEST_CASE("lm device transformer: device_distillation_gradients is distillation_gradients "
          "(none, dense, top-k targets)") {
    emulated_cuda_backend backend;
    const auto config = make_config(23, 16, 2, 4, 2, 20, 9, false);
    const int64_t B = 2, T = 9, N = B * T, V = config.vocab, K = 4;
    const lm_device_checks::token_batch batch = lm_device_checks::random_batch(B, T, V, 31);
    const auto teacher_logits = student_test::random_values<float>(size_t(N * V), 32, -3.0, 3.0);
    std::vector<int32_t> ids(size_t(N * K));
    std::vector<float> logprobs(size_t(N * K));
    for (int64_t n = 0; n < N; ++n)
        for (int64_t k = 0; k < K; ++k) {  // distinct ids, mass 0.5 · (1 + 1/2 + 1/3 + 1/4) / 1.6 < 1
            ids[size_t(n * K + k)] = int32_t((n + 5 * k) % V);
            logprobs[size_t(n * K + k)] = std::log(0.5f / float(k + 1) / 1.6f);
        }
    for (int form = 0; form < 3; ++form) {
        CAPTURE(form);
        distill::token_teacher_targets teacher;
        if (form == 1) teacher.logits = teacher_logits.data();
        if (form == 2) {
            teacher.topk_ids = ids.data();
            teacher.topk_logprobs = logprobs.data();
            teacher.topk = K;
        }
        distill::kd_loss_options options;
        options.temperature = 2.0f;
        options.hard_weight = 0.3f;
        options.soft_weight = 0.7f;
        if (form == 2) options.tail = 1;  // BUCKET
        transformer cpu(config, 4), host(config, 4);
        std::vector<float> d_cpu, logits, d_device;
        const distill::token_loss_parts expected = distill::distillation_gradients(
            cpu, batch.tokens.data(), batch.targets.data(), B, T, teacher, options, d_cpu, 0);
        device_transformer device(backend.context(), host);
        const distill::token_loss_parts got = distill::device_distillation_gradients(
            device, batch.tokens.data(), batch.targets.data(), B, T, teacher, options, logits,
            d_device, 0);
        CHECK(got.positions == expected.positions);
        CHECK(std::fabs(got.loss - expected.loss) <= tolerance * std::fabs(expected.loss));
        CHECK(std::fabs(got.hard - expected.hard) <= tolerance * std::fabs(expected.hard));
        CHECK(std::isnan(got.soft) == std::isnan(expected.soft));
        if (!std::isnan(expected.soft))
            CHECK(std::fabs(got.soft - expected.soft) <= tolerance * std::fabs(expected.soft));
        for (const distill::parameter_info & p : host.parameter_table()) {
            INFO(p.name);
            CHECK(student_test::relative_error(lm_device_checks::slice(host.gradients(), p),
                                               lm_device_checks::slice(cpu.gradients(), p)) <
                  tolerance);
        }
    }
    transformer host(config, 4);
    device_transformer device(backend.context(), host);
    std::vector<int32_t> bad = batch.targets;
    bad[5] = int32_t(V);
    std::vector<float> a, b;
    CHECK(message_of([&] {
              distill::device_distillation_gradients(device, batch.tokens.data(), bad.data(), B,
                                                     T, {}, distill::kd_loss_options{}, a, b, 0);
          }).find("labels[5]") != std::string::npos);
}
