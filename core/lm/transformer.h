// A transformer student: a decoder-only language model of the Llama
// architecture (lm/transformer_config.h), on the CPU, its parameters and
// their gradients each in one contiguous buffer, as the other students.
//
// The parameters carry the names and shapes of transformers'
// LlamaForCausalLM state_dict, in its order, each row-major (a Linear
// weight is [out, in]), so a safetensors file of them loads there with
// load_state_dict (tests/lm/make_llama_reference.py):
//
//   model.embed_tokens.weight                        [V, C]
//   per layer i, prefix model.layers.i.:
//     self_attn.q_proj.weight                        [H · D, C]
//     self_attn.k_proj.weight, self_attn.v_proj.weight [KV · D, C]
//     self_attn.o_proj.weight                        [C, H · D]
//     mlp.gate_proj.weight, mlp.up_proj.weight       [F, C]
//     mlp.down_proj.weight                           [C, F]
//     input_layernorm.weight, post_attention_layernorm.weight [C]
//   model.norm.weight                                [C]
//   lm_head.weight                                   [V, C]  (absent when tied)
//
// The forward of one decoder layer, x [N, C] the residual stream (N = B · T):
//   a = rmsnorm(x) · input_layernorm
//   q, k, v = a · q_projᵀ, a · k_projᵀ, a · v_projᵀ; q, k turned by RoPE
//   x = x + attention(q, k, v) · o_projᵀ        (causal, grouped-query)
//   m = rmsnorm(x) · post_attention_layernorm
//   x = x + (silu(m · gate_projᵀ) · (m · up_projᵀ)) · down_projᵀ
// then logits = (rmsnorm(x) · norm) · lm_headᵀ (embed_tokens when tied).
//
// Initialisation as transformers' (initializer_range 0.02): every matrix
// and the embedding normal(0, 0.02), the norms 1; drawn tensor by tensor
// in table order from a splitmix64 stream of the seed.
//
// T = float is the student; T = double exists for the finite-difference
// tests. Not thread-safe: one caller at a time (each call uses OpenMP's
// threads itself); results are the same bits for any thread count.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "lm/cross_entropy.h"
#include "lm/transformer_config.h"
#include "students/model.h"

namespace distill::lm {

// Where one decoder layer's tensors are in the parameter buffer.
struct transformer_layer_offsets {
    int64_t q, k, v, o, gate, up, down, input_norm, post_attention_norm;
};

template <class T>
class basic_transformer {
public:
    // Throws distill::error for an invalid config (validate's checks).
    basic_transformer(const transformer_config & config, uint64_t seed);

    const transformer_config & config() const { return config_; }
    int64_t parameter_count() const { return static_cast<int64_t>(parameters_.size()); }
    std::span<T> parameters() { return parameters_; }
    std::span<const T> parameters() const { return parameters_; }
    std::span<T> gradients() { return gradients_; }
    std::span<const T> gradients() const { return gradients_; }
    const std::vector<parameter_info> & parameter_table() const { return table_; }
    // The tensor named `name` (a Hugging Face name above), or null.
    const parameter_info * find(std::string_view name) const;

    // tokens[B, T_] (ids in [0, vocab), 1 ≤ T_ ≤ context) → the logits
    // [B, T_, vocab], held by the model until the next forward; position t
    // of a sequence sees its tokens 0 … t. Keeps what backward needs.
    std::span<const T> forward(const int32_t * tokens, int64_t B, int64_t T_);

    // d_logits[B, T_, vocab], the loss gradient for the logits of the last
    // forward (it may be writable_logits(): the backward never reads the
    // logits); OVERWRITES gradients() with the gradient of the loss for
    // every parameter.
    void backward(const T * d_logits);

    // The last forward's logits, writable (empty before a forward): a loss
    // may overwrite them with their gradient and hand that to backward, so
    // that no second [B, T_, vocab] buffer is needed. The logits are then
    // gone until the next forward.
    std::span<T> writable_logits() {
        if (!have_forward_) return {};
        return {logits_.data(), size_t(batch_ * length_ * config_.vocab)};
    }

    // forward, the mean cross-entropy against targets[B, T_] (token ids, or
    // −100 for none; lm/cross_entropy.h), and backward: returns the loss.
    // The gradient of the logits takes their place (writable_logits()).
    double train_step(const int32_t * tokens, const int32_t * targets, int64_t B, int64_t T_);

private:
    int64_t add_parameter(std::string name, std::vector<int64_t> shape);
    void initialise(uint64_t seed);
    void reserve(int64_t B, int64_t T_);

    transformer_config config_;
    std::vector<parameter_info> table_;
    int64_t embed_ = 0, final_norm_ = 0, lm_head_ = 0;  // offsets (lm_head_ = embed_ when tied)
    std::vector<transformer_layer_offsets> layers_;
    std::vector<T> parameters_, gradients_;

    // What the forward keeps for the backward, for N = B · T_ positions
    // (per layer l, laid out one layer after another):
    int64_t batch_ = 0, length_ = 0, capacity_ = 0;  // the last forward's B, T_; the buffers' N
    std::vector<int32_t> tokens_;            // [N]
    std::vector<T> rope_cos_, rope_sin_;     // [context, D/2]
    std::vector<T> residual_;                // [L + 1, N, C]: the input of layer l; [L] the last output
    std::vector<T> input_normed_;            // [L, N, C]
    std::vector<T> input_rstd_;              // [L, N]
    std::vector<T> q_;                       // [L, N, H · D], after RoPE
    std::vector<T> k_, v_;                   // [L, N, KV · D], k after RoPE
    std::vector<T> attention_;               // [L, N, H · D]: attention's output
    std::vector<T> lse_;                     // [L, B, H, T]
    std::vector<T> middle_;                  // [L, N, C]: x after the attention's residual add
    std::vector<T> post_normed_;             // [L, N, C]
    std::vector<T> post_rstd_;               // [L, N]
    std::vector<T> gate_, up_, gated_;       // [L, N, F]: gate, up, silu(gate) · up
    std::vector<T> final_normed_;            // [N, C]
    std::vector<T> final_rstd_;              // [N]
    std::vector<T> logits_;                  // [N, V] (train_step: then their gradient)
    // The backward's scratch.
    std::vector<T> d_residual_, d_normed_;      // [N, C]
    std::vector<T> d_attention_, d_q_;          // [N, H · D]
    std::vector<T> d_k_, d_v_;                  // [N, KV · D]
    std::vector<T> d_gate_, d_up_, d_gated_;    // [N, F]
    std::vector<T> row_dot_;                    // [B, H, T]
    bool have_forward_ = false;
};

using transformer = basic_transformer<float>;

}  // namespace distill::lm
