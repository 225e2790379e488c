// The GPU half of distill_bench_kd_loss: the same JSON lines with device
// "cuda:0", timed with CUDA events on the context's stream, against the
// device's copy bandwidth measured in the same run (cudaMemcpy device to
// device, read + write bytes). Built without CUDA, it says so and returns.
#include <cstdio>
#include <vector>

#include "bench_tensors.h"

#if DISTILL_BENCH_CUDA
#include <cuda_runtime.h>
#include <distill/distill.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace bench {
namespace {

void check_cuda(cudaError_t status, const char * what) {
    if (status != cudaSuccess)
        throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

// A device copy of a host buffer, described by a DLTensor on cuda:0.
struct device_buffer {
    void * data = nullptr;
    std::vector<int64_t> shape;
    DLTensor dl{};
    device_buffer(const buffer & host) : shape(host.shape) {
        check_cuda(cudaMalloc(&data, std::max<size_t>(host.bytes.size(), 4)), "cudaMalloc");
        check_cuda(cudaMemcpy(data, host.bytes.data(), host.bytes.size(), cudaMemcpyHostToDevice),
                   "cudaMemcpy");
        dl = host.dl;
        dl.data = data;
        dl.shape = shape.data();
        dl.device = {kDLCUDA, 0};
    }
    ~device_buffer() { cudaFree(data); }
    device_buffer(const device_buffer &) = delete;
    device_buffer & operator=(const device_buffer &) = delete;
};

template <class Fn>
double median_gpu_ms(int repeats, Fn && fn) {
    cudaEvent_t start, stop;
    check_cuda(cudaEventCreate(&start), "cudaEventCreate");
    check_cuda(cudaEventCreate(&stop), "cudaEventCreate");
    fn();
    check_cuda(cudaDeviceSynchronize(), "warm-up");
    std::vector<float> times;
    for (int r = 0; r < repeats; ++r) {
        cudaEventRecord(start);
        fn();
        cudaEventRecord(stop);
        check_cuda(cudaEventSynchronize(stop), "cudaEventSynchronize");
        float ms = 0;
        cudaEventElapsedTime(&ms, start, stop);
        times.push_back(ms);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

double device_copy_gbps() {
    const size_t bytes = size_t(1) << 30;
    void *from = nullptr, *to = nullptr;
    check_cuda(cudaMalloc(&from, bytes), "cudaMalloc");
    check_cuda(cudaMalloc(&to, bytes), "cudaMalloc");
    const double ms =
        median_gpu_ms(9, [&] { cudaMemcpy(to, from, bytes, cudaMemcpyDeviceToDevice); });
    cudaFree(from);
    cudaFree(to);
    return 2.0 * bytes / (ms * 1e6);
}

}  // namespace

void run_cuda_if_present(const std::vector<shape_nv> & shapes, int64_t k, int repeats) {
    if (distill::cuda_device_count() == 0) {
        std::fprintf(stderr, "no CUDA device: GPU benchmark skipped\n");
        return;
    }
    distill::Context gpu(distill::ContextOptions::cuda(0));
    const double copy_gbps = device_copy_gbps();
    std::vector<shape_nv> gpu_shapes = shapes;
    gpu_shapes.push_back({4096, 128256});
    for (const shape_nv s : gpu_shapes)
        for (const bool bf16 : {false, true}) {
            problem host(s.rows, s.vocab, k, bf16);
            device_buffer student(host.student), teacher(host.teacher), grad(host.grad),
                loss(host.loss), ids(host.topk_ids), logprobs(host.topk_logprobs);
            distill::KdLossOptions options;
            options->temperature = 2.0f;
            const double elt = bf16 ? 2.0 : 4.0;
            const char * dtype = bf16 ? "bf16" : "fp32";
            const double dense_ms = median_gpu_ms(repeats, [&] {
                distill::kd_loss(gpu, options, student.dl, teacher.dl, nullptr, loss.dl, &grad.dl);
            });
            const double topk_ms = median_gpu_ms(repeats, [&] {
                distill::kd_loss_topk(gpu, options, student.dl, ids.dl, logprobs.dl, nullptr,
                                      loss.dl, &grad.dl);
            });
            const double dense_gbps = 3.0 * s.rows * s.vocab * elt / (dense_ms * 1e6);
            const double topk_gbps =
                (2.0 * s.rows * s.vocab * elt + s.rows * k * (8.0 + 4.0)) / (topk_ms * 1e6);
            std::printf(
                "{\"op\": \"kd_loss_dense\", \"divergence\": \"forward_kl\", \"N\": %lld, "
                "\"V\": %lld, \"K\": 0, \"dtype\": \"%s\", \"device\": \"cuda:0\", "
                "\"median_ms\": %.3f, \"effective_gbps\": %.1f, \"copy_gbps\": %.1f, "
                "\"fraction_of_copy\": %.3f}\n",
                (long long)s.rows, (long long)s.vocab, dtype, dense_ms, dense_gbps, copy_gbps,
                dense_gbps / copy_gbps);
            std::printf(
                "{\"op\": \"kd_loss_topk\", \"divergence\": \"forward_kl\", \"N\": %lld, "
                "\"V\": %lld, \"K\": %lld, \"dtype\": \"%s\", \"device\": \"cuda:0\", "
                "\"median_ms\": %.3f, \"effective_gbps\": %.1f, \"copy_gbps\": %.1f, "
                "\"fraction_of_copy\": %.3f}\n",
                (long long)s.rows, (long long)s.vocab, (long long)k, dtype, topk_ms, topk_gbps,
                copy_gbps, topk_gbps / copy_gbps);
            std::fflush(stdout);
        }
}

}  // namespace bench

#else

namespace bench {
void run_cuda_if_present(const std::vector<shape_nv> &, int64_t, int) {
    std::fprintf(stderr, "built without CUDA: GPU benchmark skipped\n");
}
}  // namespace bench

#endif
