// libdistill_cuda.so's only exported symbol: distill_cuda_backend_v1(), the
// function table of core/backend/cuda_backend_api.h. Each entry makes the
// requested device current (restoring the caller's afterwards), enqueues
// its kernels on the caller's stream without synchronising, and turns any
// CUDA error into a distill status plus a message naming the error. No C++
// exception leaves this file. The student primitives (API 2) live in
// student_*.cu (student_primitives.cuh lists them), the transformer
// primitives (API 3) in lm_*.cu (lm_primitives.cuh); they run on a
// session's device and stream instead of per-call ones.
#include <cuda_runtime.h>

#include <exception>

#include "backend/cuda_backend_api.h"
#include "backend_status.cuh"
#include "kd_loss_cuda.cuh"
#include "lm_primitives.cuh"
#include "student_primitives.cuh"

namespace distill::kernels::cuda {
namespace {

int32_t device_count(int32_t * out_count, char * error, size_t error_capacity) {
    if (out_count == nullptr)
        return report_message(status_invalid_argument, "CUDA backend: out_count is NULL", error,
                              error_capacity);
    int count = 0;
    // Without a driver or a GPU this is an error ("CUDA driver version is
    // insufficient", "no CUDA-capable device"), not 0: both mean no device.
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        (void)cudaGetLastError();
        count = 0;
    }
    *out_count = count;
    return status_ok;
}

// The common frame of both losses: device, reduction scratch and count,
// the row kernels (launch_rows(row_losses, grad_scale, stream)), the final
// reduction, and the error report.
template <class LaunchRows>
int32_t run_loss(const kd_loss_params * params, distill_cuda_loss_output output,
                 const void * labels, int32_t device_id, void * stream_handle, char * error,
                 size_t error_capacity, const char * op_name, LaunchRows && launch_rows) {
    try {
        if (params == nullptr || output.loss_out == nullptr || output.reduction < 0 ||
            output.reduction > 2)
            return report_message(status_invalid_argument,
                                  "CUDA backend: expected parameters, a loss buffer and a "
                                  "reduction in [0, 2]",
                                  error, error_capacity);
        const device_scope scope(device_id);
        if (scope.status() != cudaSuccess)
            return report_cuda(scope.status(), "selecting the device", error, error_capacity);
        // A stale, non-sticky error from unrelated earlier work on this
        // thread would otherwise be reported as this call's launch failure.
        (void)cudaGetLastError();

        const auto stream = static_cast<cudaStream_t>(stream_handle);
        const auto reduction = static_cast<reduction_kind>(output.reduction);
        reduction_buffers buffers;
        const char * failed = "preparing the reduction (cudaMallocAsync, row count)";
        cudaError_t result = begin_reduction(&buffers, output.loss_out, reduction, labels,
                                             make_row_constants(*params), stream);
        bool rows_enqueued = false;
        if (result == cudaSuccess) {
            result = launch_rows(buffers.row_losses, buffers.grad_scale, stream);
            rows_enqueued = result == cudaSuccess;
            failed = op_name;
        }
        const cudaError_t finished =
            finish_reduction(buffers, output.loss_out, params->rows, rows_enqueued, stream);
        if (result == cudaSuccess && finished != cudaSuccess) {
            result = finished;
            failed = "reducing the loss (or cudaFreeAsync)";
        }
        if (result != cudaSuccess) return report_cuda(result, failed, error, error_capacity);
        return status_ok;
    } catch (const std::exception & e) {
        return report_message(status_internal, e.what(), error, error_capacity);
    } catch (...) {
        return report_message(status_internal, "CUDA backend: unknown C++ exception", error,
                              error_capacity);
    }
}

int32_t kd_loss_dense(const kd_loss_params * params, distill_cuda_loss_output output, void * grad,
                      const void * student, const void * teacher, const void * labels,
                      int32_t device_id, void * stream, char * error, size_t error_capacity) {
    return run_loss(params, output, labels, device_id, stream, error, error_capacity,
                    "the dense kd-loss kernel",
                    [&](float * row_losses, const float * grad_scale, cudaStream_t s) {
                        return launch_kd_loss_dense(row_losses, grad, student, teacher, labels,
                                                    *params, grad_scale, s);
                    });
}

int32_t kd_loss_topk(const kd_loss_params * params, distill_cuda_loss_output output, void * grad,
                     const void * student, const void * topk_ids, const void * topk_logprobs,
                     const void * labels, int32_t device_id, void * stream, char * error,
                     size_t error_capacity) {
    return run_loss(params, output, labels, device_id, stream, error, error_capacity,
                    "the top-k kd-loss kernel",
                    [&](float * row_losses, const float * grad_scale, cudaStream_t s) {
                        return launch_kd_loss_topk(row_losses, grad, student, topk_ids,
                                                   topk_logprobs, labels, *params, grad_scale, s);
                    });
}

// Designated, so that two entries of the same type cannot be swapped
// silently (bias_add and bias_grad, for one).
const distill_cuda_backend_v1 backend_table{
    .api_version = DISTILL_CUDA_BACKEND_API_VERSION,
    .device_count = &device_count,
    .kd_loss_dense = &kd_loss_dense,
    .kd_loss_topk = &kd_loss_topk,
    .session_create = &session_create,
    .session_destroy = &session_destroy,
    .memory_alloc = &memory_alloc,
    .memory_free = &memory_free,
    .copy = &copy,
    .synchronize = &synchronize,
    .gemm = &gemm,
    .bias_add = &bias_add,
    .bias_grad = &bias_grad,
    .activation_forward = &activation_forward,
    .activation_backward = &activation_backward,
    .dropout = &dropout,
    .conv2d_forward = &conv2d_forward,
    .conv2d_backward = &conv2d_backward,
    .maxpool2d_forward = &maxpool2d_forward,
    .maxpool2d_backward = &maxpool2d_backward,
    .fill = &fill,
    .embedding_forward = &embedding_forward,
    .embedding_backward = &embedding_backward,
    .rmsnorm_forward = &rmsnorm_forward,
    .rmsnorm_backward = &rmsnorm_backward,
    .rope = &rope,
    .swiglu_forward = &swiglu_forward,
    .swiglu_backward = &swiglu_backward,
    .attention_forward = &attention_forward,
    .attention_backward = &attention_backward,
    .cross_entropy = &cross_entropy,
};

}  // namespace
}  // namespace distill::kernels::cuda

// The entry point, looked up by name (DISTILL_CUDA_BACKEND_ENTRY) by
// core/backend/cuda_backend_loader.cpp. The table is static: never freed.
extern "C" __attribute__((visibility("default"))) const distill_cuda_backend_v1 *
distill_cuda_backend_v1(void) {
    return &distill::kernels::cuda::backend_table;
}
