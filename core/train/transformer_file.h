// A transformer student's weights as one safetensors file: F32 tensors
// with transformers' LlamaForCausalLM names (lm/transformer.h), so
// safetensors.torch.load_file + load_state_dict reads it, and the
// student's JSON config in the metadata ({"format": "distill.checkpoint.v1",
// "config": "<JSON>"}, as a checkpoint's model.safetensors).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "lm/transformer.h"

namespace distill {

void save_transformer_weights(const std::filesystem::path & path, const lm::transformer & model);

// A model of the file's config (or of `config` when given: a file that
// PyTorch wrote has none), with its weights. Every parameter must be there
// once with its shape; a tied model accepts an lm_head.weight equal to the
// embedding (transformers' state_dict holds both) and refuses one that is
// not; any other tensor is refused, by name.
std::shared_ptr<lm::transformer> load_transformer_weights(
    const std::filesystem::path & path, const lm::transformer_config * config = nullptr);

// A model from a model file (as above, its own config) or from a
// transformer trainer's checkpoint directory (hashes checked first).
std::shared_ptr<lm::transformer> load_transformer_model(const std::filesystem::path & path);

// The "kind" of the config stored with a model file or a checkpoint
// directory's model.safetensors ("transformer", "mlp", "cnn"), read from
// the header of a mapping without copying the weights; "" when the file
// cannot be read or holds no config (the loader then says why).
std::string stored_model_kind(const std::filesystem::path & path);

}  // namespace distill
