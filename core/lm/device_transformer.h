// The transformer student (lm/transformer.h) run on a GPU through the CUDA
// backend's primitives (backend/cuda_backend_api.h: the transformer
// primitives of API 3 and the cuBLAS gemm). No CUDA code here: it calls the
// function table, so the same code runs against the real backend or the
// host emulation of it (tests/core/emulated_cuda_backend.h).
//
// Who owns what, as for the other students (students/device_student.h):
// the host lm::transformer owns the parameters. upload_parameters() copies
// them to the device (after each host optimiser step); backward() leaves
// the gradients on the device and downloads them into the host model's
// gradients(), where the host optimiser, clipping, checkpoints and
// evaluation find them as after a CPU step. A step moves 2 × the
// parameter bytes over PCIe (a 50M-parameter student: 400 MB, ~15 ms on
// PCIe 5), plus the tokens, targets and the loss.
//
// The forward and backward are the CPU's (lm/transformer.cpp) layer by
// layer, with the same buffers on the device:
//   Dimensions: N = B · T positions, C dim, F ffn, V vocab, L layers,
//               H heads, KV kv_heads, D head_dim, QW = H · D, KW = KV · D
//   parameters, gradients [P]      the host model's table and order
//   rope cos, sin         [context, D/2]   lm::rope_tables on the host, uploaded once
//   tokens, order         int32 [N]        the ids; the positions grouped by id
//   targets               int32 [N]        train_step's
//   residual              [L + 1, N, C]    the input of layer l; [L] the last output
//   input_normed, middle, post_normed [L, N, C];  input_rstd, post_rstd [L, N]
//   q [L, N, QW] (after RoPE); k, v [L, N, KW]; attention [L, N, QW]; lse [L, H, N]
//   gate, up, gated       [L, N, F]
//   final_normed [N, C]; final_rstd [N]; logits, d_logits [N, V]
//   scratch: d_residual, d_normed [N, C]; d_attention, d_q [N, QW];
//            d_k, d_v [N, KW]; d_gate, d_up, d_gated [N, F]; row_dot [H, N]; loss [1]
// grown with N (never shrunk).
//
// Results match the CPU model to fp32 rounding (cuBLAS without TF32 sums
// in another order; tests/core/test_cuda_lm.cpp bounds it), and are the
// same bits run to run (no atomics anywhere).
//
// Not thread-safe: one caller at a time, as the host model.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/context.h"
#include "lm/transformer.h"
#include "students/device_student.h"

namespace distill::lm {

class device_transformer {
public:
    // The host model must outlive this object. Makes a session on the
    // context's device (throws distill::error(unsupported) for a CPU
    // context or one without a backend), allocates the parameters and
    // gradients and uploads the RoPE tables; activations come with the
    // first forward. Does not upload the parameters (upload_parameters).
    device_transformer(const context & ctx, transformer & host);
    ~device_transformer();
    device_transformer(const device_transformer &) = delete;
    device_transformer & operator=(const device_transformer &) = delete;

    const transformer & host() const { return host_; }

    // host.parameters() → the device.
    void upload_parameters();

    // host_tokens[B, T] (host memory; checked as transformer::forward
    // checks them, with its messages) → the logits [B, T, V] on the
    // device, valid until the next forward; keeps what backward needs.
    const float * forward(const int32_t * host_tokens, int64_t B, int64_t T);

    // The logits of the last forward → host_out[B · T · V] (waits).
    void download_logits(float * host_out);

    // device_d_logits[B, T, V] (device memory; it may be the model's own
    // d_logits buffer), the loss gradient for the logits of the last
    // forward. Overwrites the device gradients of every parameter, then
    // downloads them into host.gradients().
    void backward(const float * device_d_logits);
    // The same from host memory (e.g. a host-side distillation loss's
    // gradient): uploads it into the d_logits buffer first.
    void backward_from_host(const float * host_d_logits);

    // transformer::train_step on the device: uploads the parameters (the
    // host optimiser has changed them) and host_targets[B, T] (token ids,
    // or −100 for none; refused naming the position otherwise), runs the
    // forward, the mean cross-entropy and its gradient on the device, and
    // the backward (host.gradients() filled); returns the loss.
    double train_step(const int32_t * host_tokens, const int32_t * host_targets, int64_t B,
                      int64_t T);

    // Device pointers, for callers that run more on the device (a device
    // loss): the parameters and gradients [P], d_logits [N, V] of the
    // current capacity.
    const float * device_parameters() const { return parameters_.as<float>(); }
    const float * device_gradients() const { return gradients_.as<float>(); }
    float * device_d_logits() const { return d_logits_.as<float>(); }

    device_session & session() { return session_; }

private:
    void reserve(int64_t N);
    void run_backward(const float * d_logits);

    transformer & host_;
    transformer_config config_;
    std::vector<transformer_layer_offsets> layers_;
    int64_t embed_ = 0, final_norm_ = 0, lm_head_ = 0;
    device_session session_;  // first: destroyed after the buffers
    device_buffer parameters_, gradients_, rope_cos_, rope_sin_;
    device_buffer tokens_, order_, targets_;
    device_buffer residual_, input_normed_, input_rstd_, q_, k_, v_, attention_, lse_;
    device_buffer middle_, post_normed_, post_rstd_, gate_, up_, gated_;
    device_buffer final_normed_, final_rstd_, logits_, d_logits_;
    device_buffer d_residual_, d_normed_, d_attention_, d_q_, d_k_, d_v_;
    device_buffer d_gate_, d_up_, d_gated_, row_dot_, loss_;
    std::vector<int32_t> host_order_;
    int64_t capacity_ = 0;         // the N the buffers hold
    int64_t batch_ = 0, length_ = 0;  // the last forward's B, T
    bool have_forward_ = false;
};

}  // namespace distill::lm
