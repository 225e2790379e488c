// The boundary between libdistill.so and the on-demand CUDA backend
// libdistill_cuda.so. libdistill.so dlopen()s the backend only when a
// context asks for a GPU, looks up DISTILL_CUDA_BACKEND_ENTRY and calls it
// for this table; so libdistill.so itself never links libcudart.
//
// Every function returns 0 on success, or a distill_status value with a
// NUL-terminated message written into `error` (capacity `error_capacity`).
// Device pointers are plain void*; streams are cudaStream_t as void*.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/kd_loss_params.h"

extern "C" {

// Bumped when the table's layout or meaning changes; the loader refuses a
// backend built against another version. 2: the student primitives.
#define DISTILL_CUDA_BACKEND_API_VERSION 2u
#define DISTILL_CUDA_BACKEND_ENTRY "distill_cuda_backend_v1"

// Where the loss of one call goes, on the device.
//   loss_out: fp32, [1] for reduction sum/batchmean (0 and 1 as in
//   distill_reduction), [N] for none (2).
struct distill_cuda_loss_output {
    float * loss_out;
    int32_t reduction;
};

struct distill_cuda_backend_v1 {
    uint32_t api_version;  // DISTILL_CUDA_BACKEND_API_VERSION

    // Number of devices; an error from the CUDA runtime (no driver, no GPU)
    // is reported as 0 devices, not as a failure.
    int32_t (*device_count)(int32_t * out_count, char * error, size_t error_capacity);

    // Dense teacher. student/grad: [N, V] of params->student_type (grad may
    // be NULL); teacher: [N, V] of params->teacher_type; labels: NULL or [N]
    // of params->label_type. Enqueued on `stream`, no host synchronisation.
    int32_t (*kd_loss_dense)(const distill::kernels::kd_loss_params * params,
                             distill_cuda_loss_output output, void * grad, const void * student,
                             const void * teacher, const void * labels, int32_t device_id,
                             void * stream, char * error, size_t error_capacity);

    // Top-k teacher. ids: [N, K] of params->topk_id_type; logprobs: [N, K]
    // of params->teacher_type. Other arguments as kd_loss_dense.
    int32_t (*kd_loss_topk)(const distill::kernels::kd_loss_params * params,
                            distill_cuda_loss_output output, void * grad, const void * student,
                            const void * topk_ids, const void * topk_logprobs, const void * labels,
                            int32_t device_id, void * stream, char * error, size_t error_capacity);

    // ---- Student primitives (API 2): what core/students/device_student.cpp
    // runs a built-in student with. All tensors are fp32, row-major and
    // contiguous, in device memory of the session's device. Every call
    // enqueues on the session's stream and returns without synchronising,
    // except copies to the host and synchronize. Sizes are int64 counts of
    // elements; a call with a size of 0 does nothing and succeeds.

    // A session: the device, the caller's stream, and what the primitives
    // keep between calls (the cuBLAS and cuDNN handles, cuDNN workspace).
    // cuBLAS and cuDNN are loaded on the first session (dlopen), so the
    // loss functions above work without them; a session fails with a
    // message naming the library that is missing. One thread at a time per
    // session. session_destroy(NULL) does nothing.
    int32_t (*session_create)(int32_t device_id, void * stream, void ** out_session, char * error,
                              size_t error_capacity);
    void (*session_destroy)(void * session);

    // Device memory for the session's device. memory_free(s, NULL) does nothing.
    int32_t (*memory_alloc)(void * session, size_t bytes, void ** out, char * error,
                            size_t error_capacity);
    void (*memory_free)(void * session, void * pointer);
    // direction: 0 host → device, 1 device → host, 2 device → device. Host
    // memory may be pageable. A copy to the host has finished when the call
    // returns (it synchronises the stream); the others are enqueued.
    int32_t (*copy)(void * session, void * destination, const void * source, size_t bytes,
                    int32_t direction, char * error, size_t error_capacity);
    // Waits for everything enqueued on the session's stream.
    int32_t (*synchronize)(void * session, char * error, size_t error_capacity);

    // C[m, n] = alpha · op(A) · op(B) + beta · C, ROW-major (cuBLAS is
    // column-major: the backend maps it). op(A) is [m, k]: A is [m, k] with
    // leading dimension lda (≥ k) when trans_a = 0, [k, m] with lda ≥ m when
    // trans_a = 1; op(B) [k, n] likewise (ldb); ldc ≥ n. beta = 0 ignores C's
    // old contents (NaN included). The result is fp32 accumulated in fp32
    // (no TF32), so that it matches the CPU to rounding.
    int32_t (*gemm)(void * session, int32_t trans_a, int32_t trans_b, int64_t m, int64_t n,
                    int64_t k, float alpha, const float * a, int64_t lda, const float * b,
                    int64_t ldb, float beta, float * c, int64_t ldc, char * error,
                    size_t error_capacity);

    // values viewed as [outer, channels, inner]:
    //   values[o, c, i] += bias[c]           (a linear layer: inner = 1;
    //                                         a convolution: inner = OH·OW)
    int32_t (*bias_add)(void * session, float * values, const float * bias, int64_t outer,
                        int64_t channels, int64_t inner, char * error, size_t error_capacity);
    //   d_bias[c] = Σ_o Σ_i d_values[o, c, i]  (overwritten)
    int32_t (*bias_grad)(void * session, float * d_bias, const float * d_values, int64_t outer,
                         int64_t channels, int64_t inner, char * error, size_t error_capacity);

    // activation: 0 ReLU, 1 GELU (exact erf form, as nn.GELU()), elementwise
    // over n values: out = f(in); d_in = d_out · f'(in) with ReLU's
    // f'(0) = 0 as in PyTorch.
    int32_t (*activation_forward)(void * session, int32_t activation, float * out,
                                  const float * in, int64_t n, char * error,
                                  size_t error_capacity);
    int32_t (*activation_backward)(void * session, int32_t activation, float * d_in,
                                   const float * d_out, const float * in, int64_t n, char * error,
                                   size_t error_capacity);

    // Inverted dropout, the CPU's mask bit for bit
    // (core/students/layers/dropout.h): out[i] = in[i] · (1 / (1 − p)) when
    // dropout_keeps(seed, i, dropout_threshold(p)), else 0, the scale
    // rounded once to fp32. The same call is forward (in = x) and backward
    // (in = d_out). p in [0, 1).
    int32_t (*dropout)(void * session, float * out, const float * in, int64_t n, double p,
                       uint64_t seed, char * error, size_t error_capacity);

    // Convolution, NCHW, stride 1, zero padding `padding` on every side, as
    // core/students/layers/conv2d.h; through cuDNN (fp32 math, no TF32).
    //   dims: {N, C, H, W, OC, KH, KW, P}; OH = H + 2P − KH + 1, OW likewise.
    //   forward: out[N, OC, OH, OW] = in[N, C, H, W] ⋆ weight[OC, C, KH, KW] + bias[OC]
    //   backward: overwrites d_weight and d_bias, and d_in unless it is NULL.
    int32_t (*conv2d_forward)(void * session, const int64_t dims[8], float * out,
                              const float * in, const float * weight, const float * bias,
                              char * error, size_t error_capacity);
    int32_t (*conv2d_backward)(void * session, const int64_t dims[8], float * d_in,
                               float * d_weight, float * d_bias, const float * d_out,
                               const float * in, const float * weight, char * error,
                               size_t error_capacity);

    // 2 × 2 max pooling, stride 2, floor mode, as
    // core/students/layers/maxpool2d.h: out[N, C, H/2, W/2]; argmax holds the
    // winner's index h·W + w in its H × W plane (the first in row order on
    // ties; a NaN wins). backward overwrites all of d_in[N, C, H, W].
    int32_t (*maxpool2d_forward)(void * session, float * out, int32_t * argmax, const float * in,
                                 int64_t N, int64_t C, int64_t H, int64_t W, char * error,
                                 size_t error_capacity);
    int32_t (*maxpool2d_backward)(void * session, float * d_in, const float * d_out,
                                  const int32_t * argmax, int64_t N, int64_t C, int64_t H,
                                  int64_t W, char * error, size_t error_capacity);
};

typedef const distill_cuda_backend_v1 * (*distill_cuda_backend_entry_fn)(void);

}  // extern "C"
