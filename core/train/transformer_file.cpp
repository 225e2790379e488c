#include "train/transformer_file.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/error.h"
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

std::shared_ptr<lm::transformer> load_transformer_weights(const std::filesystem::path & path,
                                                          const lm::transformer_config * config) {
    const model_weights weights = load_model_safetensors(path);
    const std::string source = path.string();
    if (config == nullptr && weights.config.is_null())
        fail_invalid(source + ": expected a model config in the metadata ('config') or given by "
                     "the caller, got neither");
    auto model = std::make_shared<lm::transformer>(
        config ? *config : lm::parse_transformer_config(weights.config, source + " config"), 0);
    const auto & table = model->parameter_table();
    std::vector<bool> seen(table.size(), false);
    const checkpoint_tensor * tied_head = nullptr;
    for (const checkpoint_tensor & t : weights.tensors) {
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

}  // namespace distill
