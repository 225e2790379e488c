// A transformer student as a Hugging Face model folder, the form that
// transformers' AutoModelForCausalLM.from_pretrained and
// AutoTokenizer.from_pretrained load from a local path:
//
//   config.json            LlamaForCausalLM's config (train/hf_config.h)
//   model.safetensors      F32 weights with LlamaForCausalLM's names
//                          (lm/transformer.h; no lm_head.weight when tied),
//                          metadata {"format": "pt"} as transformers expects
//   tokenizer.json         the tokenizer (text/tokenizer_json.h), when given
//   tokenizer_config.json  {"tokenizer_class": "PreTrainedTokenizerFast", ...}:
//                          without it transformers 4 would pick the
//                          SentencePiece-style LlamaTokenizerFast from
//                          model_type and prepend a BOS token
//
// import reads the same form, so a small Llama checkpoint saved by
// save_pretrained (one model.safetensors, F32, F16, BF16 or F64 weights,
// converted to fp32) becomes a student to train or distill into.
#pragma once

#include <filesystem>
#include <memory>

#include "lm/transformer.h"
#include "text/tokenizer.h"

namespace distill {

// Writes the folder `dir` (its parent is created if needed). The files are
// written into a fresh sibling "<dir>.partial-XXXXXX" (each fsync'ed), which
// is then renamed to `dir` in one step, so no reader ever sees a folder
// named `dir` that is half written, or new weights beside an old
// config.json: an interrupted export leaves `dir` as it was (plus, after a
// crash, the .partial sibling). An existing `dir` is replaced: moved aside,
// the new folder renamed in, the old one removed. `tokenizer` may be null;
// its ids must fit the model's vocabulary (invalid_argument otherwise).
void export_hf_folder(const lm::transformer & model, const tokenizer::bpe_tokenizer * tokenizer,
                      const std::filesystem::path & dir);

struct hf_folder_contents {
    std::shared_ptr<lm::transformer> model;
    std::unique_ptr<tokenizer::bpe_tokenizer> tokenizer;  // null: the folder has no tokenizer.json
};

// Reads the folder `dir`. Errors (distill::error) name the file and field:
//   not_found     no folder, no config.json, no model.safetensors
//   corrupt_file  config.json not JSON or of the wrong types; a truncated or
//                 damaged model.safetensors; a tensor missing, of the wrong
//                 shape or not a Llama parameter; a tied lm_head.weight that
//                 differs from the embedding; a tokenizer.json that does not
//                 parse or holds ids beyond vocab_size
//   unsupported   a config.json feature the student lacks (rope_scaling,
//                 biases, another hidden_act or head_dim, ...), weights of a
//                 non-float dtype, sharded weights, only pytorch_model.bin,
//                 a tokenizer of another family
// With read_tokenizer false, tokenizer.json is not looked at (a Llama 2
// checkpoint's SentencePiece-style tokenizer would be refused, its model
// is fine) and `tokenizer` stays null.
hf_folder_contents import_hf_folder(const std::filesystem::path & dir, bool read_tokenizer = true);

}  // namespace distill
