// The student primitives of the backend table (API 2), as cuda_backend.cu
// puts them in the table. Their meaning, arguments and shapes are written
// once, in core/backend/cuda_backend_api.h; the files that implement them:
//   student_session.cu      session_create/destroy, memory, copy, synchronize
//   student_gemm.cu         gemm (cuBLAS)
//   student_elementwise.cu  bias_add, bias_grad, activation_forward/backward
//   student_dropout.cu      dropout
//   student_conv.cu         conv2d_forward/backward (cuDNN)
//   student_maxpool.cu      maxpool2d_forward/backward
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace distill::kernels::cuda {

int32_t session_create(int32_t device_id, void * stream, void ** out_session, char * error,
                       size_t error_capacity);
void session_destroy(void * session);
int32_t memory_alloc(void * session, size_t bytes, void ** out, char * error,
                     size_t error_capacity);
void memory_free(void * session, void * pointer);
int32_t copy(void * session, void * destination, const void * source, size_t bytes,
             int32_t direction, char * error, size_t error_capacity);
int32_t synchronize(void * session, char * error, size_t error_capacity);

int32_t gemm(void * session, int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k,
             float alpha, const float * a, int64_t lda, const float * b, int64_t ldb, float beta,
             float * c, int64_t ldc, char * error, size_t error_capacity);

int32_t bias_add(void * session, float * values, const float * bias, int64_t outer,
                 int64_t channels, int64_t inner, char * error, size_t error_capacity);
int32_t bias_grad(void * session, float * d_bias, const float * d_values, int64_t outer,
                  int64_t channels, int64_t inner, char * error, size_t error_capacity);
int32_t activation_forward(void * session, int32_t activation, float * out, const float * in,
                           int64_t n, char * error, size_t error_capacity);
int32_t activation_backward(void * session, int32_t activation, float * d_in, const float * d_out,
                            const float * in, int64_t n, char * error, size_t error_capacity);

int32_t dropout(void * session, float * out, const float * in, int64_t n, double p, uint64_t seed,
                char * error, size_t error_capacity);

int32_t conv2d_forward(void * session, const int64_t dims[8], float * out, const float * in,
                       const float * weight, const float * bias, char * error,
                       size_t error_capacity);
int32_t conv2d_backward(void * session, const int64_t dims[8], float * d_in, float * d_weight,
                        float * d_bias, const float * d_out, const float * in, const float * weight,
                        char * error, size_t error_capacity);

int32_t maxpool2d_forward(void * session, float * out, int32_t * argmax, const float * in,
                          int64_t N, int64_t C, int64_t H, int64_t W, char * error,
                          size_t error_capacity);
int32_t maxpool2d_backward(void * session, float * d_in, const float * d_out,
                           const int32_t * argmax, int64_t N, int64_t C, int64_t H, int64_t W,
                           char * error, size_t error_capacity);

// bias_add / bias_grad without the argument checks, for the convolution
// (which has checked its own sizes): launch on `stream`, return the
// launch's status.
int32_t launch_bias_add(float * values, const float * bias, int64_t outer, int64_t channels,
                        int64_t inner, cudaStream_t stream, char * error, size_t error_capacity);
int32_t launch_bias_grad(float * d_bias, const float * d_values, int64_t outer, int64_t channels,
                         int64_t inner, cudaStream_t stream, char * error, size_t error_capacity);

}  // namespace distill::kernels::cuda
