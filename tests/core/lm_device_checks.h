// Checks of the device transformer (core/lm/device_transformer.h) against
// the CPU model, on whatever backend a context names: the emulated one
// (test_lm_device_transformer.cpp, every machine) or the real CUDA backend
// (test_cuda_lm.cpp, on a GPU). Two models of the same config and seed, one
// run on the CPU and one through the device; logits, loss and every
// parameter's gradient compared tensor by tensor as max |a − b| / max |b|.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/context.h"
#include "lm/cross_entropy.h"
#include "lm/device_transformer.h"
#include "lm/transformer.h"
#include "test_student_support.h"
#include "train/lr_schedule.h"
#include "train/optimizer.h"
#include "train/optimizer_config.h"
#include "train/transformer_trainer.h"

namespace lm_device_checks {

using distill::lm::transformer_config;

inline transformer_config make_config(int64_t vocab, int64_t dim, int64_t layers, int64_t heads,
                                      int64_t kv_heads, int64_t ffn, int64_t context, bool tied) {
    transformer_config c;
    c.vocab = vocab;
    c.dim = dim;
    c.layers = layers;
    c.heads = heads;
    c.kv_heads = kv_heads;
    c.ffn = ffn;
    c.context = context;
    c.tie_embeddings = tied;
    return c;
}

struct token_batch {
    std::vector<int32_t> tokens, targets;
};

// Random ids, next-token targets with a few −100 (every 7th, and the last
// position of each sequence).
inline token_batch random_batch(int64_t B, int64_t T, int64_t vocab, uint32_t seed) {
    std::mt19937 rng(seed);
    token_batch b;
    for (int64_t s = 0; s < B; ++s) {
        std::vector<int32_t> row(size_t(T + 1));
        for (int32_t & id : row) id = int32_t(rng() % uint32_t(vocab));
        for (int64_t t = 0; t < T; ++t) {
            b.tokens.push_back(row[size_t(t)]);
            b.targets.push_back((t + 1) % 7 == 0 || t == T - 1 ? distill::lm::ignore_target
                                                               : row[size_t(t + 1)]);
        }
    }
    return b;
}

inline std::vector<float> slice(std::span<const float> all, const distill::parameter_info & p) {
    return std::vector<float>(all.begin() + p.offset, all.begin() + p.offset + p.count);
}

// The largest difference of one tensor's gradients, relative to the larger
// of that tensor's largest reference value and 1e-3 of the whole model's: a
// tensor whose true gradient is zero (q and k when T = 1: a softmax over one
// key has no gradient) holds only rounding noise on both sides, which a
// plain relative error would call a 100 % miss.
inline double gradient_error(const std::vector<float> & a, const std::vector<float> & b,
                             std::span<const float> whole_reference) {
    double whole = 0;
    for (const float v : whole_reference) whole = std::max(whole, std::fabs(double(v)));
    double worst = 0, scale = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
        scale = std::max(scale, std::fabs(double(b[i])));
    }
    const double floor = std::max(scale, 1e-3 * whole);
    return floor > 0 ? worst / floor : worst;
}

// The logits of a forward, the loss and gradients of train_step, and the
// gradients of a backward from random d_logits: the device against the CPU,
// each relative error under `tolerance`. A larger batch runs first on the
// device, so the buffers are reused at this one.
inline void check_against_cpu(const distill::context & ctx, const transformer_config & config,
                              int64_t B, int64_t T, double tolerance) {
    using distill::lm::transformer;
    INFO("vocab ", config.vocab, ", dim ", config.dim, ", layers ", config.layers, ", heads ",
         config.heads, "/", config.kv_heads, ", ffn ", config.ffn, ", tied ",
         config.tie_embeddings, "; B ", B, ", T ", T);
    transformer cpu(config, 21), host(config, 21);
    const token_batch batch = random_batch(B, T, config.vocab, 5);
    const std::span<const float> cpu_logits_span = cpu.forward(batch.tokens.data(), B, T);
    const std::vector<float> cpu_logits(cpu_logits_span.begin(), cpu_logits_span.end());
    const double cpu_loss = cpu.train_step(batch.tokens.data(), batch.targets.data(), B, T);
    const std::vector<float> cpu_gradients(cpu.gradients().begin(), cpu.gradients().end());
    const auto d_logits =
        student_test::random_values<float>(size_t(B * T * config.vocab), 9, -1e-2, 1e-2);
    cpu.forward(batch.tokens.data(), B, T);
    cpu.backward(d_logits.data());
    const std::vector<float> cpu_backward(cpu.gradients().begin(), cpu.gradients().end());

    distill::lm::device_transformer device(ctx, host);
    device.upload_parameters();
    const token_batch bigger = random_batch(B + 1, T, config.vocab, 6);
    device.forward(bigger.tokens.data(), B + 1, T);
    device.forward(batch.tokens.data(), B, T);
    std::vector<float> logits(cpu_logits.size());
    device.download_logits(logits.data());
    CHECK(student_test::relative_error(logits, cpu_logits) < tolerance);

    const double loss = device.train_step(batch.tokens.data(), batch.targets.data(), B, T);
    INFO("loss: cpu ", cpu_loss, ", device ", loss);
    CHECK(std::fabs(loss - cpu_loss) <= tolerance * std::fabs(cpu_loss));
    for (const distill::parameter_info & p : host.parameter_table()) {
        INFO("train_step gradient of ", p.name);
        CHECK(gradient_error(slice(host.gradients(), p), slice(cpu_gradients, p), cpu_gradients) <
              tolerance);
    }
    device.forward(batch.tokens.data(), B, T);
    device.backward_from_host(d_logits.data());
    for (const distill::parameter_info & p : host.parameter_table()) {
        INFO("backward gradient of ", p.name);
        CHECK(gradient_error(slice(host.gradients(), p), slice(cpu_backward, p), cpu_backward) <
              tolerance);
    }
}

// Two train_steps of the same batch give the same loss and gradients, bit
// for bit (no atomics, fixed summation orders).
inline void check_repeatable(const distill::context & ctx, const transformer_config & config,
                             int64_t B, int64_t T) {
    distill::lm::transformer host(config, 8);
    distill::lm::device_transformer device(ctx, host);
    const token_batch batch = random_batch(B, T, config.vocab, 12);
    const double first = device.train_step(batch.tokens.data(), batch.targets.data(), B, T);
    const std::vector<float> gradients(host.gradients().begin(), host.gradients().end());
    const double second = device.train_step(batch.tokens.data(), batch.targets.data(), B, T);
    CHECK(first == second);
    CHECK(std::equal(gradients.begin(), gradients.end(), host.gradients().begin()));
}

// ‖a − b‖ / ‖b‖ (over all entries): a handful of entries that moved apart
// does not hide behind one large value, nor decide the result alone.
inline double l2_relative_error(const std::vector<float> & a, const std::vector<float> & b) {
    double difference = 0, norm = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        difference += (double(a[i]) - double(b[i])) * (double(a[i]) - double(b[i]));
        norm += double(b[i]) * double(b[i]);
    }
    return norm > 0 ? std::sqrt(difference / norm) : std::sqrt(difference);
}

inline distill::transformer_trainer_settings training_settings() {
    distill::transformer_trainer_settings s;
    // eps 1e-6 rather than 1e-8: AdamW's first steps move each parameter by
    // about lr · sign(gradient), so a gradient entry near 0 whose sign
    // differs in the last bits between the two runs would move apart by
    // 2 · lr; a larger eps damps such entries on both sides alike.
    s.optimizer = {{"kind", "adamw"}, {"lr", 1e-2}, {"weight_decay", 0.01}, {"eps", 1e-6}};
    s.schedule = {{"kind", "warmup_cosine"}, {"warmup_steps", 2}, {"total_steps", 8},
                  {"min_lr", 1e-4}};
    s.max_grad_norm = 1.0;
    return s;
}

// `steps` AdamW steps: the CPU trainer (train/transformer_trainer.h)
// against the device's train_step with the same optimizer, schedule and
// clipping on the host (what a trainer on a CUDA context does); the
// losses step by step and the final parameters (l2_relative_error) within
// `tolerance`, and the loss falls.
inline void check_training_curve(const distill::context & ctx, const transformer_config & config,
                                 int64_t B, int64_t T, int steps, double tolerance) {
    using distill::lm::transformer;
    const distill::transformer_trainer_settings settings = training_settings();
    auto cpu_model = std::make_shared<transformer>(config, 3);
    distill::transformer_trainer trainer(cpu_model, settings);
    transformer host(config, 3);
    distill::optimizer opt(distill::optimizer_config_from_json(settings.optimizer),
                           host.parameter_count());
    const distill::lr_schedule_config schedule =
        distill::lr_schedule_config_from_json(settings.schedule);
    distill::lm::device_transformer device(ctx, host);
    // A repeating pattern (learnable) so that the loss falls.
    token_batch batch;
    for (int64_t s = 0; s < B; ++s)
        for (int64_t t = 0; t < T; ++t) {
            batch.tokens.push_back(int32_t((5 * s + 3 * t) % config.vocab));
            batch.targets.push_back(t == T - 1 ? distill::lm::ignore_target
                                               : int32_t((5 * s + 3 * (t + 1)) % config.vocab));
        }
    double first = 0, last = 0;
    for (int step = 0; step < steps; ++step) {
        const double cpu_loss =
            trainer.step(batch.tokens.data(), batch.targets.data(), B, T).loss;
        const double loss = device.train_step(batch.tokens.data(), batch.targets.data(), B, T);
        distill::clipped_update(opt, schedule, host.parameters(), host.gradients(),
                                settings.max_grad_norm, step, 0);
        INFO("step ", step + 1, ": cpu loss ", cpu_loss, ", device loss ", loss);
        CHECK(std::fabs(loss - cpu_loss) <= tolerance * std::fabs(cpu_loss));
        if (step == 0) first = loss;
        last = loss;
    }
    CHECK(last < first);
    const std::vector<float> cpu_parameters(cpu_model->parameters().begin(),
                                            cpu_model->parameters().end());
    const std::vector<float> parameters(host.parameters().begin(), host.parameters().end());
    CHECK(l2_relative_error(parameters, cpu_parameters) < tolerance);
}

}  // namespace lm_device_checks
