// Token-level distillation of the transformer student
// (core/train/token_distillation.h, transformer_trainer's step with teacher
// targets): masked prompt positions contribute exactly nothing, a step
// without targets is the next-token step bit for bit, 20 steps distilled
// from a bigger teacher's dense logits bring the student's KL to it down,
// and a teacher of another vocabulary or malformed targets are refused by
// name; a distilling run resumes bit for bit, and not under other loss
// options. (The loss and gradients against PyTorch:
// test_lm_token_distill_reference.cpp.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "lm/transformer.h"
#include "temp_dir.h"
#include "train/token_distillation.h"
#include "train/transformer_trainer.h"

using namespace distill;

namespace {

lm::transformer_config student_config(int64_t vocab = 29) {
    lm::transformer_config c;
    c.vocab = vocab;
    c.dim = 16;
    c.layers = 2;
    c.heads = 4;
    c.kv_heads = 2;
    c.ffn = 24;
    c.context = 12;
    return c;
}

lm::transformer_config teacher_config(int64_t vocab = 29) {
    lm::transformer_config c = student_config(vocab);
    c.dim = 48;
    c.layers = 3;
    c.heads = 6;
    c.kv_heads = 3;
    c.ffn = 96;
    return c;
}

struct token_batch {
    int64_t B = 0, T = 0;
    std::vector<int32_t> tokens, labels;
};

// A learnable pattern; labels the next token, −100 at each sequence's
// prompt (prompts[b] positions) and at the last position.
token_batch make_batch(int64_t vocab, std::vector<int64_t> prompts, int64_t T, uint32_t seed) {
    token_batch b;
    b.B = int64_t(prompts.size());
    b.T = T;
    std::mt19937 rng(seed);
    for (int64_t s = 0; s < b.B; ++s) {
        const int32_t start = int32_t(rng() % uint32_t(vocab));
        for (int64_t t = 0; t <= T; ++t) {
            const int32_t token = int32_t((start + 3 * t + (t % 2)) % vocab);
            if (t < T) b.tokens.push_back(token);
            if (t > 0) b.labels.push_back(t - 1 < prompts[size_t(s)] ? lm::ignore_target : token);
        }
        b.labels.back() = lm::ignore_target;
    }
    return b;
}

std::vector<float> random_values(size_t n, float scale, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, scale);
    std::vector<float> v(n);
    for (float & x : v) x = normal(rng);
    return v;
}

// Top-k targets [N, K]: distinct ids, log-probabilities of mass < 1,
// sorted; every third row has an empty slot at its end.
void random_topk(int64_t N, int64_t K, int64_t V, uint32_t seed, std::vector<int32_t> & ids,
                 std::vector<float> & logprobs) {
    std::mt19937 rng(seed);
    ids.assign(size_t(N * K), -1);
    logprobs.assign(size_t(N * K), -INFINITY);
    for (int64_t n = 0; n < N; ++n) {
        std::vector<int32_t> all(static_cast<size_t>(V));
        for (int32_t v = 0; v < V; ++v) all[size_t(v)] = v;
        std::shuffle(all.begin(), all.end(), rng);
        const int64_t filled = n % 3 == 0 ? K - 1 : K;
        for (int64_t k = 0; k < filled; ++k) {
            ids[size_t(n * K + k)] = all[size_t(k)];
            logprobs[size_t(n * K + k)] = std::log(0.5f / float(k + 1) / 1.6f);
        }
    }
}

std::string refusal(const std::function<void()> & f) {
    try {
        f();
    } catch (const distill::error & e) {
        CHECK(e.code() == status::invalid_argument);
        return e.what();
    }
    FAIL("expected a distill::error");
    return {};
}

}  // namespace

TEST_CASE("lm token distillation: masked prompt positions contribute nothing") {
    const token_batch data = make_batch(29, {3, 0, 5}, 10, 3);
    const int64_t N = data.B * data.T, V = 29, K = 5;
    lm::transformer model(student_config(), 4);

    for (const bool dense : {true, false}) {
        CAPTURE(dense);
        kd_loss_options options;
        options.temperature = 1.7f;
        options.hard_weight = 0.4f;
        options.divergence = dense ? 2 : 0;  // JSD, forward KL
        options.tail = 1;                    // BUCKET
        std::vector<float> logits = random_values(size_t(N * V), 2.0f, 9);
        std::vector<int32_t> ids;
        std::vector<float> logprobs;
        random_topk(N, K, V, 11, ids, logprobs);
        const auto targets = [&] {
            token_teacher_targets t;
            if (dense) {
                t.logits = logits.data();
            } else {
                t.topk_ids = ids.data();
                t.topk_logprobs = logprobs.data();
                t.topk = K;
            }
            return t;
        };
        std::vector<float> d_first;
        const token_loss_parts first = distillation_gradients(
            model, data.tokens.data(), data.labels.data(), data.B, data.T, targets(), options,
            d_first, 0);
        const std::vector<float> gradients(model.gradients().begin(), model.gradients().end());
        int64_t masked = 0;
        for (int64_t n = 0; n < N; ++n) {
            if (data.labels[size_t(n)] != lm::ignore_target) continue;
            ++masked;
            bool zero = true;
            for (int64_t v = 0; v < V; ++v) zero = zero && d_first[size_t(n * V + v)] == 0.0f;
            CAPTURE(n);
            CHECK(zero);
            // Other targets at the masked row: other logits, other ids.
            for (int64_t v = 0; v < V; ++v) logits[size_t(n * V + v)] = 40.0f * float((v * 7) % 5);
            for (int64_t k = 0; k < K; ++k) {
                ids[size_t(n * K + k)] = int32_t((n + 4 * k) % V);
                logprobs[size_t(n * K + k)] = -3.0f - float(k);
            }
        }
        CHECK(masked == 3 + 5 + 3);  // prompts, and each sequence's last position
        CHECK(first.positions == N - masked);
        std::vector<float> d_second;
        const token_loss_parts second = distillation_gradients(
            model, data.tokens.data(), data.labels.data(), data.B, data.T, targets(), options,
            d_second, 0);
        CHECK(second.loss == first.loss);
        CHECK(second.soft == first.soft);
        CHECK(d_second == d_first);
        CHECK(std::equal(gradients.begin(), gradients.end(), model.gradients().begin()));

        // A row that counts does change them.
        const int64_t row = 6;
        REQUIRE(data.labels[size_t(row)] != lm::ignore_target);
        for (int64_t v = 0; v < V; ++v) logits[size_t(row * V + v)] += float(v % 3);
        logprobs[size_t(row * K)] -= 1.0f;
        const token_loss_parts third = distillation_gradients(
            model, data.tokens.data(), data.labels.data(), data.B, data.T, targets(), options,
            d_second, 0);
        CHECK(third.soft != first.soft);
    }
}

TEST_CASE("lm token distillation: without teacher targets a step is the next-token step") {
    const token_batch data = make_batch(29, {2, 4}, 9, 8);
    lm::transformer a(student_config(), 5), b(student_config(), 5);
    const double loss = a.train_step(data.tokens.data(), data.labels.data(), data.B, data.T);
    std::vector<float> d_logits;
    const token_loss_parts parts = distillation_gradients(
        b, data.tokens.data(), data.labels.data(), data.B, data.T, {}, kd_loss_options{}, d_logits, 0);
    CHECK(parts.loss == loss);
    CHECK(parts.hard == loss);
    CHECK(std::isnan(parts.soft));
    CHECK(std::equal(a.gradients().begin(), a.gradients().end(), b.gradients().begin()));
}

TEST_CASE("lm token distillation: 20 steps from a bigger teacher's logits lower the KL to it") {
    const int64_t V = 29;
    const token_batch data = make_batch(V, {2, 3, 1, 4}, 10, 21);
    // A teacher that has learned the pattern a little (sharper than its
    // initialisation, far from the student's).
    auto teacher = std::make_shared<lm::transformer>(teacher_config(), 17);
    transformer_trainer_settings teacher_settings;
    teacher_settings.optimizer = {{"kind", "adamw"}, {"lr", 3e-3}};
    transformer_trainer teach(teacher, teacher_settings);
    for (int i = 0; i < 15; ++i) teach.step(data.tokens.data(), data.labels.data(), data.B, data.T);

    auto student = std::make_shared<lm::transformer>(student_config(), 3);
    std::vector<float> targets;
    teacher_logits(*teacher, student->config(), data.tokens.data(), data.B, data.T, targets);
    REQUIRE(int64_t(targets.size()) == data.B * data.T * V);
    transformer_trainer_settings settings;
    settings.optimizer = {{"kind", "adamw"}, {"lr", 1e-2}, {"weight_decay", 0.0}};
    settings.max_grad_norm = 1.0;
    settings.loss.divergence = 0;  // forward KL(teacher ‖ student)
    transformer_trainer trainer(student, settings);
    token_teacher_targets dense;
    dense.logits = targets.data();
    std::vector<double> kl;
    for (int i = 0; i < 20; ++i) {
        const transformer_step_outcome out =
            trainer.step(data.tokens.data(), data.labels.data(), data.B, data.T, dense);
        CHECK(out.step == i + 1);
        CHECK(out.loss == out.soft_loss);  // soft_weight 1, T = 1, hard_weight 0
        CHECK(std::isfinite(out.hard_loss));
        CHECK(out.positions == 4 * 10 - (2 + 3 + 1 + 4) - 4);
        kl.push_back(out.soft_loss);
    }
    std::vector<float> d_logits;
    const token_loss_parts after = distillation_gradients(
        *student, data.tokens.data(), data.labels.data(), data.B, data.T, dense, settings.loss,
        d_logits, 0);
    MESSAGE("KL(teacher ‖ student): " << kl.front() << " at step 1, " << kl.back()
                                      << " at step 20, " << after.soft << " after it");
    CHECK(kl.front() > 0.05);
    CHECK(after.soft < 0.25 * kl.front());
    for (size_t i = 5; i < kl.size(); ++i) CHECK(kl[i] < kl[i - 5]);
}

TEST_CASE("lm token distillation: a teacher of another vocabulary is refused before training") {
    lm::transformer teacher(teacher_config(31), 1);
    const lm::transformer_config student = student_config(29);
    const std::vector<int32_t> tokens(8, 1);
    std::vector<float> out;
    const std::string message =
        refusal([&] { teacher_logits(teacher, student, tokens.data(), 2, 4, out); });
    CHECK(message.find("31") != std::string::npos);
    CHECK(message.find("29") != std::string::npos);
    CHECK(message.find("vocabulary") != std::string::npos);
    CHECK(out.empty());
    CHECK_NOTHROW(require_same_vocabulary(teacher_config(29), student));
}

TEST_CASE("lm token distillation: malformed targets and loss options are refused by name") {
    const token_batch data = make_batch(29, {1, 1}, 6, 2);
    const int64_t N = data.B * data.T, V = 29;
    lm::transformer model(student_config(), 2);
    std::vector<float> d;
    const std::vector<float> logits = random_values(size_t(N * V), 1.0f, 1);
    std::vector<int32_t> ids(size_t(N * 2));
    std::vector<float> logprobs(size_t(N * 2), -1.0f);
    for (int64_t n = 0; n < N; ++n) {
        ids[size_t(2 * n)] = 0;
        ids[size_t(2 * n + 1)] = 1;
    }
    const auto run = [&](const token_teacher_targets & t, const kd_loss_options & o) {
        distillation_gradients(model, data.tokens.data(), data.labels.data(), data.B, data.T, t, o,
                               d, 0);
    };
    token_teacher_targets both;
    both.logits = logits.data();
    both.topk_ids = ids.data();
    both.topk_logprobs = logprobs.data();
    both.topk = 2;
    CHECK(refusal([&] { run(both, {}); }).find("got both") != std::string::npos);
    token_teacher_targets topk = both;
    topk.logits = nullptr;
    topk.topk_logprobs = nullptr;
    CHECK(refusal([&] { run(topk, {}); }).find("log-probabilities null") != std::string::npos);
    topk.topk_logprobs = logprobs.data();
    ids[5] = -2;
    CHECK(refusal([&] { run(topk, {}); }).find("ids[2, 1]") != std::string::npos);
    ids[5] = 29;
    CHECK(refusal([&] { run(topk, {}); }).find("got 29") != std::string::npos);
    ids[5] = 0;  // repeated in its row
    CHECK_THROWS_AS(run(topk, {}), distill::error);
    ids[5] = 1;
    kd_loss_options sum;
    sum.reduction = 1;
    CHECK(refusal([&] { run(topk, sum); }).find("loss.reduction") != std::string::npos);
    transformer_trainer_settings settings;
    settings.loss.soft_weight = 0.0f;
    CHECK(refusal([&] {
              transformer_trainer(std::make_shared<lm::transformer>(student_config(), 1), settings);
          }).find("not both 0") != std::string::npos);
    std::vector<int32_t> bad_labels = data.labels;
    bad_labels[2] = 40;
    CHECK(refusal([&] {
              distillation_gradients(model, data.tokens.data(), bad_labels.data(), data.B, data.T,
                                     topk, {}, d, 0);
          }).find("labels[2]") != std::string::npos);
}

TEST_CASE("lm token distillation: a run resumes bit for bit, not under other loss options") {
    const int64_t V = 29, K = 4;
    const token_batch data = make_batch(V, {2, 1, 3}, 9, 6);
    std::vector<int32_t> ids;
    std::vector<float> logprobs;
    random_topk(data.B * data.T, K, V, 4, ids, logprobs);
    token_teacher_targets topk;
    topk.topk_ids = ids.data();
    topk.topk_logprobs = logprobs.data();
    topk.topk = K;
    transformer_trainer_settings settings;
    settings.optimizer = {{"kind", "adamw"}, {"lr", 1e-2}};
    settings.loss.divergence = 1;  // reverse KL
    settings.loss.tail = 1;        // BUCKET
    settings.loss.temperature = 1.5f;
    settings.loss.hard_weight = 0.5f;
    const auto run = [&](transformer_trainer & t) {
        return t.step(data.tokens.data(), data.labels.data(), data.B, data.T, topk);
    };
    auto unbroken = std::make_shared<lm::transformer>(student_config(), 8);
    transformer_trainer a(unbroken, settings);
    std::vector<double> losses;
    for (int i = 0; i < 4; ++i) losses.push_back(run(a).loss);

    test::temp_dir dir("distill-lm-token-distillation");
    transformer_trainer b(std::make_shared<lm::transformer>(student_config(), 8), settings);
    for (int i = 0; i < 2; ++i) run(b);
    b.save(dir.path());
    auto fresh = std::make_shared<lm::transformer>(student_config(), 77);
    transformer_trainer c(fresh, settings);
    c.resume(dir.path());
    for (int i = 2; i < 4; ++i) CHECK(run(c).loss == losses[size_t(i)]);
    CHECK(std::equal(fresh->parameters().begin(), fresh->parameters().end(),
                     unbroken->parameters().begin()));

    transformer_trainer_settings other = settings;
    other.loss.divergence = 0;
    transformer_trainer d(std::make_shared<lm::transformer>(student_config(), 8), other);
    const std::string message = refusal([&] { d.resume(dir.path()); });
    CHECK(message.find("divergence = 1 there, 0 here") != std::string::npos);
    CHECK(d.global_step() == 0);
}
