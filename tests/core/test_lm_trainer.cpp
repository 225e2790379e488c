// The transformer student's trainer (core/train/transformer_trainer.h):
// training lowers the loss, and a run saved after 3 steps and resumed in a
// fresh model and trainer continues with exactly the bits of an unbroken
// run; checkpoints of another model or clipping are refused.
#include <doctest/doctest.h>

#include <memory>
#include <random>
#include <vector>

#include "common/error.h"
#include "lm/transformer.h"
#include "temp_dir.h"
#include "train/transformer_file.h"
#include "train/transformer_trainer.h"

using namespace distill;

namespace {

lm::transformer_config small_config(bool tied) {
    lm::transformer_config c;
    c.vocab = 29;
    c.dim = 16;
    c.layers = 2;
    c.heads = 4;
    c.kv_heads = 2;
    c.ffn = 24;
    c.context = 12;
    c.tie_embeddings = tied;
    return c;
}

transformer_trainer_settings settings() {
    transformer_trainer_settings s;
    s.optimizer = {{"kind", "adamw"}, {"lr", 1e-2}, {"weight_decay", 0.01}};
    s.schedule = {{"kind", "warmup_cosine"}, {"warmup_steps", 2}, {"total_steps", 6},
                  {"min_lr", 1e-4}};
    s.max_grad_norm = 1.0;
    return s;
}

struct batch {
    std::vector<int32_t> tokens, targets;
};

// A repeating pattern (learnable), next-token targets, the last position none.
batch make_batch(int64_t B, int64_t T, int64_t vocab) {
    batch b;
    std::mt19937 rng(5);
    for (int64_t s = 0; s < B; ++s) {
        const int32_t start = int32_t(rng() % uint32_t(vocab));
        for (int64_t t = 0; t <= T; ++t) {
            const int32_t token = int32_t((start + 3 * t) % vocab);
            if (t < T) b.tokens.push_back(token);
            if (t > 0) b.targets.push_back(token);
        }
        b.targets.back() = lm::ignore_target;
    }
    return b;
}

}  // namespace

TEST_CASE("lm trainer: the loss falls, and a resumed run continues bit for bit") {
    for (const bool tied : {false, true}) {
        CAPTURE(tied);
        const int64_t B = 3, T = 10;
        const batch data = make_batch(B, T, 29);
        auto unbroken = std::make_shared<lm::transformer>(small_config(tied), 11);
        transformer_trainer a(unbroken, settings());
        std::vector<double> losses;
        for (int i = 0; i < 6; ++i)
            losses.push_back(a.step(data.tokens.data(), data.targets.data(), B, T).loss);
        CHECK(losses.back() < 0.9 * losses.front());

        test::temp_dir dir("distill-lm-trainer");
        auto first = std::make_shared<lm::transformer>(small_config(tied), 11);
        transformer_trainer b(first, settings());
        for (int i = 0; i < 3; ++i) b.step(data.tokens.data(), data.targets.data(), B, T);
        b.save(dir.path());
        auto fresh = std::make_shared<lm::transformer>(small_config(tied), 99);  // other weights
        transformer_trainer c(fresh, settings());
        c.resume(dir.path());
        CHECK(c.global_step() == 3);
        for (int i = 3; i < 6; ++i) {
            const transformer_step_outcome o =
                c.step(data.tokens.data(), data.targets.data(), B, T);
            CHECK(o.loss == losses[size_t(i)]);
            CHECK(o.step == i + 1);
        }
        CHECK(std::equal(fresh->parameters().begin(), fresh->parameters().end(),
                         unbroken->parameters().begin()));

        {  // a checkpoint of another model or clipping is refused
            lm::transformer_config other = small_config(tied);
            other.ffn = 20;
            transformer_trainer d(std::make_shared<lm::transformer>(other, 1), settings());
            CHECK_THROWS_WITH(d.resume(dir.path()), doctest::Contains("differs from the trainer's"));
            transformer_trainer_settings unclipped = settings();
            unclipped.max_grad_norm = 0.0;
            transformer_trainer e(std::make_shared<lm::transformer>(small_config(tied), 1),
                                  unclipped);
            CHECK_THROWS_WITH(e.resume(dir.path()), doctest::Contains("max_grad_norm 1"));
            CHECK(e.global_step() == 0);
        }
    }
}

TEST_CASE("lm trainer: bad settings and batches are refused") {
    auto model = std::make_shared<lm::transformer>(small_config(false), 1);
    CHECK_THROWS_WITH(transformer_trainer(nullptr, settings()),
                      "model: expected a transformer, got NULL");
    transformer_trainer_settings bad = settings();
    bad.max_grad_norm = -1;
    CHECK_THROWS_WITH(transformer_trainer(model, bad), doctest::Contains("max_grad_norm"));
    transformer_trainer trainer(model, settings());
    const batch data = make_batch(1, 13, 29);  // longer than the context of 12
    CHECK_THROWS_WITH(trainer.step(data.tokens.data(), data.targets.data(), 1, 13),
                      doctest::Contains("expected at most the model's context (12 positions)"));
    CHECK(trainer.global_step() == 0);
}

TEST_CASE("lm weights file: a save loads back as the same model; bad files are refused") {
    test::temp_dir dir("distill-lm-weights");
    const lm::transformer model(small_config(true), 4);
    save_transformer_weights(dir.file("w.safetensors"), model);
    const auto loaded = load_transformer_weights(dir.file("w.safetensors"));
    CHECK(loaded->config() == model.config());
    CHECK(std::equal(loaded->parameters().begin(), loaded->parameters().end(),
                     model.parameters().begin()));
    // The file read with another config: the tensors do not fit it.
    lm::transformer_config other = small_config(true);
    other.ffn = 20;
    CHECK_THROWS_WITH(load_transformer_weights(dir.file("w.safetensors"), &other),
                      doctest::Contains("tensor 'model.layers.0.mlp.gate_proj.weight': expected "
                                        "shape [20,16], got [24,16]"));
    // Untied: lm_head.weight is a parameter, and this file lacks it.
    const lm::transformer_config untied = small_config(false);
    CHECK_THROWS_WITH(load_transformer_weights(dir.file("w.safetensors"), &untied),
                      doctest::Contains("tensor 'lm_head.weight' is missing"));
}
