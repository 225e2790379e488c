// The description of a transformer student: a decoder-only language model
// of the Llama architecture (transformers' LlamaForCausalLM), read from and
// written to JSON by the same route as the other students' configs:
//
//   {"kind": "transformer", "vocab": 32000, "dim": 512, "layers": 8,
//    "heads": 8, "kv_heads": 4, "ffn": 1376, "context": 1024,
//    "rms_norm_eps": 1e-5, "rope_theta": 10000, "tie_embeddings": false}
//
// Required: kind, vocab, dim, layers, heads, ffn, context. Optional, with
// their defaults: "kv_heads": heads (no grouping), "rms_norm_eps": 1e-5,
// "rope_theta": 10000, "tie_embeddings": false.
//
// The matching Hugging Face config.json fields: vocab_size, hidden_size,
// num_hidden_layers, num_attention_heads, num_key_value_heads,
// intermediate_size, max_position_embeddings, rms_norm_eps,
// rope_parameters.rope_theta (rope_theta before transformers 5),
// tie_word_embeddings; head_dim = dim / heads, hidden_act "silu".
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace distill::lm {

struct transformer_config {
    int64_t vocab = 0;     // V: token ids are in [0, V)
    int64_t dim = 0;       // C: the width of the residual stream
    int64_t layers = 0;    // L: decoder layers
    int64_t heads = 0;     // H: query heads; head_dim D = C / H
    int64_t kv_heads = 0;  // KV: key/value heads, H / KV query heads share one
    int64_t ffn = 0;       // F: the SwiGLU MLP's inner width
    int64_t context = 0;   // T_max: the longest sequence the model takes
    double rms_norm_eps = 1e-5;
    double rope_theta = 10000.0;
    bool tie_embeddings = false;  // lm_head shares model.embed_tokens.weight

    int64_t head_dim() const { return dim / heads; }
    bool operator==(const transformer_config &) const = default;
};

// Limits: every size, and every activation buffer the model holds for one
// sequence of the full context, fits OpenBLAS's 32-bit sizes.
inline constexpr int64_t max_transformer_width = int64_t{1} << 20;  // vocab, dim, ffn
inline constexpr int64_t max_transformer_layers = 1024;
inline constexpr int64_t max_transformer_context = int64_t{1} << 20;
inline constexpr int64_t max_transformer_head_dim = 1024;
inline constexpr int64_t max_transformer_parameters = (int64_t{1} << 31) - 1;

// Checks every field (unknown keys, types, ranges) and every relation
// between them (heads divide dim, kv_heads divide heads, head_dim even for
// the rotary embedding, the parameter count) and throws distill::error
// (invalid_argument) naming the field ("<what>.heads"), what was expected
// and what was given.
transformer_config parse_transformer_config(const nlohmann::json & json,
                                            const std::string & what = "model_config");

// The checks of parse_transformer_config on a config built in C++.
void validate(const transformer_config & config, const std::string & what = "model_config");

// Every field written out, defaults included; parse_transformer_config of
// it gives back an equal config.
nlohmann::json to_json(const transformer_config & config);

// Weights of a (valid) config: the embedding, per layer four attention and
// three MLP matrices and two norms, the final norm, and lm_head unless tied.
int64_t transformer_parameter_count(const transformer_config & config);

}  // namespace distill::lm
