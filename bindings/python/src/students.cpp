// distill.Model and distill.Dataset: built-in students and their data, with
// parameters and fields as NumPy views of the library's memory.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "common.h"
#include "handles.h"

namespace distill_python {

namespace {

// A NumPy array over `view` (fp32, int32 or int64, C-contiguous), whose
// base keeps the memory's owner alive.
py::array view_array(const DLTensor & view, py::object base, bool writable) {
    std::vector<py::ssize_t> shape(view.shape, view.shape + view.ndim);
    py::dtype dtype = view.dtype.code == kDLFloat ? py::dtype::of<float>()
                      : view.dtype.bits == 64     ? py::dtype::of<int64_t>()
                                                  : py::dtype::of<int32_t>();
    void * data = static_cast<char *>(view.data) + view.byte_offset;
    py::array array(dtype, shape, data, base);
    if (!writable) array.attr("flags").attr("writeable") = false;
    return array;
}

int32_t output_kind(const std::string & output) {
    if (output == "logits" || output == "raw" || output == "embedding") return DISTILL_OUTPUT_RAW;
    if (output == "probabilities") return DISTILL_OUTPUT_PROBABILITIES;
    if (output == "log_probabilities") return DISTILL_OUTPUT_LOG_PROBABILITIES;
    raise_argument(
        "output: expected \"logits\", \"probabilities\", \"log_probabilities\" or "
        "\"embedding\", got \"" +
        output + "\"");
}

py::array predict(PyModel & self, py::handle inputs, const std::string & output,
                  const std::string & device) {
    distill::Model & model = self.get();
    if (is_transformer(model))
        raise_argument(
            "Model.predict: this model is a transformer (a language model); its next-token "
            "logits come from Model.lm_logits(tokens int32 [B, T])");
    const int32_t kind = output_kind(output);
    const distill::Context & context =
        translated([&]() -> const distill::Context & { return device_context(device); });
    Borrowed x;
    x.acquire(inputs, "inputs", false);
    if (x.get() == nullptr) raise_argument("inputs: expected an fp32 array [B, D], got None");
    if (x.get()->ndim != 2)
        raise_argument("inputs: expected shape [B, D] with D = " + std::to_string(model.inputs()) +
                       ", got " + std::to_string(x.get()->ndim) + " dimensions");
    py::array_t<float> out({x.get()->shape[0], model.outputs()});
    Borrowed y;
    y.acquire(out, "out", true);
    released([&] { model.predict(context, *x.get(), *y.get(), static_cast<distill_output>(kind)); });
    return out;
}

py::dict parameters(PyModel & self) {
    distill::Model & model = self.get();
    py::object base = keeper(self.handle);
    py::dict out;
    for (int64_t i = 0; i < model.tensor_count(); ++i) {
        std::string name;
        const DLTensor view = model.parameter(i, &name);
        out[py::str(name)] = view_array(view, base, true);
    }
    return out;
}

py::object field(const PyDataset & self, distill_dataset_field which) {
    const std::optional<DLTensor> view = self.get().field(which);
    if (!view) return py::none();
    return view_array(*view, keeper(self.handle), false);
}

std::shared_ptr<distill::Dataset> make_dataset(distill::Dataset dataset) {
    return std::make_shared<distill::Dataset>(std::move(dataset));
}

int64_t limit_of(std::optional<int64_t> limit) {
    if (limit && *limit < 1)
        raise_argument("limit: expected None or ≥ 1, got " + std::to_string(*limit));
    return limit.value_or(0);
}

}  // namespace

distill::Dataset & PyDataset::get_for_change() {
    distill::Dataset & current = require_open(handle, "dataset");
    if (handle.use_count() > 1) handle = make_dataset(current.slice(0, current.rows()));
    return *handle;
}

void bind_students(py::module_ & m) {
    py::class_<PyModel>(m, "Model",
                        R"doc(A built-in student (MLP, CNN or transformer), trained inside libdistill.

Model(config, seed=0): config is a dict or its JSON text, e.g.
{"kind": "mlp", "inputs": 784, "hidden": [256], "activation": "relu",
"dropout": 0.0, "outputs": 10}; initialisation is seeded (PyTorch's
default scheme). Parameters carry PyTorch's names and layouts.

A transformer (decoder-only, Llama's architecture) is {"kind":
"transformer", "vocab": 8192, "dim": 256, "layers": 4, "heads": 8,
"kv_heads": 4, "ffn": 688, "context": 256} (optional "tie_embeddings",
"rope_theta", "rms_norm_eps"), seeded as transformers' LlamaForCausalLM,
its parameters under Hugging Face's names (model.embed_tokens.weight, ...);
inputs is its context, outputs its vocabulary. It runs through lm_logits,
Trainer.step_tokens / fit_text / fit_stored and distill.evaluate_lm, on the
CPU; predict, Trainer.step / fit, evaluate and ModelTeacher refuse it.)doc")
        .def(py::init([](py::handle config, uint64_t seed) {
                 const std::string json = json_text(config, "config");
                 return PyModel{std::make_shared<distill::Model>(
                     translated([&] { return distill::Model::create(json, seed); }))};
             }),
             py::arg("config"), py::arg("seed") = 0)
        .def_static(
            "load",
            [](const std::string & path) {
                return PyModel{std::make_shared<distill::Model>(
                    translated([&] { return distill::Model::load(path); }))};
            },
            py::arg("path"),
            "A model from a file written by save() (or distill.import_hf_folder, for a "
            "transformer) or a checkpoint directory of Trainer.save() or of a fit's "
            "checkpoint_dir.")
        .def(
            "save",
            [](const PyModel & self, const std::string & path) {
                translated([&] { self.get().save(path); });
            },
            py::arg("path"),
            "Writes the weights as one safetensors file (PyTorch names, the config in its "
            "metadata), atomically.")
        .def_property_readonly(
            "config",
            [](const PyModel & self) {
                return json_value(translated([&] { return self.get().config_json(); }));
            },
            "The model's config as a dict (canonical: every default filled in).")
        .def_property_readonly(
            "inputs", [](const PyModel & self) { return self.get().inputs(); }, "Input features D.")
        .def_property_readonly(
            "outputs", [](const PyModel & self) { return self.get().outputs(); },
            "Outputs O (classes, or the embedding's size).")
        .def_property_readonly(
            "parameter_count", [](const PyModel & self) { return self.get().parameter_count(); },
            "Number of parameter values.")
        .def("parameters", &parameters,
             "Dict name -> writable float32 NumPy view of the model's own memory (no copy; "
             "the views keep the memory alive). Assigning into them changes the model.")
        .def("predict", &predict, py::arg("inputs"), py::arg("output") = "logits", py::kw_only(),
             py::arg("device") = "cpu",
             "Outputs float32 [B, O] for inputs float32 [B, D] (NumPy or a torch CPU tensor), "
             "in eval mode; output: \"logits\", \"probabilities\", \"log_probabilities\" or "
             "\"embedding\". device: \"cpu\", \"cuda\" or \"cuda:N\" runs the model there "
             "(inputs and outputs stay host arrays).")
        .def(
            "close", [](PyModel & self) { self.handle.reset(); },
            "Releases this object's reference (views and trainers keep theirs).")
        .def_property_readonly("closed", [](const PyModel & self) { return !self.handle; })
        .def("__repr__", [](const PyModel & self) -> std::string {
            if (!self.handle) return "<distill.Model (closed)>";
            return "<distill.Model " + self.handle->config_json() + ">";
        });

    py::class_<PyDataset>(m, "Dataset",
                          R"doc(Examples for training and evaluation, held by libdistill.

Dataset(inputs, labels=None): inputs float32 [N, D], labels int64 [N]
(NumPy or torch CPU), copied in. Optional teacher targets: dense logits
[N, C] or top-k ids int32 [N, K] with log-probabilities float32 [N, K].)doc")
        .def(py::init([](py::handle inputs, py::handle labels) {
                 Borrowed x, y;
                 x.acquire(inputs, "inputs", false);
                 y.acquire(labels, "labels", false);
                 if (x.get() == nullptr)
                     raise_argument("inputs: expected float32 [N, D], got None");
                 return PyDataset{make_dataset(
                     translated([&] { return distill::Dataset::create(*x.get(), y.get()); }))};
             }),
             py::arg("inputs"), py::arg("labels") = py::none())
        .def_static(
            "fashion_mnist",
            [](const std::string & split, std::optional<int64_t> limit,
               const std::string & directory) {
                const int64_t n = limit_of(limit);
                return PyDataset{make_dataset(translated(
                    [&] { return distill::Dataset::fashion_mnist(split, directory, n); }))};
            },
            py::arg("split") = "train", py::arg("limit") = py::none(), py::arg("directory") = "",
            "Fashion-MNIST's \"train\" or \"test\" split (pixels / 255, 784 features), the "
            "first `limit` examples; from `directory`, else $DISTILL_FASHION_MNIST_DIR, else "
            "Debian's dataset-fashion-mnist.")
        .def_static(
            "load_idx",
            [](const std::string & images, const std::string & labels,
               std::optional<int64_t> limit) {
                const int64_t n = limit_of(limit);
                return PyDataset{make_dataset(
                    translated([&] { return distill::Dataset::load_idx(images, labels, n); }))};
            },
            py::arg("images_path"), py::arg("labels_path"), py::arg("limit") = py::none(),
            "An IDX image file and its label file (gzip'ed or not), pixels / 255.")
        .def(
            "slice",
            [](const PyDataset & self, int64_t begin, int64_t count) {
                return PyDataset{
                    make_dataset(translated([&] { return self.get().slice(begin, count); }))};
            },
            py::arg("begin"), py::arg("count"),
            "A new dataset of examples [begin, begin + count), targets included (copied).")
        .def("__len__", [](const PyDataset & self) { return self.get().rows(); })
        .def_property_readonly("features",
                               [](const PyDataset & self) { return self.get().features(); })
        .def_property_readonly(
            "inputs", [](const PyDataset & self) { return field(self, DISTILL_DATASET_INPUTS); },
            "Read-only float32 [N, D] view.")
        .def_property_readonly(
            "labels", [](const PyDataset & self) { return field(self, DISTILL_DATASET_LABELS); },
            "Read-only int64 [N] view, or None.")
        .def_property_readonly(
            "teacher_logits",
            [](const PyDataset & self) { return field(self, DISTILL_DATASET_TEACHER_LOGITS); },
            "Read-only float32 [N, C] view of dense teacher targets, or None.")
        .def_property_readonly(
            "teacher_topk",
            [](const PyDataset & self) -> py::object {
                py::object ids = field(self, DISTILL_DATASET_TEACHER_TOPK_IDS);
                if (ids.is_none()) return py::none();
                return py::make_tuple(ids, field(self, DISTILL_DATASET_TEACHER_TOPK_LOGPROBS));
            },
            "(ids int32 [N, K], logprobs float32 [N, K]) read-only views, or None.")
        .def(
            "set_teacher_logits",
            [](PyDataset & self, py::handle logits) {
                Borrowed t;
                t.acquire(logits, "logits", false);
                if (t.get() == nullptr) raise_argument("logits: expected float32 [N, C], got None");
                translated([&] { self.get_for_change().set_teacher_logits(*t.get()); });
            },
            py::arg("logits"), "Sets dense teacher targets float32 [N, C] (copied).")
        .def(
            "set_teacher_topk",
            [](PyDataset & self, py::handle ids, py::handle logprobs) {
                Borrowed i, l;
                i.acquire(ids, "ids", false);
                l.acquire(logprobs, "logprobs", false);
                if (i.get() == nullptr || l.get() == nullptr)
                    raise_argument(
                        "ids, logprobs: expected int [N, K] and float32 [N, K], got None");
                translated([&] { self.get_for_change().set_teacher_topk(*i.get(), *l.get()); });
            },
            py::arg("ids"), py::arg("logprobs"),
            "Sets top-k teacher targets: ids int32/int64 [N, K], log-probabilities float32 [N, K].")
        .def("ask_teacher", &dataset_ask_teacher, py::arg("teacher"), py::arg("store") = py::none(),
             py::arg("progress") = true, py::arg("batch_size") = distill::AskOptions()->batch_size,
             "Asks `teacher` about every example (through `store` when given: stored answers are "
             "not asked again) and sets the top-k teacher targets from the answers. Returns "
             "{\"asked\", \"from_store\"}.")
        .def(
            "read_teacher",
            [](PyDataset & self, PyStore * store, py::object teacher_identity,
               py::object teacher_parameters) {
                distill::Store & s = require_given(store, "store", "a distill.Store").get();
                // None stays NULL: "the only one that answered".
                std::optional<std::string> identity, parameters;
                if (!teacher_identity.is_none())
                    identity = json_text(teacher_identity, "teacher_identity");
                if (!teacher_parameters.is_none())
                    parameters = json_text(teacher_parameters, "teacher_parameters");
                distill::Dataset & d = self.get_for_change();
                translated([&] {
                    py::gil_scoped_release release;  // a scan of the store, no Python inside
                    d.read_teacher(s, identity ? identity->c_str() : nullptr,
                                   parameters ? parameters->c_str() : nullptr);
                });
            },
            py::arg("store"), py::arg("teacher_identity") = py::none(),
            py::arg("teacher_parameters") = py::none(),
            "Reads the teacher's answers about every example from `store`, without the teacher "
            "(answers stored earlier by ask_teacher or collect, here or elsewhere), and sets the "
            "top-k teacher targets as ask_teacher would. teacher_identity / teacher_parameters: "
            "the provenance's \"teacher\" and \"parameters\" in Store.export_jsonl's lines (a "
            "dict or JSON text), "
            "or None for the only ones that answered these examples. Raises ValueError naming "
            "the missing examples (how many of N were found), the teachers to choose from, or a "
            "stored failure.")
        .def("close", [](PyDataset & self) { self.handle.reset(); })
        .def_property_readonly("closed", [](const PyDataset & self) { return !self.handle; })
        .def("__repr__", [](const PyDataset & self) -> std::string {
            if (!self.handle) return "<distill.Dataset (closed)>";
            return "<distill.Dataset " + std::to_string(self.handle->rows()) + " x " +
                   std::to_string(self.handle->features()) + ">";
        });
}

}  // namespace distill_python
