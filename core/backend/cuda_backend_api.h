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
// backend built against another version. 2: the student primitives;
// 3: the transformer primitives appended after them.
#define DISTILL_CUDA_BACKEND_API_VERSION 3u
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

    // ---- Transformer primitives (API 3): what core/lm/device_transformer.cpp
    // runs the Llama-architecture student with, each the device twin of a
    // CPU function of core/lm (named below), with its buffer shapes. Same
    // rules as the student primitives: fp32 (token ids and targets int32),
    // row-major, contiguous, device memory of the session's device,
    // enqueued on the session's stream. Values the kernels cannot refuse
    // (token ids, targets) are the caller's to check on the host; an id out
    // of range gives NaN rather than reading outside the buffer.
    // Dimensions: N positions (B sequences of T), C width, V vocabulary,
    // H query heads, KV key/value heads (H % KV == 0), D values per head.

    // values[i] = value for i in [0, n).
    int32_t (*fill)(void * session, float * values, float value, int64_t n, char * error,
                    size_t error_capacity);

    // lm/embedding.h. forward: out[n, :] = table[tokens[n], :]; out [N, C],
    // table [V, C] (an id outside [0, V) gives a NaN row).
    int32_t (*embedding_forward)(void * session, float * out, const int32_t * tokens,
                                 const float * table, int64_t N, int64_t C, int64_t V,
                                 char * error, size_t error_capacity);
    // backward: d_table[tokens[n], :] += d_out[n, :] for every n, ADDED to
    // d_table's contents (a tied lm_head's gradient is there already).
    // `order` [N] is a permutation of [0, N) that lists the positions
    // grouped by token id (each id's positions consecutive, e.g. sorted by
    // (id, position): the host has the ids); each id's rows are summed in
    // that order by one thread per column, so the result is the same bits
    // on every run, without atomics. An order that is not such a grouping
    // gives undefined sums.
    int32_t (*embedding_backward)(void * session, float * d_table, const float * d_out,
                                  const int32_t * tokens, const int32_t * order, int64_t N,
                                  int64_t C, int64_t V, char * error, size_t error_capacity);

    // lm/rmsnorm.h. forward: rstd[n] = 1 / √(mean_c inp[n, c]² + eps) (the
    // sum in fp64), out[n, c] = weight[c] · (inp[n, c] · rstd[n]);
    // out, inp [N, C], rstd [N], weight [C].
    int32_t (*rmsnorm_forward)(void * session, float * out, float * rstd, const float * inp,
                               const float * weight, int64_t N, int64_t C, double eps,
                               char * error, size_t error_capacity);
    // backward: d_inp [N, C] gets the input's gradient, added to its
    // contents when accumulate = 1 (the residual stream's gradient),
    // overwritten when 0; d_weight [C] is overwritten, each column summed
    // over the rows in a fixed order.
    int32_t (*rmsnorm_backward)(void * session, float * d_inp, float * d_weight,
                                const float * d_out, const float * inp, const float * rstd,
                                const float * weight, int64_t N, int64_t C, int32_t accumulate,
                                char * error, size_t error_capacity);

    // lm/rope.h, in place: x [B, T, NH, D] turned by cos, sin [≥ T, D/2]
    // (lm::rope_tables of the host, uploaded): rotate_half pairs i and
    // i + D/2, position t of a sequence at angle row t. inverse = 0: the
    // rotation (rope_forward); 1: its transpose (rope_backward, on a
    // gradient). D even.
    int32_t (*rope)(void * session, float * x, const float * cos, const float * sin, int64_t B,
                    int64_t T, int64_t NH, int64_t D, int32_t inverse, char * error,
                    size_t error_capacity);

    // lm/swiglu.h over n values: out = silu(gate) · up; backward overwrites
    // d_gate and d_up.
    int32_t (*swiglu_forward)(void * session, float * out, const float * gate, const float * up,
                              int64_t n, char * error, size_t error_capacity);
    int32_t (*swiglu_backward)(void * session, float * d_gate, float * d_up, const float * d_out,
                               const float * gate, const float * up, int64_t n, char * error,
                               size_t error_capacity);

    // lm/attention.h: causal grouped-query attention, query head h reading
    // key/value head h / (H / KV); q, out, d_q, d_out [B, T, H, D]; k, v,
    // d_k, d_v [B, T, KV, D]; lse, row_dot [B, H, T]. D even, at most 256.
    // A FlashAttention-2 scheme: a block per tile of queries, keys through
    // shared memory, an online softmax; no T × T matrix. forward writes out
    // and lse (the per-row log Σ exp of the scores q · k / √D).
    int32_t (*attention_forward)(void * session, float * out, float * lse, const float * q,
                                 const float * k, const float * v, int64_t B, int64_t T,
                                 int64_t H, int64_t KV, int64_t D, char * error,
                                 size_t error_capacity);
    // backward overwrites d_q, d_k, d_v (and row_dot, its scratch: Σ_d d_out ·
    // out per row), recomputing the probabilities from q, k and lse: d_q
    // by query tiles, d_k and d_v by key tiles over the group's query
    // heads, each value summed by one thread in a fixed order (no atomics).
    int32_t (*attention_backward)(void * session, float * d_q, float * d_k, float * d_v,
                                  float * row_dot, const float * d_out, const float * out,
                                  const float * lse, const float * q, const float * k,
                                  const float * v, int64_t B, int64_t T, int64_t H, int64_t KV,
                                  int64_t D, char * error, size_t error_capacity);

    // lm/cross_entropy.h: loss_out [1] = the mean over the rows whose target
    // is not −100 of logsumexp(logits[n]) − logits[n, targets[n]] (0 when
    // none is; rows summed in fp64 in a fixed order), and unless d_logits
    // is NULL, d_logits [N, V] = (softmax(logits[n]) − onehot(targets[n])) /
    // count, zero on ignored rows. logits [N, V], targets [N]; a target
    // outside [0, V) other than −100 makes the loss NaN.
    int32_t (*cross_entropy)(void * session, float * loss_out, float * d_logits,
                             const float * logits, const int32_t * targets, int64_t N, int64_t V,
                             char * error, size_t error_capacity);
};

typedef const distill_cuda_backend_v1 * (*distill_cuda_backend_entry_fn)(void);

}  // extern "C"
