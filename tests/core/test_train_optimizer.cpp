// The optimizers against fp64 references written here from the papers'
// formulas (Loshchilov & Hutter for AdamW, PyTorch's documented SGD), state
// save/restore, thread-count independence, and gradient clipping.
#include <doctest/doctest.h>

#include "train/optimizer.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace {

using distill::adamw_config;
using distill::optimizer;
using distill::sgd_config;

// Gradients of step t: mixed signs and magnitudes from 1e-4 to 3.
std::vector<float> gradients_at(int t, size_t count) {
    std::vector<float> g(count);
    for (size_t i = 0; i < count; ++i)
        g[i] =
            float(std::sin(0.37 * double(i) + 1.3 * t) * std::pow(10.0, double(i % 5) - 4.0) * 3.0);
    return g;
}

std::vector<float> initial_parameters(size_t count) {
    std::vector<float> p(count);
    for (size_t i = 0; i < count; ++i) p[i] = float(std::cos(0.11 * double(i)) * 1.5);
    return p;
}

struct adamw_reference {
    adamw_config c;
    std::vector<double> p, m, v;
    int t = 0;
    void step(const std::vector<float> & g, double lr) {
        ++t;
        for (size_t i = 0; i < p.size(); ++i) {
            p[i] -= lr * c.weight_decay * p[i];
            m[i] = c.beta1 * m[i] + (1 - c.beta1) * g[i];
            v[i] = c.beta2 * v[i] + (1 - c.beta2) * double(g[i]) * g[i];
            const double m_hat = m[i] / (1 - std::pow(c.beta1, t));
            const double v_hat = v[i] / (1 - std::pow(c.beta2, t));
            p[i] -= lr * m_hat / (std::sqrt(v_hat) + c.eps);
        }
    }
};

struct sgd_reference {
    sgd_config c;
    std::vector<double> p, buf;
    int t = 0;
    void step(const std::vector<float> & grad, double lr) {
        ++t;
        for (size_t i = 0; i < p.size(); ++i) {
            double g = grad[i] + c.weight_decay * p[i];
            if (c.momentum != 0) {
                buf[i] = t == 1 ? g : c.momentum * buf[i] + g;
                g = c.nesterov ? g + c.momentum * buf[i] : buf[i];
            }
            p[i] -= lr * g;
        }
    }
};

const float * state_of(const optimizer & opt, const char * name) {
    for (const auto & buffer : opt.state())
        if (buffer.name == name) return buffer.values.data();
    FAIL("no state buffer " << name);
    return nullptr;
}

}  // namespace

TEST_CASE("AdamW follows the fp64 reference over ten steps with a changing learning rate") {
    const size_t n = 257;
    adamw_config config;
    config.lr = 3e-3;
    config.weight_decay = 0.05;
    config.beta1 = 0.8;
    config.beta2 = 0.99;
    optimizer opt(config, int64_t(n));
    std::vector<float> p = initial_parameters(n);
    adamw_reference ref{config, std::vector<double>(p.begin(), p.end()), std::vector<double>(n),
                        std::vector<double>(n)};
    for (int t = 0; t < 10; ++t) {
        const std::vector<float> g = gradients_at(t, n);
        const double lr = config.lr * (1.0 - 0.05 * t);
        opt.step(p, g, lr);
        ref.step(g, lr);
    }
    CHECK(opt.step_count() == 10);
    double worst_p = 0, worst_m = 0, worst_v = 0;
    for (size_t i = 0; i < n; ++i) {
        worst_p = std::max(worst_p, std::abs(p[i] - ref.p[i]));
        worst_m = std::max(worst_m, std::abs(state_of(opt, "exp_avg")[i] - ref.m[i]) /
                                        (std::abs(ref.m[i]) + 1e-30));
        worst_v = std::max(worst_v, std::abs(state_of(opt, "exp_avg_sq")[i] - ref.v[i]) /
                                        (std::abs(ref.v[i]) + 1e-30));
    }
    // fp32 rounding of |p| ≈ 1.5 is 1.2e-7 per operation; a wrong bias
    // correction or decay would be off by ~1e-3.
    CHECK(worst_p < 2e-6);
    CHECK(worst_m < 1e-5);
    CHECK(worst_v < 1e-5);
}

TEST_CASE("AdamW's first step moves each parameter by lr against the gradient's sign") {
    // t = 1: m̂ = g and v̂ = g², so the update is lr · g / (|g| + eps) after
    // the decay p · (1 − lr · wd): worked by hand for two parameters.
    adamw_config config;
    config.lr = 0.1;
    config.weight_decay = 0.5;
    config.eps = 0.0;
    optimizer opt(config, 2);
    std::vector<float> p = {2.0f, -1.0f};
    const std::vector<float> g = {0.25f, -4.0f};
    opt.step(p, g, config.lr);
    CHECK(p[0] == doctest::Approx(2.0 * 0.95 - 0.1).epsilon(1e-6));   // 1.8
    CHECK(p[1] == doctest::Approx(-1.0 * 0.95 + 0.1).epsilon(1e-6));  // −0.85
}

TEST_CASE("SGD with momentum, nesterov and weight decay follows the fp64 reference") {
    const size_t n = 101;
    for (bool nesterov : {false, true}) {
        for (double momentum : {0.0, 0.9}) {
            if (nesterov && momentum == 0.0) continue;
            CAPTURE(nesterov);
            CAPTURE(momentum);
            sgd_config config{0.05, momentum, nesterov, 1e-2};
            optimizer opt(config, int64_t(n));
            CHECK(opt.state().size() == (momentum != 0.0 ? 1u : 0u));
            std::vector<float> p = initial_parameters(n);
            sgd_reference ref{config, std::vector<double>(p.begin(), p.end()),
                              std::vector<double>(n)};
            for (int t = 0; t < 8; ++t) {
                const std::vector<float> g = gradients_at(t, n);
                opt.step(p, g, config.lr);
                ref.step(g, config.lr);
            }
            double worst = 0;
            for (size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(p[i] - ref.p[i]));
            CHECK(worst < 2e-6);
        }
    }
}

TEST_CASE("SGD's first momentum step equals plain SGD, the second uses the buffer") {
    optimizer opt(sgd_config{0.5, 0.9, false, 0.0}, 1);
    std::vector<float> p = {1.0f};
    const std::vector<float> g = {2.0f};
    opt.step(p, g, 0.5);
    CHECK(p[0] == 0.0f);  // 1 − 0.5 · 2
    opt.step(p, g, 0.5);
    CHECK(p[0] == doctest::Approx(-1.9));  // buf = 0.9 · 2 + 2 = 3.8
}

TEST_CASE("optimizer updates are bit-identical for any thread count") {
    const size_t n = 40000;  // three chunks of work
    for (const distill::optimizer_config & config :
         {distill::optimizer_config{adamw_config{}},
          distill::optimizer_config{sgd_config{0.1, 0.9, true, 1e-3}}}) {
        std::vector<std::vector<float>> results;
        for (int threads : {1, 2, 3}) {
            optimizer opt(config, int64_t(n));
            std::vector<float> p = initial_parameters(n);
            for (int t = 0; t < 3; ++t) opt.step(p, gradients_at(t, n), 1e-2, threads);
            results.push_back(p);
        }
        CHECK(std::memcmp(results[0].data(), results[1].data(), n * sizeof(float)) == 0);
        CHECK(std::memcmp(results[0].data(), results[2].data(), n * sizeof(float)) == 0);
    }
}

TEST_CASE("restored optimizer state continues bit-exactly") {
    const size_t n = 64;
    const adamw_config config{};
    optimizer straight(config, int64_t(n));
    optimizer first_half(config, int64_t(n));
    std::vector<float> p_straight = initial_parameters(n);
    std::vector<float> p_resumed = initial_parameters(n);
    for (int t = 0; t < 5; ++t) straight.step(p_straight, gradients_at(t, n), 1e-2);
    for (int t = 0; t < 3; ++t) first_half.step(p_resumed, gradients_at(t, n), 1e-2);

    optimizer resumed(config, int64_t(n));
    resumed.set_step_count(first_half.step_count());
    for (const auto & buffer : first_half.state()) resumed.set_state(buffer.name, buffer.values);
    for (int t = 3; t < 5; ++t) resumed.step(p_resumed, gradients_at(t, n), 1e-2);
    CHECK(std::memcmp(p_straight.data(), p_resumed.data(), n * sizeof(float)) == 0);
    CHECK(resumed.step_count() == 5);
}

TEST_CASE("optimizer refuses mismatched sizes and unknown state") {
    optimizer opt(adamw_config{}, 4);
    std::vector<float> p(4), g(3);
    CHECK_THROWS_WITH(opt.step(p, g, 1e-3), "gradients: expected 4 values, got 3");
    g.resize(4);
    CHECK_THROWS_WITH(opt.step(p, g, -1.0), "lr: expected a finite value >= 0, got -1.0");
    CHECK_THROWS_WITH(opt.set_state("momentum_buffer", p),
                      "optimizer state: expected one of [exp_avg, exp_avg_sq], got "
                      "'momentum_buffer'");
    CHECK_THROWS_WITH(opt.set_state("exp_avg", std::span<const float>(g).first(2)),
                      "optimizer state 'exp_avg': expected 4 values, got 2");
    CHECK_THROWS_WITH(optimizer(sgd_config{0.1, 0.0, true, 0.0}, 4),
                      "optimizer.nesterov: expected momentum > 0 with nesterov = true, got "
                      "momentum 0.0");
}

TEST_CASE("clip_grad_norm scales by max_norm / (norm + 1e-6) only when that is below 1") {
    // 3-4-12 gives a norm of exactly 13.
    std::vector<float> g = {3.0f, -4.0f, 12.0f};
    CHECK(distill::global_grad_norm(g) == 13.0);
    CHECK(distill::clip_grad_norm(g, 26.0) == 13.0);
    CHECK(g == std::vector<float>{3.0f, -4.0f, 12.0f});
    CHECK(distill::clip_grad_norm(g, 13.0) == 13.0);  // coef = 13/(13 + 1e-6) < 1
    CHECK(g[0] == float(3.0 * (13.0 / (13.0 + 1e-6))));
    CHECK(distill::clip_grad_norm(g, 1.0) == doctest::Approx(13.0));
    CHECK(distill::global_grad_norm(g) == doctest::Approx(1.0).epsilon(1e-6));

    // fp64 accumulation: 1e6 values of 1e-3, whose squares an fp32 running
    // sum loses (off by ~1e-3 relative); the exact norm is 1e3 · 1e-3f.
    std::vector<float> many(1000000, 1e-3f);
    const double exact = 1e3 * double(1e-3f);
    float fp32_sum = 0.0f;
    for (float x : many) fp32_sum += x * x;
    CHECK(std::abs(std::sqrt(double(fp32_sum)) - exact) > 1e-5 * exact);
    CHECK(distill::global_grad_norm(many, 1) == doctest::Approx(exact).epsilon(1e-12));
    CHECK(distill::global_grad_norm(many, 1) == distill::global_grad_norm(many, 2));

    std::vector<float> bad = {1.0f, std::nanf("")};
    CHECK(std::isnan(distill::clip_grad_norm(bad, 1.0)));
    CHECK(bad[0] == 1.0f);
    CHECK_THROWS_WITH(distill::clip_grad_norm(g, 0.0),
                      "max_norm: expected a finite value > 0, got 0.0");
}
