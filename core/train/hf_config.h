// A transformer student's config as Hugging Face's config.json of a
// LlamaForCausalLM (the "llama" model type of transformers), both ways.
//
// Written (hf_config_json): architectures ["LlamaForCausalLM"], model_type
// "llama", vocab_size, hidden_size, intermediate_size, num_hidden_layers,
// num_attention_heads, num_key_value_heads, head_dim (= hidden / heads),
// max_position_embeddings, rms_norm_eps, tie_word_embeddings, hidden_act
// "silu", attention_bias / mlp_bias false, attention_dropout 0, the rotary
// base both as rope_theta (transformers 4) and rope_parameters {"rope_type":
// "default", "rope_theta"} (transformers 5), dtype / torch_dtype "float32",
// bos_token_id / eos_token_id null (the student knows no such ids; absent,
// transformers would take 1 and 2 and generate() stop at id 2).
//
// Read (parse_hf_config), what a small Llama checkpoint someone already has
// may say:
//   required       vocab_size, hidden_size, intermediate_size,
//                  num_hidden_layers, num_attention_heads (positive integers)
//   optional       num_key_value_heads (default: heads),
//                  max_position_embeddings (2048), rms_norm_eps (1e-6),
//                  rope_parameters.rope_theta or rope_theta (10000),
//                  tie_word_embeddings (false): transformers' defaults
//   must be plain  model_type "llama"; architectures, when given, holding
//                  "LlamaForCausalLM"; hidden_act "silu"; head_dim absent,
//                  null or hidden / heads; attention_bias, mlp_bias false or
//                  absent; attention_dropout 0; rope_scaling null (or
//                  rope_type "default"); rope_parameters.rope_type "default";
//                  no quantization_config
//   ignored        every other key (use_cache, initializer_range, token ids,
//                  pretraining_tp, dtype, transformers_version, ...): they do
//                  not change the logits.
// A field of the wrong JSON type, or a required one missing, is corrupt_file
// (the file is not a config.json of this kind); a well-formed value this
// student cannot represent is unsupported; both name the field and the value.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "lm/transformer_config.h"

namespace distill {

nlohmann::json hf_config_json(const lm::transformer_config & config);

// `source` names the file in errors ("model/config.json").
lm::transformer_config parse_hf_config(const nlohmann::json & json, const std::string & source);

}  // namespace distill
