// hf_folder.hpp — a transformer student's model file as a Hugging Face
// transformers folder and back (distill_hf_folder_export / _import).
#pragma once

#include "core.hpp"

namespace distill_swig {

/// The folder that transformers' AutoModelForCausalLM.from_pretrained and
/// AutoTokenizer.from_pretrained load (config.json, model.safetensors and,
/// with a tokenizer, tokenizer.json and tokenizer_config.json), from a
/// transformer student's model file, and back.
class HfFolder {
public:
    /// Writes the model file `model_path` (and the tokenizer.json file
    /// `tokenizer_path` unless "") as the folder `dir`, replaced whole.
    static void export_folder(const std::string & model_path, const std::string & dir,
                              const std::string & tokenizer_path = "") {
        call([&] { distill::export_hf_folder(model_path, tokenizer_path, dir); });
    }

    /// Reads the folder `dir` (a Llama checkpoint saved by save_pretrained)
    /// into the model file `model_path` and, unless tokenizer_path is "",
    /// its tokenizer.json into `tokenizer_path`.
    static void import_folder(const std::string & dir, const std::string & model_path,
                              const std::string & tokenizer_path = "") {
        call([&] { distill::import_hf_folder(dir, model_path, tokenizer_path); });
    }
};

}  // namespace distill_swig
