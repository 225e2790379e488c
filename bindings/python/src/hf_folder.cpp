// distill.export_hf_folder and distill.import_hf_folder: a transformer
// student's model file as the folder transformers' from_pretrained loads,
// and a small Llama checkpoint saved by save_pretrained back into one
// (distill.h section 14).
#include <pybind11/pybind11.h>

#include <string>

#include "bindings.h"
#include "common.h"

namespace distill_python {

namespace {

// "" for None (distill.hpp's "no tokenizer"), else the path.
std::string optional_path(py::handle value, const char * name) {
    return value.is_none() ? std::string() : path_text(value, name);
}

}  // namespace

void bind_hf_folder(py::module_ & m) {
    m.def(
        "export_hf_folder",
        [](py::handle model_path, py::handle dir, py::handle tokenizer_path) {
            const std::string model = path_text(model_path, "model_path");
            const std::string folder = path_text(dir, "dir");
            const std::string tokenizer = optional_path(tokenizer_path, "tokenizer_path");
            released([&] { distill::export_hf_folder(model, tokenizer, folder); });
        },
        py::arg("model_path"), py::arg("dir"), py::arg("tokenizer_path") = py::none(),
        R"doc(Writes the transformer model file model_path (and the tokenizer.json file
tokenizer_path) as the folder dir: config.json (LlamaForCausalLM),
model.safetensors (F32) and, with a tokenizer, tokenizer.json and
tokenizer_config.json, for AutoModelForCausalLM / AutoTokenizer
.from_pretrained(dir). dir is replaced whole, never half written.)doc");
    m.def(
        "import_hf_folder",
        [](py::handle dir, py::handle model_path, py::handle tokenizer_path) {
            const std::string folder = path_text(dir, "dir");
            const std::string model = path_text(model_path, "model_path");
            const std::string tokenizer = optional_path(tokenizer_path, "tokenizer_path");
            released([&] { distill::import_hf_folder(folder, model, tokenizer); });
        },
        py::arg("dir"), py::arg("model_path"), py::arg("tokenizer_path") = py::none(),
        R"doc(Reads the folder dir (a small Llama checkpoint saved by save_pretrained:
one model.safetensors of F32, F16, BF16 or F64 weights) into the transformer
model file model_path and, when tokenizer_path is given, its tokenizer.json
there. NotFoundError for a missing folder or file, CorruptFileError for a
damaged one, UnsupportedError naming what the student lacks (rope_scaling,
biases, another activation, sharded or quantized weights, ...).)doc");
}

}  // namespace distill_python
