// A built-in model on disk: one safetensors file of its weights (F32,
// PyTorch names) with its config in the metadata ("config"), the same
// layout as a checkpoint's model.safetensors — so either loads as a model.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace distill {

class model;
struct checkpoint_tensor;

// Writes `m` to `path` atomically.
void save_model(const model & m, const std::filesystem::path & path);

// A model from a checkpoint directory (hashes checked) or a model file.
// Refuses a file without a config, a missing, extra or misshapen tensor.
std::shared_ptr<model> load_model(const std::filesystem::path & path);

// Copies `tensors` into the model's parameters by name; every parameter
// must be given exactly once with its shape. `source` names the origin in
// errors.
void assign_parameters(model & m, const std::vector<checkpoint_tensor> & tensors,
                       const std::string & source);

// The same check, into a new buffer laid out as m.parameters() (m unchanged).
std::vector<float> parameters_from_tensors(const model & m,
                                           const std::vector<checkpoint_tensor> & tensors,
                                           const std::string & source);

}  // namespace distill
