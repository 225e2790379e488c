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

#include "../kernels/kd_loss_params.h"

extern "C" {

// Bumped when the table's layout or meaning changes; the loader refuses a
// backend built against another version.
#define DISTILL_CUDA_BACKEND_API_VERSION 1u
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
};

typedef const distill_cuda_backend_v1 * (*distill_cuda_backend_entry_fn)(void);

}  // extern "C"
