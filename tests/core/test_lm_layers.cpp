// The transformer student's layers (core/lm) in fp64: each backward against
// central finite differences of L = Σ out · r, each forward against a
// plain loop; then the whole model's gradient against finite differences
// of its cross-entropy, and its fp32 instantiation against fp64.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common/scoped_omp_threads.h"
#include "lm/attention.h"
#include "lm/cross_entropy.h"
#include "lm/rmsnorm.h"
#include "lm/rope.h"
#include "lm/swiglu.h"
#include "lm/transformer.h"
#include "test_student_support.h"

using namespace distill::lm;
using namespace student_test;

namespace {
constexpr double h = 1e-5;
constexpr double fd_tolerance = 1e-6;
}  // namespace

TEST_CASE("lm rmsnorm: forward by its formula; backward matches finite differences") {
    const int64_t N = 3, C = 7;
    const double eps = 1e-5;
    auto inp = random_values<double>(N * C, 1);
    auto weight = random_values<double>(C, 2, 0.5, 1.5);
    const auto r = random_values<double>(N * C, 3);
    std::vector<double> out(N * C), rstd(N);
    const auto loss = [&] {
        rmsnorm_forward(out.data(), rstd.data(), inp.data(), weight.data(), N, C, eps);
        return dot(out, r);
    };
    loss();
    std::vector<double> expected(N * C);
    for (int64_t n = 0; n < N; ++n) {
        double ms = 0;
        for (int64_t c = 0; c < C; ++c) ms += inp[n * C + c] * inp[n * C + c] / C;
        for (int64_t c = 0; c < C; ++c)
            expected[n * C + c] = inp[n * C + c] / std::sqrt(ms + eps) * weight[c];
    }
    CHECK(relative_error(out, expected) < 1e-14);
    std::vector<double> d_inp(N * C, 0.5), d_weight(C, 99.0);  // d_inp is added to
    rmsnorm_backward(d_inp.data(), d_weight.data(), r.data(), inp.data(), rstd.data(),
                     weight.data(), N, C);
    auto fd = finite_difference(inp, h, loss);
    for (double & v : fd) v += 0.5;
    CHECK(relative_error(d_inp, fd) < fd_tolerance);
    CHECK(relative_error(d_weight, finite_difference(weight, h, loss)) < fd_tolerance);
}

TEST_CASE("lm rope: turns the two halves of each head (rotate_half); backward is the transpose") {
    const int64_t B = 2, T = 5, NH = 3, D = 6;
    std::vector<double> cos(T * D / 2), sin(T * D / 2);
    rope_tables(cos.data(), sin.data(), T, D, 10000.0);
    // Position t, pair i: angle t · 10000^(−2i/D).
    CHECK(cos[3 * 3 + 1] == doctest::Approx(std::cos(3 * std::pow(10000.0, -2.0 / 6))));
    auto inp = random_values<double>(B * T * NH * D, 4);
    const auto r = random_values<double>(B * T * NH * D, 5);
    std::vector<double> out;
    const auto loss = [&] {
        out = inp;
        rope_forward(out.data(), cos.data(), sin.data(), B, T, NH, D);
        return dot(out, r);
    };
    loss();
    // Row (b = 1, t = 2), head 1, pair i = 0 of values 0 and 3.
    const int64_t at = ((1 * T + 2) * NH + 1) * D;
    const double c = cos[2 * 3], s = sin[2 * 3];
    CHECK(out[at] == doctest::Approx(inp[at] * c - inp[at + 3] * s));
    CHECK(out[at + 3] == doctest::Approx(inp[at + 3] * c + inp[at] * s));
    std::vector<double> d = r;
    rope_backward(d.data(), cos.data(), sin.data(), B, T, NH, D);
    CHECK(relative_error(d, finite_difference(inp, h, loss)) < fd_tolerance);
}

TEST_CASE("lm swiglu: forward silu(gate) · up; backward matches finite differences") {
    const int64_t N = 11;
    auto gate = random_values<double>(N, 6, -3, 3), up = random_values<double>(N, 7);
    const auto r = random_values<double>(N, 8);
    std::vector<double> out(N);
    const auto loss = [&] {
        swiglu_forward(out.data(), gate.data(), up.data(), N);
        return dot(out, r);
    };
    loss();
    CHECK(out[3] == doctest::Approx(gate[3] / (1 + std::exp(-gate[3])) * up[3]));
    std::vector<double> d_gate(N), d_up(N);
    swiglu_backward(d_gate.data(), d_up.data(), r.data(), gate.data(), up.data(), N);
    CHECK(relative_error(d_gate, finite_difference(gate, h, loss)) < fd_tolerance);
    CHECK(relative_error(d_up, finite_difference(up, h, loss)) < fd_tolerance);
}

TEST_CASE("lm attention: causal GQA over several key tiles equals a plain softmax; backward "
          "matches finite differences") {
    // Two tiles of keys for the later rows, 4 query heads on 2 key/value heads.
    const int64_t B = 1, T = attention_key_tile + 9, H = 4, KV = 2, D = 3;
    auto q = random_values<double>(B * T * H * D, 9, -2, 2);
    auto k = random_values<double>(B * T * KV * D, 10, -2, 2);
    auto v = random_values<double>(B * T * KV * D, 11);
    const auto r = random_values<double>(B * T * H * D, 12);
    std::vector<double> out(B * T * H * D), lse(B * H * T);
    const auto loss = [&] {
        attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), B, T, H, KV, D);
        return dot(out, r);
    };
    loss();
    // Plain softmax over all keys j <= t, for every row.
    double worst = 0, worst_lse = 0;
    for (int64_t b = 0; b < B; ++b)
        for (int64_t hh = 0; hh < H; ++hh)
            for (int64_t t = 0; t < T; ++t) {
                const int64_t g = hh / (H / KV);
                std::vector<double> s(t + 1);
                double max = -std::numeric_limits<double>::infinity();
                for (int64_t j = 0; j <= t; ++j) {
                    s[j] = 0;
                    for (int64_t d = 0; d < D; ++d)
                        s[j] += q[((b * T + t) * H + hh) * D + d] * k[((b * T + j) * KV + g) * D + d];
                    s[j] /= std::sqrt(double(D));
                    max = std::max(max, s[j]);
                }
                double sum = 0;
                for (double x : s) sum += std::exp(x - max);
                worst_lse = std::max(worst_lse,
                                     std::fabs(lse[(b * H + hh) * T + t] - (max + std::log(sum))));
                for (int64_t d = 0; d < D; ++d) {
                    double o = 0;
                    for (int64_t j = 0; j <= t; ++j)
                        o += std::exp(s[j] - max) / sum * v[((b * T + j) * KV + g) * D + d];
                    worst = std::max(worst, std::fabs(out[((b * T + t) * H + hh) * D + d] - o));
                }
            }
    CHECK(worst < 1e-13);
    CHECK(worst_lse < 1e-12);
    std::vector<double> d_q(q.size()), d_k(k.size()), d_v(v.size()), row_dot(B * H * T);
    attention_backward(d_q.data(), d_k.data(), d_v.data(), row_dot.data(), r.data(), out.data(),
                       lse.data(), q.data(), k.data(), v.data(), B, T, H, KV, D);
    CHECK(relative_error(d_q, finite_difference(q, h, loss)) < fd_tolerance);
    CHECK(relative_error(d_k, finite_difference(k, h, loss)) < fd_tolerance);
    CHECK(relative_error(d_v, finite_difference(v, h, loss)) < fd_tolerance);
}

TEST_CASE("lm cross_entropy: mean over targeted rows; gradient matches finite differences") {
    const int64_t N = 4, V = 5;
    auto logits = random_values<double>(N * V, 13, -3, 3);
    const std::vector<int32_t> targets = {2, ignore_target, 0, 4};
    std::vector<double> d(N * V, 7.0);
    const double loss = cross_entropy(d.data(), logits.data(), targets.data(), N, V);
    double expected = 0;
    for (int64_t n : {0, 2, 3}) {
        double sum = 0;
        for (int64_t v = 0; v < V; ++v) sum += std::exp(logits[n * V + v]);
        expected += (std::log(sum) - logits[n * V + targets[n]]) / 3;
    }
    CHECK(loss == doctest::Approx(expected).epsilon(1e-14));
    const auto fd = finite_difference(logits, h, [&] {
        return cross_entropy<double>(nullptr, logits.data(), targets.data(), N, V);
    });
    CHECK(relative_error(d, fd) < fd_tolerance);
    for (int64_t v = 0; v < V; ++v) CHECK(d[1 * V + v] == 0.0);
    const std::vector<int32_t> none(N, ignore_target);
    CHECK(cross_entropy(d.data(), logits.data(), none.data(), N, V) == 0.0);
    const std::vector<int32_t> bad = {2, 5, 0, 1};
    CHECK_THROWS_WITH(cross_entropy(d.data(), logits.data(), bad.data(), N, V),
                      doctest::Contains("targets[1]: expected a token id in [0, 5) or -100"));
}

TEST_CASE("lm cross_entropy: fp32 (fast_exp) matches fp64, and in place gives the same bits") {
    // A vocabulary of several 256-wide chunks and a ragged end; one row ignored.
    const int64_t N = 6, V = 1000 + 7;
    const auto logits64 = random_values<double>(size_t(N * V), 21, -12, 12);
    const std::vector<float> logits = cast<float>(logits64);
    const std::vector<int32_t> targets = {3, 1006, ignore_target, 0, 500, 77};
    std::vector<double> d64(size_t(N * V));
    const double loss64 =
        cross_entropy(d64.data(), cast<double>(logits).data(), targets.data(), N, V);
    std::vector<float> d(size_t(N * V));
    const double loss = cross_entropy(d.data(), logits.data(), targets.data(), N, V);
    CHECK(loss == doctest::Approx(loss64).epsilon(1e-6));
    CHECK(relative_error(cast<double>(d), d64) < 1e-6);
    std::vector<float> in_place = logits;
    CHECK(cross_entropy(in_place.data(), in_place.data(), targets.data(), N, V) == loss);
    CHECK(in_place == d);
    std::vector<double> in_place64 = cast<double>(logits);
    CHECK(cross_entropy(in_place64.data(), in_place64.data(), targets.data(), N, V) == loss64);
    CHECK(in_place64 == d64);
}

TEST_CASE("lm transformer: the whole model's gradient matches finite differences (fp64)") {
    for (const bool tied : {false, true}) {
        CAPTURE(tied);
        transformer_config c;
        c.vocab = 11;
        c.dim = 8;
        c.layers = 2;
        c.heads = 2;
        c.kv_heads = 1;
        c.ffn = 6;
        c.context = 8;
        c.tie_embeddings = tied;
        basic_transformer<double> model(c, 3);
        // Norm weights away from 1 and larger matrices, so every path matters.
        auto values = random_values<double>(size_t(model.parameter_count()), 14, -0.6, 0.6);
        for (const distill::parameter_info & p : model.parameter_table())
            for (int64_t i = 0; i < p.count; ++i)
                model.parameters()[p.offset + i] =
                    p.shape.size() == 1 ? 1 + values[p.offset + i] : values[p.offset + i];
        const int64_t B = 2, T = 6;
        const std::vector<int32_t> tokens = {1, 5, 10, 0, 3, 3, 7, 2, 9, 4, 6, 8};
        const std::vector<int32_t> targets = {5, 10, 0, 3, 3, ignore_target,
                                              ignore_target, 9, 4, 6, 8, ignore_target};
        model.train_step(tokens.data(), targets.data(), B, T);
        const std::vector<double> analytic(model.gradients().begin(), model.gradients().end());
        std::vector<double> params(model.parameters().begin(), model.parameters().end());
        const auto loss = [&] {
            std::copy(params.begin(), params.end(), model.parameters().begin());
            const auto logits = model.forward(tokens.data(), B, T);
            return cross_entropy<double>(nullptr, logits.data(), targets.data(), B * T, c.vocab);
        };
        const auto fd = finite_difference(params, h, loss);
        for (const distill::parameter_info & p : model.parameter_table()) {
            CAPTURE(p.name);
            const std::vector<double> a(analytic.begin() + p.offset,
                                        analytic.begin() + p.offset + p.count);
            const std::vector<double> f(fd.begin() + p.offset, fd.begin() + p.offset + p.count);
            CHECK(relative_error(a, f) < 1e-6);
        }

        {  // fp32 matches fp64
            basic_transformer<float> model32(c, 3);
            for (int64_t i = 0; i < model.parameter_count(); ++i)
                model32.parameters()[i] = float(params[i]);
            std::copy(params.begin(), params.end(), model.parameters().begin());
            const double loss64 = model.train_step(tokens.data(), targets.data(), B, T);
            const double loss32 = model32.train_step(tokens.data(), targets.data(), B, T);
            CHECK(loss32 == doctest::Approx(loss64).epsilon(1e-6));
            CHECK(relative_error(cast<double>(std::vector<float>(model32.gradients().begin(),
                                                                 model32.gradients().end())),
                                 analytic) < 1e-5);
        }
    }
}

TEST_CASE("lm transformer: a training step gives the same bits on 1, 2 and 3 threads") {
    // Big enough that the attention, the GEMMs and the elementwise passes
    // all split across threads, and several query tiles and key blocks.
    transformer_config c;
    c.vocab = 300;
    c.dim = 64;
    c.layers = 2;
    c.heads = 4;
    c.kv_heads = 2;
    c.ffn = 96;
    c.context = attention_key_tile + 2 * attention_query_tile + 5;
    const int64_t B = 2, T = c.context;
    std::vector<int32_t> tokens(size_t(B * T)), targets(size_t(B * T));
    for (int64_t n = 0; n < B * T; ++n) {
        tokens[size_t(n)] = int32_t((n * 7919 + 13) % c.vocab);
        targets[size_t(n)] = n % 17 == 0 ? ignore_target : int32_t((n * 31 + 5) % c.vocab);
    }
    std::vector<float> logits1, grads1;
    double loss1 = 0;
    for (const int threads : {1, 2, 3}) {
        CAPTURE(threads);
        const distill::scoped_omp_threads scope(threads);
        transformer model(c, 5);
        const double loss = model.train_step(tokens.data(), targets.data(), B, T);
        const auto logits = model.forward(tokens.data(), B, T);
        if (threads == 1) {
            loss1 = loss;
            logits1.assign(logits.begin(), logits.end());
            grads1.assign(model.gradients().begin(), model.gradients().end());
            continue;
        }
        CHECK(loss == loss1);
        CHECK(std::equal(logits.begin(), logits.end(), logits1.begin(), logits1.end()));
        CHECK(std::equal(model.gradients().begin(), model.gradients().end(), grads1.begin(),
                         grads1.end()));
    }
}
