#include "train/transformer_file.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/mapped_file.h"
#include "train/checkpoint.h"
#include "train/safetensors.h"

namespace distill {

void save_transformer_weights(const std::filesystem::path & path, const lm::transformer & model) {
    const std::span<const float> parameters = model.parameters();
    std::vector<safetensors_tensor> tensors;
    for (const parameter_info & p : model.parameter_table())
        tensors.push_back({p.name, safetensors_dtype::F32, p.shape,
                           std::as_bytes(parameters.subspan(size_t(p.offset), size_t(p.count)))});
    write_safetensors(path, tensors,
                      {{"format", checkpoint_format}, {"config", lm::to_json(model.config()).dump()}});
}

namespace {

// A model of `config` (else the stored one) holding `tensors`.
std::shared_ptr<lm::transformer> transformer_from_tensors(
    const nlohmann::json & stored_config, const std::vector<checkpoint_tensor> & tensors,
    const std::string & source, const lm::transformer_config * config) {
    if (config == nullptr && stored_config.is_null())
        fail_invalid(source + ": expected a model config in the metadata ('config') or given by "
                     "the caller, got neither");
    auto model = std::make_shared<lm::transformer>(
        config ? *config : lm::parse_transformer_config(stored_config, source + " config"), 0);
    const auto & table = model->parameter_table();
    std::vector<bool> seen(table.size(), false);
    const checkpoint_tensor * tied_head = nullptr;
    for (const checkpoint_tensor & t : tensors) {
        if (t.name == "lm_head.weight" && model->config().tie_embeddings) {
            tied_head = &t;
            continue;
        }
        const auto it = std::find_if(table.begin(), table.end(),
                                     [&](const parameter_info & p) { return p.name == t.name; });
        if (it == table.end())
            fail_invalid(source + ": tensor '" + t.name + "' is not a parameter of this "
                         "transformer (" + lm::to_json(model->config()).dump() + ")");
        if (t.shape != it->shape)
            fail_invalid(source + ": tensor '" + t.name + "': expected shape " +
                         nlohmann::json(it->shape).dump() + ", got " +
                         nlohmann::json(t.shape).dump());
        seen[size_t(it - table.begin())] = true;
        std::copy(t.values.begin(), t.values.end(), model->parameters().begin() + it->offset);
    }
    for (size_t i = 0; i < seen.size(); ++i)
        if (!seen[i]) fail_invalid(source + ": tensor '" + table[i].name + "' is missing");
    if (tied_head) {
        const parameter_info & embed = table.front();
        const auto begin = model->parameters().begin() + embed.offset;
        if (tied_head->values.size() != size_t(embed.count) ||
            !std::equal(tied_head->values.begin(), tied_head->values.end(), begin))
            fail_invalid(source + ": the model ties lm_head to the embedding, but the file's "
                         "lm_head.weight differs from model.embed_tokens.weight");
    }
    return model;
}

}  // namespace

std::shared_ptr<lm::transformer> load_transformer_weights(const std::filesystem::path & path,
                                                          const lm::transformer_config * config) {
    const model_weights weights = load_model_safetensors(path);
    return transformer_from_tensors(weights.config, weights.tensors, path.string(), config);
}

std::shared_ptr<lm::transformer> load_transformer_model(const std::filesystem::path & path) {
    std::error_code ignored;
    if (!std::filesystem::is_directory(path, ignored)) return load_transformer_weights(path);
    const checkpoint_contents contents = load_checkpoint(path);
    return transformer_from_tensors(contents.model_config, contents.model_tensors,
                                    path.string() + "/model.safetensors", nullptr);
}

std::string stored_model_kind(const std::filesystem::path & path) {
    try {
        std::error_code ignored;
        const std::filesystem::path file = std::filesystem::is_directory(path, ignored)
                                               ? path / "model.safetensors"
                                               : path;
        const mapped_file mapping(file);
        const std::string_view bytes = mapping.bytes();
        const safetensors_contents contents = parse_safetensors(
            std::as_bytes(std::span<const char>(bytes.data(), bytes.size())), file.string());
        const auto config = contents.metadata.find("config");
        if (config == contents.metadata.end()) return "";
        const nlohmann::json parsed = nlohmann::json::parse(config->second);
        return parsed.is_object() && parsed.contains("kind") && parsed["kind"].is_string()
                   ? parsed["kind"].get<std::string>()
                   : "";
    } catch (const std::exception &) {
        return "";  // the loader that runs next says what is wrong, in its words
    }
}

}  // namespace distill
