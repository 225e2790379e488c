// Benchmark of the fused distillation loss (forward + gradient), not a test.
// Prints one JSON object per line:
//   {"op","divergence","N","V","K","dtype","device","median_ms",
//    "effective_gbps","copy_gbps","fraction_of_copy","reference_ms","speedup_vs_reference"}
// effective_gbps counts the bytes a single pass must move: dense = 2 reads +
// 1 write of N×V, top-k = 1 read + 1 write of N×V (+ the N×K teacher);
// copy_gbps is this machine's copy bandwidth measured in the same run (read
// + write bytes), so fraction_of_copy says how close to the memory floor.
// The reference is bench/naive_kd_loss.h (forward KL only).
//
// Usage: distill_bench_kd_loss [--quick] [--repeats N] [--all-divergences]
//                              [--shapes 512x32000,1024x128256] [--no-reference]
#include <distill/distill.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <omp.h>

#include "bench_tensors.h"
#include "naive_kd_loss.h"

namespace {

using shape = bench::shape_nv;

struct settings {
    std::vector<shape> shapes{{512, 32000}, {1024, 128256}};
    int repeats = 7;
    bool all_divergences = false;
    bool reference = true;
    int64_t k = 20;
};

const char * divergence_names[] = {"forward_kl", "reverse_kl", "jsd", "tvd"};

template <class Fn>
double median_ms(int repeats, Fn && fn) {
    fn();  // warm-up: page faults, thread pool
    std::vector<double> times;
    for (int r = 0; r < repeats; ++r) {
        const auto start = std::chrono::steady_clock::now();
        fn();
        times.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

// Copy bandwidth of this machine: a parallel copy of 256 MiB, read + write.
double measure_copy_gbps() {
    const size_t count = size_t(64) << 20;  // floats
    std::vector<float> from(count, 1.0f), to(count, 0.0f);
    const double ms = median_ms(5, [&] {
#pragma omp parallel for schedule(static)
        for (int64_t block = 0; block < 64; ++block)
            std::memcpy(to.data() + block * (count / 64), from.data() + block * (count / 64),
                        count / 64 * sizeof(float));
    });
    return 2.0 * count * sizeof(float) / (ms * 1e6);
}

void print_line(const char * op, const char * divergence, shape s, int64_t k, const char * dtype,
                const char * device, double ms, double bytes, double copy_gbps,
                double reference_ms) {
    const double gbps = bytes / (ms * 1e6);
    std::printf(
        "{\"op\": \"%s\", \"divergence\": \"%s\", \"N\": %lld, \"V\": %lld, \"K\": %lld, "
        "\"dtype\": \"%s\", \"device\": \"%s\", \"median_ms\": %.3f, "
        "\"effective_gbps\": %.2f, \"copy_gbps\": %.2f, \"fraction_of_copy\": %.3f, ",
        op, divergence, (long long)s.rows, (long long)s.vocab, (long long)k, dtype, device, ms,
        gbps, copy_gbps, gbps / copy_gbps);
    if (reference_ms > 0)
        std::printf("\"reference_ms\": %.3f, \"speedup_vs_reference\": %.2f}\n", reference_ms,
                    reference_ms / ms);
    else
        std::printf("\"reference_ms\": null, \"speedup_vs_reference\": null}\n");
    std::fflush(stdout);
}

void run_cpu(const settings & cfg, double copy_gbps) {
    distill::Context cpu;
    for (const shape s : cfg.shapes) {
        for (const bool bf16 : {false, true}) {
            bench::problem pb(s.rows, s.vocab, cfg.k, bf16);
            const double elt = bf16 ? 2.0 : 4.0;
            const char * dtype = bf16 ? "bf16" : "fp32";
            const int last = cfg.all_divergences ? 3 : 0;
            for (int divergence = 0; divergence <= last; ++divergence) {
                distill::KdLossOptions options;
                options->divergence = divergence;
                options->temperature = 2.0f;
                options->tail = divergence == 1 ? DISTILL_TAIL_BUCKET : DISTILL_TAIL_RENORMALIZE;
                const bool with_reference = cfg.reference && divergence == 0 && !bf16;
                const double dense_ms = median_ms(cfg.repeats, [&] {
                    distill::kd_loss(cpu, options, pb.student.dl, pb.teacher.dl, nullptr,
                                     pb.loss.dl, &pb.grad.dl);
                });
                double dense_reference_ms = 0.0;
                if (with_reference)
                    dense_reference_ms = median_ms(1, [&] {
                        bench::naive_forward_kl(pb.reference_grad.data(), pb.student_f32(),
                                                pb.teacher_f32(), s.rows, s.vocab, 2.0f);
                    });
                print_line("kd_loss_dense", divergence_names[divergence], s, 0, dtype, "cpu",
                           dense_ms, 3.0 * s.rows * s.vocab * elt, copy_gbps, dense_reference_ms);

                const double topk_ms = median_ms(cfg.repeats, [&] {
                    distill::kd_loss_topk(cpu, options, pb.student.dl, pb.topk_ids.dl,
                                          pb.topk_logprobs.dl, nullptr, pb.loss.dl, &pb.grad.dl);
                });
                double topk_reference_ms = 0.0;
                if (with_reference)
                    topk_reference_ms = median_ms(1, [&] {
                        bench::naive_forward_kl_topk(pb.reference_grad.data(), pb.student_f32(),
                                                     pb.topk_id_values(), pb.topk_logprob_values(),
                                                     s.rows, s.vocab, cfg.k, 2.0f);
                    });
                print_line("kd_loss_topk", divergence_names[divergence], s, cfg.k, dtype, "cpu",
                           topk_ms, 2.0 * s.rows * s.vocab * elt + s.rows * cfg.k * (8.0 + elt),
                           copy_gbps, topk_reference_ms);
            }
        }
    }
}

std::vector<shape> parse_shapes(const std::string & text) {
    std::vector<shape> shapes;
    size_t at = 0;
    while (at < text.size()) {
        size_t comma = text.find(',', at);
        if (comma == std::string::npos) comma = text.size();
        const std::string item = text.substr(at, comma - at);
        const size_t x = item.find('x');
        if (x == std::string::npos) throw std::runtime_error("--shapes: expected NxV, got " + item);
        shapes.push_back({std::stoll(item.substr(0, x)), std::stoll(item.substr(x + 1))});
        at = comma + 1;
    }
    return shapes;
}

}  // namespace

int main(int argc, char ** argv) {
    settings cfg;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string arg = argv[i];
            if (arg == "--quick") {
                cfg.shapes = {{64, 32000}};
                cfg.repeats = 3;
            } else if (arg == "--repeats" && i + 1 < argc) {
                cfg.repeats = std::stoi(argv[++i]);
            } else if (arg == "--shapes" && i + 1 < argc) {
                cfg.shapes = parse_shapes(argv[++i]);
            } else if (arg == "--all-divergences") {
                cfg.all_divergences = true;
            } else if (arg == "--no-reference") {
                cfg.reference = false;
            } else {
                std::fprintf(stderr,
                             "usage: %s [--quick] [--repeats N] [--shapes NxV,...] "
                             "[--all-divergences] [--no-reference]\n",
                             argv[0]);
                return 2;
            }
        }
        distill::check_library_version();
        std::fprintf(stderr, "distill %s, %d CPU threads\n", distill_version(),
                     omp_get_max_threads());
        const double copy_gbps = measure_copy_gbps();
        run_cpu(cfg, copy_gbps);
        bench::run_cuda_if_present(cfg.shapes, cfg.k, cfg.repeats);
    } catch (const std::exception & e) {
        std::fprintf(stderr, "distill_bench_kd_loss: %s\n", e.what());
        return 1;
    }
    return 0;
}
