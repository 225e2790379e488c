// Training checkpoints. A checkpoint is a directory of four files:
//
//   model.safetensors     the weights, F32; metadata {"format": "distill.checkpoint.v1",
//                         "config": <model config JSON, as a string>}
//   optimizer.safetensors the optimizer state buffers, F32; metadata {"format": ...,
//                         "optimizer": <optimizer JSON, as a string>} (the trainer puts
//                         the optimizer config, the schedule config and the step there)
//   trainer_state.json    epoch, step, RNG and data-order state: whatever the trainer keeps
//   best_model.safetensors (optional) the weights of the best epoch so far, as
//                         model.safetensors, kept for restore_best across a resume
//   manifest.json         {"format": ..., "files": {<name>: {"sha256": hex, "bytes": n}}}
//
// Each file is replaced atomically, in the order above, and the manifest
// last (a best_model.safetensors that the new save does not have is
// removed, and the manifest lists only what the save wrote): until it is written, the directory holds no manifest (the old one is
// removed first), and after, it names the exact bytes of the other three.
// A crash between files therefore yields a checkpoint that load refuses,
// never a mixture of two saves. Loading checks every hash before parsing.
#pragma once

#include "train/safetensors.h"

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace distill {

inline constexpr const char * checkpoint_format = "distill.checkpoint.v1";

struct checkpoint_tensor {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> values;  // product(shape) values, row-major
};

// A tensor to save, viewed in place (a range of a model's parameter buffer).
struct checkpoint_tensor_view {
    std::string name;
    std::vector<int64_t> shape;
    std::span<const float> values;
};

struct checkpoint_contents {
    nlohmann::json model_config;
    std::vector<checkpoint_tensor> model_tensors;
    nlohmann::json optimizer;
    std::vector<checkpoint_tensor> optimizer_tensors;
    nlohmann::json trainer_state;
    std::vector<checkpoint_tensor> best_model_tensors;  // empty: the checkpoint has none
};

struct checkpoint_views {
    nlohmann::json model_config;
    std::vector<checkpoint_tensor_view> model_tensors;
    nlohmann::json optimizer;
    std::vector<checkpoint_tensor_view> optimizer_tensors;
    nlohmann::json trainer_state;
    std::vector<checkpoint_tensor_view> best_model_tensors;  // empty: none written
};

// Writes the checkpoint into `directory` (created, with its parents, if
// needed), replacing one saved there before.
void save_checkpoint(const std::filesystem::path & directory, const checkpoint_views & views);
void save_checkpoint(const std::filesystem::path & directory, const checkpoint_contents & contents);

// Reads a checkpoint written by save_checkpoint; refuses a directory without
// a manifest, a file whose size or sha256 differs from the manifest's, and
// a file that is not what its name says.
checkpoint_contents load_checkpoint(const std::filesystem::path & directory);

// Weights from a bare .safetensors file, as PyTorch (safetensors.torch.
// save_file) or a distill checkpoint's model.safetensors writes them. F32,
// F64, F16 and BF16 tensors become fp32; other dtypes are refused. `config`
// is the metadata's "config" parsed as JSON, or null when there is none.
struct model_weights {
    nlohmann::json config;
    std::vector<checkpoint_tensor> tensors;  // in the order of the file's data
};
model_weights load_model_safetensors(const std::filesystem::path & path);

}  // namespace distill
