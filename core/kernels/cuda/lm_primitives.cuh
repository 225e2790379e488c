// The transformer primitives of the backend table (API 3), as cuda_backend.cu
// puts them in the table. Their meaning, arguments and shapes are written
// once, in core/backend/cuda_backend_api.h (each the twin of a CPU function
// of core/lm); the files that implement them:
//   lm_elementwise.cu    fill, embedding_forward/backward, rope, swiglu_forward/backward
//   lm_rmsnorm.cu        rmsnorm_forward/backward
//   lm_attention.cu      attention_forward/backward (FlashAttention-2 style)
//   lm_cross_entropy.cu  cross_entropy
#pragma once

#include <cstddef>
#include <cstdint>

namespace distill::kernels::cuda {

int32_t fill(void * session, float * values, float value, int64_t n, char * error,
             size_t error_capacity);
int32_t embedding_forward(void * session, float * out, const int32_t * tokens, const float * table,
                          int64_t N, int64_t C, int64_t V, char * error, size_t error_capacity);
int32_t embedding_backward(void * session, float * d_table, const float * d_out,
                           const int32_t * tokens, const int32_t * order, int64_t N, int64_t C,
                           int64_t V, char * error, size_t error_capacity);
int32_t rmsnorm_forward(void * session, float * out, float * rstd, const float * inp,
                        const float * weight, int64_t N, int64_t C, double eps, char * error,
                        size_t error_capacity);
int32_t rmsnorm_backward(void * session, float * d_inp, float * d_weight, const float * d_out,
                         const float * inp, const float * rstd, const float * weight, int64_t N,
                         int64_t C, int32_t accumulate, char * error, size_t error_capacity);
int32_t rope(void * session, float * x, const float * cos, const float * sin, int64_t B, int64_t T,
             int64_t NH, int64_t D, int32_t inverse, char * error, size_t error_capacity);
int32_t swiglu_forward(void * session, float * out, const float * gate, const float * up,
                       int64_t n, char * error, size_t error_capacity);
int32_t swiglu_backward(void * session, float * d_gate, float * d_up, const float * d_out,
                        const float * gate, const float * up, int64_t n, char * error,
                        size_t error_capacity);
int32_t attention_forward(void * session, float * out, float * lse, const float * q,
                          const float * k, const float * v, int64_t B, int64_t T, int64_t H,
                          int64_t KV, int64_t D, char * error, size_t error_capacity);
int32_t attention_backward(void * session, float * d_q, float * d_k, float * d_v, float * row_dot,
                           const float * d_out, const float * out, const float * lse,
                           const float * q, const float * k, const float * v, int64_t B,
                           int64_t T, int64_t H, int64_t KV, int64_t D, char * error,
                           size_t error_capacity);
int32_t cross_entropy(void * session, float * loss_out, float * d_logits, const float * logits,
                      const int32_t * targets, int64_t N, int64_t V, char * error,
                      size_t error_capacity);

}  // namespace distill::kernels::cuda
