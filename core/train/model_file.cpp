#include "train/model_file.h"

#include <algorithm>
#include <map>
#include <string>

#include "common/error.h"
#include "common/file_error.h"
#include "students/model.h"
#include "train/checkpoint.h"
#include "train/safetensors.h"

namespace distill {
namespace {

std::string shape_text(const std::vector<int64_t> & shape) {
    std::string text = "[";
    for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

// The model config a file holds: a config the library refuses is damage in
// that file (corrupt_file), not a bad argument of the caller.
model_config config_of_file(const nlohmann::json & config, const std::string & source) {
    try {
        return parse_model_config(config);
    } catch (const error & e) {
        if (e.code() != status::invalid_argument) throw;
        fail_corrupt(source + ": model config: " + e.what());
    }
}

}  // namespace

void save_model(const model & m, const std::filesystem::path & path) {
    std::vector<safetensors_tensor> tensors;
    const std::span<const float> values = m.parameters();
    for (const parameter_info & p : m.parameter_table()) {
        const std::span<const float> range = values.subspan(size_t(p.offset), size_t(p.count));
        tensors.push_back({p.name, safetensors_dtype::F32, p.shape, std::as_bytes(range)});
    }
    write_safetensors(path, tensors,
                      {{"format", checkpoint_format}, {"config", to_json(m.config()).dump()}});
}

std::vector<float> parameters_from_tensors(const model & m,
                                           const std::vector<checkpoint_tensor> & tensors,
                                           const std::string & source) {
    std::map<std::string, const checkpoint_tensor *> by_name;
    for (const checkpoint_tensor & t : tensors) by_name[t.name] = &t;
    std::vector<const checkpoint_tensor *> matched;
    for (const parameter_info & p : m.parameter_table()) {
        const auto found = by_name.find(p.name);
        if (found == by_name.end())
            fail_corrupt(source + ": expected a tensor '" + p.name + "' of shape " +
                         shape_text(p.shape) + " (the config's), found none");
        const checkpoint_tensor & t = *found->second;
        if (t.shape != p.shape || int64_t(t.values.size()) != p.count)
            fail_corrupt(source + ": tensor '" + p.name + "': expected shape " +
                         shape_text(p.shape) + " (the config's), got " + shape_text(t.shape));
        matched.push_back(&t);
        by_name.erase(found);
    }
    if (!by_name.empty())
        fail_corrupt(source + ": tensor '" + by_name.begin()->first +
                     "' is not a parameter of the config's model (" +
                     std::to_string(by_name.size()) + " unexpected tensors)");
    std::vector<float> values(static_cast<size_t>(m.parameter_count()));
    for (size_t i = 0; i < matched.size(); ++i)
        std::copy(matched[i]->values.begin(), matched[i]->values.end(),
                  values.begin() + m.parameter_table()[i].offset);
    return values;
}

void assign_parameters(model & m, const std::vector<checkpoint_tensor> & tensors,
                       const std::string & source) {
    // Every tensor is checked before any is copied: a refused file leaves
    // the model as it was.
    const std::vector<float> values = parameters_from_tensors(m, tensors, source);
    std::copy(values.begin(), values.end(), m.parameters().begin());
}

std::shared_ptr<model> load_model(const std::filesystem::path & path) {
    std::error_code ignored;
    if (std::filesystem::is_directory(path, ignored)) {
        const checkpoint_contents contents = load_checkpoint(path);
        auto m = std::make_shared<model>(
            config_of_file(contents.model_config, path.string() + "/model.safetensors"), 0);
        assign_parameters(*m, contents.model_tensors, path.string() + "/model.safetensors");
        return m;
    }
    const model_weights weights = load_model_safetensors(path);
    if (weights.config.is_null())
        fail_corrupt("path: '" + path.string() +
                     "' has no model config in its metadata (key \"config\"); a file written "
                     "elsewhere (PyTorch) loads by creating the model from its config and "
                     "writing its parameters");
    auto m = std::make_shared<model>(config_of_file(weights.config, path.string()), 0);
    assign_parameters(*m, weights.tensors, path.string());
    return m;
}

}  // namespace distill
