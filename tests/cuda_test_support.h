// Test helper (CUDA builds only): runs a kd-loss call on a CUDA context
// from host tensors (upload, call, wait, download), and compares a CUDA
// result with the CPU's. Include only under DISTILL_TEST_CUDA.
#pragma once

#include <doctest/doctest.h>

#include <cuda_runtime.h>
#include <distill/distill.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kd_loss_problem.h"

// Nested so that its names cannot meet those of other test helpers.
namespace test::cuda_support {

inline bool cuda_device_present() {
    int32_t count = 0;
    REQUIRE(distill_cuda_device_count(&count) == DISTILL_STATUS_OK);
    if (count == 0) MESSAGE("no CUDA device: skipped");
    return count > 0;
}

struct context_handle {
    distill_context * handle = nullptr;
    explicit context_handle(bool cuda, cudaStream_t stream = nullptr) {
        distill_context_options options;
        distill_context_options_init(&options);
        options.device_type = cuda ? DISTILL_DEVICE_CUDA : DISTILL_DEVICE_CPU;
        options.cuda_stream = stream;
        const distill_status status = distill_context_create(&options, &handle);
        REQUIRE_MESSAGE(status == DISTILL_STATUS_OK, distill_last_error_message());
    }
    ~context_handle() { distill_context_free(handle); }
    context_handle(const context_handle &) = delete;
    context_handle & operator=(const context_handle &) = delete;
};

// A copy of a host tensor in device memory, seen as a DLTensor on cuda:0.
class device_tensor {
public:
    explicit device_tensor(host_tensor & host) : shape_(host.shape()) {
        dtype_ = host.dl()->dtype;
        bytes_ = host.size() * dtype_.bits / 8;
        REQUIRE(cudaMalloc(&data_, std::max<size_t>(bytes_, 1)) == cudaSuccess);
        if (bytes_ > 0)
            REQUIRE(cudaMemcpy(data_, host.data(), bytes_, cudaMemcpyHostToDevice) == cudaSuccess);
    }
    ~device_tensor() { cudaFree(data_); }
    device_tensor(const device_tensor &) = delete;
    device_tensor & operator=(const device_tensor &) = delete;

    DLTensor * dl() {
        tensor_ = DLTensor{};
        tensor_.data = data_;
        tensor_.device = {kDLCUDA, 0};
        tensor_.ndim = static_cast<int32_t>(shape_.size());
        tensor_.dtype = dtype_;
        tensor_.shape = shape_.data();
        return &tensor_;
    }
    // All bits set: NaN in fp32, bf16 and fp16, so an entry the kernels
    // forget to write shows up.
    void poison() { REQUIRE(cudaMemset(data_, 0xFF, bytes_) == cudaSuccess); }
    void download(host_tensor & host) const {
        if (bytes_ > 0)
            REQUIRE(cudaMemcpy(host.data(), data_, bytes_, cudaMemcpyDeviceToHost) == cudaSuccess);
    }

private:
    std::vector<int64_t> shape_;
    DLDataType dtype_{};
    size_t bytes_ = 0;
    void * data_ = nullptr;
    DLTensor tensor_{};
};

// The teacher of a call: dense logits, or top-k ids and log-probabilities.
struct teacher_tensors {
    host_tensor * logits = nullptr;
    host_tensor * ids = nullptr;
    host_tensor * logprobs = nullptr;
};

struct cuda_run {
    distill_status status;
    std::string message;
    host_tensor loss;
    host_tensor grad;
};

// Uploads the inputs, runs one call on a CUDA context, waits, downloads.
inline cuda_run run_cuda(const distill_context * ctx, const distill_kd_loss_options & options,
                         host_tensor & student, storage student_type,
                         const teacher_tensors & teacher, host_tensor * labels, bool want_grad,
                         cudaStream_t stream = nullptr) {
    const int64_t rows = student.shape()[0];
    const int64_t vocab = student.shape()[1];
    cuda_run run{DISTILL_STATUS_OK,
                 {},
                 host_tensor(storage::f32, options.reduction == DISTILL_REDUCTION_NONE
                                               ? std::vector<int64_t>{rows}
                                               : std::vector<int64_t>{}),
                 host_tensor(student_type, {want_grad ? rows : 0, vocab})};
    host_tensor none(storage::i64, {0});
    device_tensor d_student(student);
    device_tensor d_loss(run.loss);
    device_tensor d_grad(run.grad);
    device_tensor d_labels(labels != nullptr ? *labels : none);
    device_tensor d_teacher(teacher.logits != nullptr ? *teacher.logits : none);
    device_tensor d_ids(teacher.ids != nullptr ? *teacher.ids : none);
    device_tensor d_logprobs(teacher.logprobs != nullptr ? *teacher.logprobs : none);
    d_loss.poison();
    d_grad.poison();
    // The copies and the poison run on the legacy stream: finish them
    // before the call's own (possibly non-blocking) stream starts.
    REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
    DLTensor * labels_dl = labels != nullptr ? d_labels.dl() : nullptr;
    DLTensor * grad_dl = want_grad ? d_grad.dl() : nullptr;
    if (teacher.logits != nullptr)
        run.status = distill_kd_loss(ctx, &options, d_student.dl(), d_teacher.dl(), labels_dl,
                                     d_loss.dl(), grad_dl);
    else
        run.status = distill_kd_loss_topk(ctx, &options, d_student.dl(), d_ids.dl(),
                                          d_logprobs.dl(), labels_dl, d_loss.dl(), grad_dl);
    run.message = distill_last_error_message();
    REQUIRE(cudaStreamSynchronize(stream) == cudaSuccess);
    REQUIRE(cudaGetLastError() == cudaSuccess);
    d_loss.download(run.loss);
    if (want_grad) d_grad.download(run.grad);
    return run;
}

// run_library (kd_loss_problem.h) for a CUDA context.
inline library_result run_problem_on_cuda(const distill_context * ctx, const reference_options & r,
                                          problem & pb, bool want_grad = true,
                                          cudaStream_t stream = nullptr) {
    teacher_tensors teacher;
    if (pb.spec.form == teacher_form::dense) {
        teacher.logits = &pb.teacher_logits;
    } else {
        teacher.ids = &pb.topk_ids;
        teacher.logprobs = &pb.topk_logprobs;
    }
    cuda_run run = run_cuda(ctx, to_options(r), pb.student, pb.spec.student_type, teacher,
                            pb.spec.with_labels ? &pb.labels : nullptr, want_grad, stream);
    library_result out;
    out.status = run.status;
    out.message = run.message;
    out.loss = run.loss.values();
    if (want_grad) out.grad = run.grad.values();
    return out;
}

// Relative tolerance of a gradient entry: fp32 differences in the
// accumulation order, or one rounding step of the stored type.
inline double grad_rel_tol(storage s) {
    switch (s) {
    case storage::bf16: return 1e-2;
    case storage::f16: return 2e-3;
    default: return 1e-4;
    }
}

// |a − b| within tolerance for every entry; abs_tol scales with the
// largest expected magnitude (entries near 0 come from cancellation).
inline size_t count_mismatches(const std::vector<double> & got,
                               const std::vector<double> & expected, double rel_tol,
                               double abs_floor, size_t * first) {
    double largest = 0.0;
    for (double v : expected) largest = std::max(largest, std::fabs(v));
    const double abs_tol = 1e-5 * largest + abs_floor;
    size_t mismatches = 0;
    for (size_t i = 0; i < expected.size(); ++i)
        if (!close(got[i], expected[i], abs_tol, rel_tol))
            if (mismatches++ == 0 && first != nullptr) *first = i;
    return mismatches;
}

inline void check_same(const library_result & cpu, const library_result & gpu,
                       storage student_type) {
    REQUIRE_MESSAGE(cpu.status == DISTILL_STATUS_OK, cpu.message);
    REQUIRE_MESSAGE(gpu.status == DISTILL_STATUS_OK, gpu.message);
    REQUIRE(cpu.loss.size() == gpu.loss.size());
    for (size_t i = 0; i < cpu.loss.size(); ++i) {
        INFO("loss ", i, ": cpu ", cpu.loss[i], ", cuda ", gpu.loss[i]);
        CHECK(close(gpu.loss[i], cpu.loss[i], 1e-5, 1e-4));
    }
    REQUIRE(cpu.grad.size() == gpu.grad.size());
    size_t first = 0;
    const size_t mismatches = count_mismatches(gpu.grad, cpu.grad, grad_rel_tol(student_type),
                                               student_type == storage::f16 ? 1e-7 : 0.0, &first);
    INFO(mismatches, " gradient mismatches; first at ", first, ": cpu ",
         mismatches ? cpu.grad[first] : 0.0, ", cuda ", mismatches ? gpu.grad[first] : 0.0);
    CHECK(mismatches == 0);
}

// The rows of a result not listed in `dropped`. vocab: the gradient's row length.
inline library_result without_rows(const library_result & full, int64_t vocab,
                                   const std::vector<int64_t> & dropped) {
    library_result kept;
    kept.status = full.status;
    for (size_t row = 0; row < full.loss.size(); ++row) {
        if (std::find(dropped.begin(), dropped.end(), int64_t(row)) != dropped.end()) continue;
        kept.loss.push_back(full.loss[row]);
        kept.grad.insert(kept.grad.end(), full.grad.begin() + row * vocab,
                         full.grad.begin() + (row + 1) * vocab);
    }
    return kept;
}

}  // namespace test::cuda_support
