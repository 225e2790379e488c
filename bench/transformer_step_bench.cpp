// distill_bench_transformer_step — CPU training speed of the transformer
// student (core/lm) as JSON lines: tokens/s of a full training step
// (forward, mean next-token cross-entropy, backward, gradient clipping,
// AdamW) and of a forward alone, and the process's peak resident memory
// after them. bench/transformer_step_torch.py runs it beside PyTorch eager
// (transformers' LlamaForCausalLM, same config, data and threads).
//
// usage: distill_bench_transformer_step --config JSON [--batch 8] [--length T]
//                                       [--threads 2] [--seconds 3] [--profile] [--serve]
//
// --length defaults to the config's context. The tokens are
// (n · 7919 + 13) mod vocab for position n of the batch, the targets the
// next token of each sequence and −100 at its last position (the same
// formula as the Python side).
//
// --profile also times each layer function of the step on its own, at the
// model's shapes ({"bench": "transformer_profile", ...} lines, ms per call):
// where the time of a step goes.
//
// --serve times one call per request instead, for a driver that alternates
// them with another implementation's (transformer_step_torch.py: under a
// load that changes from second to second, pairs of neighbouring steps see
// the same machine). It prints "ready", then reads lines: "step" and
// "forward" run one and answer its wall time in ms, "memory" answers
// {"peak_rss_kb", "start_rss_kb"}; end of input ends it.
//
// It links the core's objects (the training entry points of the C ABI are
// not there yet); only run_step / run_forward below touch the core's
// classes, so moving to the ABI is a change of those two.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/scoped_omp_threads.h"
#include "lm/attention.h"
#include "lm/cross_entropy.h"
#include "lm/rmsnorm.h"
#include "lm/swiglu.h"
#include "lm/transformer.h"
#include "lm/transformer_config.h"
#include "students/layers/blas.h"
#include "train/transformer_trainer.h"

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

// Seconds per run of fn after one warm-up, over at least min_runs runs and
// `budget` seconds; `fastest` gets the quickest single run (the least
// disturbed by other load on a shared machine).
template <class Fn>
double time_per_run(Fn && fn, double budget, int min_runs, double & fastest) {
    fn();
    int runs = 0;
    fastest = 1e30;
    const auto start = clock_type::now();
    while (runs < min_runs || seconds_since(start) < budget) {
        const auto one = clock_type::now();
        fn();
        fastest = std::min(fastest, seconds_since(one));
        ++runs;
    }
    return seconds_since(start) / runs;
}

// kB from /proc/self/status ("VmHWM", "VmRSS"); -1 when unreadable.
long status_kb(const char * field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    const size_t length = std::strlen(field);
    while (std::getline(status, line))
        if (line.compare(0, length, field) == 0 && line.size() > length && line[length] == ':')
            return std::atol(line.c_str() + length + 1);
    return -1;
}

// The time of each layer function at the step's shapes, called on its own
// (the model's buffers are not reachable from here, so on fresh ones).
void profile(distill::lm::transformer & model, const int32_t * tokens, const int32_t * targets_in,
             int64_t B, int64_t T, double budget) {
    const distill::lm::transformer_config & c = model.config();
    namespace lm = distill::lm;
    const int64_t N = B * T, C = c.dim, F = c.ffn, V = c.vocab, H = c.heads, KV = c.kv_heads;
    const int64_t D = c.head_dim(), QW = H * D, KW = KV * D;
    std::vector<float> a(size_t(N * std::max({V, C, F, QW})), 0.01f),
        w(size_t(std::max(V, F) * C), 0.02f);
    std::vector<float> out(size_t(N * std::max({V, F, C})));
    std::vector<float> q(static_cast<size_t>(N * QW)), k(static_cast<size_t>(N * KW)),
        v(static_cast<size_t>(N * KW)), att(static_cast<size_t>(N * QW));
    std::vector<float> lse(static_cast<size_t>(B * H * T)), dq(q.size()), dk(k.size()),
        dv(v.size()), row(static_cast<size_t>(B * H * T));
    for (size_t i = 0; i < q.size(); ++i) q[i] = float((i * 37) % 101) / 50.0f - 1.0f;
    for (size_t i = 0; i < k.size(); ++i) k[i] = float((i * 53) % 97) / 48.0f - 1.0f;
    for (size_t i = 0; i < v.size(); ++i) v[i] = float((i * 29) % 89) / 44.0f - 1.0f;
    std::vector<float> logits(static_cast<size_t>(N * V)), d_logits(static_cast<size_t>(N * V));
    for (size_t i = 0; i < logits.size(); ++i) logits[i] = float((i * 31) % 199) / 20.0f - 5.0f;
    std::vector<int32_t> targets(static_cast<size_t>(N));
    for (int64_t n = 0; n < N; ++n) targets[size_t(n)] = int32_t((n * 7919 + 13) % V);
    std::vector<float> rstd(static_cast<size_t>(N)), nw(size_t(C), 1.0f),
        dnw(static_cast<size_t>(C));
    std::vector<float> g2(static_cast<size_t>(N * F)), u2(static_cast<size_t>(N * F));
    // Wall and process CPU time per call (CPU time: what the call cost
    // whatever else the machine ran meanwhile, summed over its threads).
    const auto report = [&](const char * what, double calls_per_step, auto && fn) {
        fn();
        int runs = 0;
        const std::clock_t cpu_start = std::clock();
        const auto start = clock_type::now();
        while (runs < 3 || seconds_since(start) < budget) {
            fn();
            ++runs;
        }
        const double wall = seconds_since(start) / runs;
        const double cpu = double(std::clock() - cpu_start) / CLOCKS_PER_SEC / runs;
        std::printf(
            "{\"bench\": \"transformer_profile\", \"part\": \"%s\", \"ms\": %.3f, "
            "\"cpu_ms\": %.3f, \"calls_per_step\": %g, \"ms_per_step\": %.3f, "
            "\"cpu_ms_per_step\": %.3f}\n",
            what, wall * 1e3, cpu * 1e3, calls_per_step, wall * calls_per_step * 1e3,
            cpu * calls_per_step * 1e3);
        std::fflush(stdout);
    };
    const double L = double(c.layers);
    const auto gemm_nt = [&](int64_t M, int64_t Nn, int64_t K) {
        distill::layers::gemm(false, true, M, Nn, K, 1.0f, a.data(), K, w.data(), K, 0.0f,
                              out.data(), Nn);
    };
    const auto gemm_tn = [&](int64_t M, int64_t Nn, int64_t K) {  // d_weight = d_outᵀ · inp
        distill::layers::gemm(true, false, M, Nn, K, 1.0f, a.data(), M, w.data(), Nn, 0.0f,
                              out.data(), Nn);
    };
    const auto gemm_nn = [&](int64_t M, int64_t Nn, int64_t K) {  // d_inp = d_out · weight
        distill::layers::gemm(false, false, M, Nn, K, 1.0f, a.data(), K, w.data(), Nn, 0.0f,
                              out.data(), Nn);
    };
    // The model's own phases first, then each layer function alone.
    std::vector<float> model_d_logits(static_cast<size_t>(N * V));
    report("model forward", 1, [&] { model.forward(tokens, B, T); });
    report("model loss (cross_entropy)", 1, [&] {
        lm::cross_entropy(model_d_logits.data(), model.forward(tokens, B, T).data(), targets_in, N,
                          V);
    });
    report("model backward", 1, [&] { model.backward(model_d_logits.data()); });
    report("gemm lm_head forward [N,C]x[V,C]^T", 1, [&] { gemm_nt(N, V, C); });
    report("gemm lm_head d_weight [N,V]^T x [N,C]", 1, [&] { gemm_tn(V, C, N); });
    report("gemm lm_head d_inp [N,V] x [V,C]", 1, [&] { gemm_nn(N, C, V); });
    report("gemm mlp forward (one of gate/up) [N,C]x[F,C]^T", 2 * L, [&] { gemm_nt(N, F, C); });
    report("gemm mlp down forward [N,F]x[C,F]^T", L, [&] { gemm_nt(N, C, F); });
    report("gemm q/o forward [N,C]x[C,C]^T", 2 * L, [&] { gemm_nt(N, QW, C); });
    report("attention forward", L, [&] {
        lm::attention_forward(att.data(), lse.data(), q.data(), k.data(), v.data(), B, T, H, KV, D);
    });
    report("attention backward", L, [&] {
        lm::attention_backward(dq.data(), dk.data(), dv.data(), row.data(), q.data(), att.data(),
                               lse.data(), q.data(), k.data(), v.data(), B, T, H, KV, D);
    });
    report("cross_entropy [N,V] with gradient", 1,
           [&] { lm::cross_entropy(d_logits.data(), logits.data(), targets.data(), N, V); });
    report("rmsnorm forward", 2 * L + 1,
           [&] { lm::rmsnorm_forward(out.data(), rstd.data(), a.data(), nw.data(), N, C, 1e-5); });
    report("rmsnorm backward", 2 * L + 1, [&] {
        lm::rmsnorm_backward(out.data(), dnw.data(), a.data(), a.data(), rstd.data(), nw.data(), N,
                             C);
    });
    report("swiglu forward", L, [&] { lm::swiglu_forward(out.data(), a.data(), a.data(), N * F); });
    report("swiglu backward", L,
           [&] { lm::swiglu_backward(g2.data(), u2.data(), a.data(), a.data(), a.data(), N * F); });
}

}  // namespace

int main(int argc, char ** argv) {
    std::string config_text;
    int64_t batch = 8, length = 0;
    int threads = 2;
    double budget = 3.0;
    bool want_profile = false, serve = false;
    for (int i = 1; i < argc; ++i) {
        const bool has_value = i + 1 < argc;
        if (!std::strcmp(argv[i], "--profile"))
            want_profile = true;
        else if (!std::strcmp(argv[i], "--serve"))
            serve = true;
        else if (!std::strcmp(argv[i], "--config") && has_value)
            config_text = argv[++i];
        else if (!std::strcmp(argv[i], "--batch") && has_value)
            batch = std::atoll(argv[++i]);
        else if (!std::strcmp(argv[i], "--length") && has_value)
            length = std::atoll(argv[++i]);
        else if (!std::strcmp(argv[i], "--threads") && has_value)
            threads = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--seconds") && has_value)
            budget = std::atof(argv[++i]);
        else {
            std::fprintf(stderr,
                         "usage: %s --config JSON [--batch N] [--length T] [--threads N] "
                         "[--seconds S] [--profile] [--serve]\n",
                         argv[0]);
            return 2;
        }
    }
    if (config_text.empty() || batch < 1 || threads < 1 || !(budget > 0)) {
        std::fprintf(stderr, "%s: expected --config JSON, batch >= 1, threads >= 1, seconds > 0\n",
                     argv[0]);
        return 2;
    }
    try {
        namespace lm = distill::lm;
        const long rss_start_kb = status_kb("VmRSS");
        const lm::transformer_config config =
            lm::parse_transformer_config(nlohmann::json::parse(config_text), "--config");
        if (length == 0) length = config.context;
        const int64_t N = batch * length, V = config.vocab;
        std::vector<int32_t> tokens(static_cast<size_t>(N)), targets(static_cast<size_t>(N));
        for (int64_t n = 0; n < N; ++n) tokens[size_t(n)] = int32_t((n * 7919 + 13) % V);
        for (int64_t n = 0; n < N; ++n)
            targets[size_t(n)] = (n + 1) % length == 0 ? lm::ignore_target : tokens[size_t(n + 1)];

        auto model = std::make_shared<lm::transformer>(config, 0);
        distill::transformer_trainer_settings settings;
        settings.optimizer = {{"kind", "adamw"}, {"lr", 1e-4}, {"weight_decay", 0.01}};
        settings.max_grad_norm = 1.0;
        settings.num_threads = threads;
        distill::transformer_trainer trainer(model, settings);

        const auto run_step = [&] { trainer.step(tokens.data(), targets.data(), batch, length); };
        const auto run_forward = [&] {
            const distill::scoped_omp_threads scope(threads);
            model->forward(tokens.data(), batch, length);
        };
        if (serve) {
            std::printf("ready\n");
            std::fflush(stdout);
            char line[64];
            while (std::fgets(line, sizeof line, stdin)) {
                const auto start = clock_type::now();
                if (!std::strcmp(line, "step\n"))
                    run_step();
                else if (!std::strcmp(line, "forward\n"))
                    run_forward();
                else if (!std::strcmp(line, "memory\n")) {
                    std::printf("{\"peak_rss_kb\": %ld, \"start_rss_kb\": %ld}\n",
                                status_kb("VmHWM"), rss_start_kb);
                    std::fflush(stdout);
                    continue;
                } else {
                    std::fprintf(stderr, "--serve: expected step, forward or memory, got %s", line);
                    return 2;
                }
                std::printf("%.3f\n", seconds_since(start) * 1e3);
                std::fflush(stdout);
            }
            return 0;
        }
        double step_min = 0, forward_min = 0;
        const double step_s = time_per_run(run_step, budget, 3, step_min);
        const long peak_kb = status_kb("VmHWM");
        const double forward_s = time_per_run(run_forward, budget / 2, 3, forward_min);
        std::printf(
            "{\"bench\": \"transformer_step\", \"impl\": \"distill\", \"config\": %s, "
            "\"batch\": %lld, \"length\": %lld, \"threads\": %d, \"parameters\": %lld, "
            "\"step_ms\": %.3f, \"step_min_ms\": %.3f, \"train_tokens_per_s\": %.1f, "
            "\"forward_ms\": %.3f, \"forward_min_ms\": %.3f, \"forward_tokens_per_s\": %.1f, "
            "\"peak_rss_kb\": %ld, \"start_rss_kb\": %ld}\n",
            lm::to_json(config).dump().c_str(), (long long)batch, (long long)length, threads,
            (long long)model->parameter_count(), step_s * 1e3, step_min * 1e3, double(N) / step_s,
            forward_s * 1e3, forward_min * 1e3, double(N) / forward_s, peak_kb, rss_start_kb);
        std::fflush(stdout);
        if (want_profile) {
            const distill::scoped_omp_threads scope(threads);
            profile(*model, tokens.data(), targets.data(), batch, length, budget / 4);
        }
    } catch (const std::exception & e) {
        std::fprintf(stderr, "distill_bench_transformer_step: %s\n", e.what());
        return 1;
    }
    return 0;
}
