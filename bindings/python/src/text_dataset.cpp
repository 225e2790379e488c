// distill.tokenize_files and distill.TextDataset: a corpus encoded once by a
// Tokenizer into a *.tokens file, and that file memory-mapped for training
// (distill.h section 13). Windows are NumPy views of the mapping (no copy);
// batches are int32 copies the way a model reads them.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "common.h"
#include "handles.h"

namespace distill_python {

namespace {

// The C ABI's names for distill_split and distill_corpus_layout.
py::dict split_names() {
    py::dict out;
    out["train"] = int(DISTILL_SPLIT_TRAIN);
    out["validation"] = int(DISTILL_SPLIT_VALIDATION);
    return out;
}
py::dict layout_names() {
    py::dict out;
    out["auto"] = int(DISTILL_CORPUS_LAYOUT_AUTO);
    out["file"] = int(DISTILL_CORPUS_LAYOUT_FILE);
    out["blank_lines"] = int(DISTILL_CORPUS_LAYOUT_BLANK_LINES);
    out["jsonl"] = int(DISTILL_CORPUS_LAYOUT_JSONL);
    return out;
}

// The code of `name` in `table`, else InvalidArgumentError listing the names.
int32_t code_of(const py::dict & table, const std::string & name, const char * what) {
    if (table.contains(name)) return table[py::str(name)].cast<int32_t>();
    std::string names;
    for (auto item : table) names += (names.empty() ? "\"" : ", \"") + item.first.cast<std::string>() + "\"";
    raise_argument(std::string(what) + ": expected one of " + names + ", got \"" + name + "\"");
}
std::string name_of(const py::dict & table, int32_t code) {
    for (auto item : table)
        if (item.second.cast<int32_t>() == code) return item.first.cast<std::string>();
    return std::to_string(code);
}

int32_t split_code(const std::string & split) { return code_of(split_names(), split, "split"); }

// One path or a sequence of paths.
std::vector<std::string> path_list(py::handle paths) {
    std::vector<std::string> out;
    if (PyUnicode_Check(paths.ptr()) || PyBytes_Check(paths.ptr()) || py::hasattr(paths, "__fspath__")) {
        out.push_back(path_text(paths, "paths"));
        return out;
    }
    if (!py::isinstance<py::iterable>(paths))
        raise_argument("paths: expected a path or a sequence of paths, got " +
                       py::str(py::type::handle_of(paths).attr("__name__")).cast<std::string>());
    for (py::handle path : paths) out.push_back(path_text(path, "paths[i]"));
    return out;
}

py::dict progress_dict(const distill_tokenize_progress & p) {
    py::dict out;
    out["writing"] = p.writing != 0;
    out["files_done"] = p.files_done;
    out["files_total"] = p.files_total;
    out["bytes_done"] = p.bytes_done;
    out["bytes_total"] = p.bytes_total;
    out["documents"] = p.documents;
    out["tokens"] = p.tokens;
    out["seconds"] = p.elapsed_seconds;
    return out;
}

py::dict summary_dict(const distill_tokenize_summary & s) {
    py::dict out;
    out["token_bytes"] = s.token_bytes;
    out["train_documents"] = s.train_documents;
    out["validation_documents"] = s.validation_documents;
    out["train_tokens"] = s.train_tokens;
    out["validation_tokens"] = s.validation_tokens;
    out["train_windows"] = s.train_windows;
    out["validation_windows"] = s.validation_windows;
    out["file_bytes"] = s.file_bytes;
    return out;
}

py::dict tokenize_files(const PyTokenizer * tokenizer, py::handle paths, py::handle out,
                        int32_t context, double validation_fraction, uint64_t seed,
                        std::optional<std::string> eos_token, const std::string & layout,
                        py::object progress) {
    const distill::Tokenizer & tok =
        require_given(tokenizer, "tokenizer", "a distill.Tokenizer").get();
    const std::vector<std::string> names = path_list(paths);
    const std::string out_path = path_text(out, "out");
    distill::TokenizeOptions options;
    options->context = context;
    options->validation_fraction = validation_fraction;
    options->seed = seed;
    options->eos_token = eos_token ? eos_token->c_str() : nullptr;
    options->layout = code_of(layout_names(), layout, "layout");

    const py::object callable = progress_callable(progress, "TokenizeProgress");
    // Always installed, so that Ctrl-C is noticed with or without a bar.
    const distill::TokenizeProgress relay = [&](const distill_tokenize_progress & p) {
        return in_python([&] {
            if (callable.is_none()) return DISTILL_STATUS_OK;
            return callable(progress_dict(p)).is(py::bool_(false)) ? DISTILL_STATUS_CANCELLED
                                                                   : DISTILL_STATUS_OK;
        }) == DISTILL_STATUS_OK;
    };
    distill_tokenize_summary summary{};
    try {
        summary = released([&] { return distill::tokenize_files(tok, names, out_path, options, relay); });
    } catch (...) {
        close_progress(callable);
        throw;
    }
    close_progress(callable);
    return summary_dict(summary);
}

py::dict info_dict(const distill_text_dataset_info & i) {
    py::dict out;
    out["context"] = i.context;
    out["vocab_size"] = i.vocab_size;
    out["eos_id"] = i.eos_id;
    out["token_bytes"] = i.token_bytes;
    out["train_documents"] = i.train_documents;
    out["validation_documents"] = i.validation_documents;
    out["train_tokens"] = i.train_tokens;
    out["validation_tokens"] = i.validation_tokens;
    out["train_windows"] = i.train_windows;
    out["validation_windows"] = i.validation_windows;
    out["tokenizer_sha256"] =
        py::bytes(reinterpret_cast<const char *>(i.tokenizer_sha256), sizeof i.tokenizer_sha256);
    return out;
}

// Window `index` of `split`: a read-only uint16/uint32 view of the mapping
// [context + 1], its base holding the dataset open.
py::array window(const PyTextDataset & self, const std::string & split, int64_t index) {
    const distill::TextDataset & d = self.get();
    const int32_t code = split_code(split);
    const int32_t token_bytes = translated([&] { return d.info().token_bytes; });
    const auto [tokens, length] = translated([&] { return d.window(code, index); });
    const py::dtype dtype = token_bytes == 2 ? py::dtype::of<uint16_t>() : py::dtype::of<uint32_t>();
    py::array out(dtype, {py::ssize_t(length)}, {py::ssize_t(token_bytes)}, tokens,
                  keeper(self.handle));
    // pybind11 marks a view with a base writeable; the mapping is not.
    out.attr("flags").attr("writeable") = false;
    return out;
}

// (tokens, targets), both int32 [len(indices), context].
py::tuple batch(const PyTextDataset & self, const std::string & split, py::handle indices_object) {
    const distill::TextDataset & d = self.get();
    const int32_t code = split_code(split);
    using Indices = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;
    // Integers only (an empty list, float64 to NumPy, is no batch at all):
    // forcecast alone would turn 1.5 into window 1.
    const py::array given = py::array::ensure(indices_object);
    if (given && given.size() > 0 && given.dtype().kind() != 'i' && given.dtype().kind() != 'u')
        raise_argument("indices: expected integer window indices, got an array of dtype " +
                       py::str(given.dtype()).cast<std::string>());
    Indices indices;
    try {
        indices = Indices::ensure(indices_object);
    } catch (const py::error_already_set &) {
        indices = {};
    }
    if (!indices || indices.ndim() != 1)
        raise_argument("indices: expected a 1-D sequence of window indices, got " +
                       py::str(py::type::handle_of(indices_object).attr("__name__")).cast<std::string>() +
                       (indices ? " of " + std::to_string(indices.ndim()) + " dimensions" : ""));
    const int32_t context = translated([&] { return d.info().context; });
    const py::ssize_t count = indices.size();
    py::array_t<int32_t> tokens({count, py::ssize_t(context)});
    py::array_t<int32_t> targets({count, py::ssize_t(context)});
    const int64_t * windows = indices.data();
    int32_t * t = tokens.mutable_data();
    int32_t * y = targets.mutable_data();
    released([&] {
        distill::check(distill_text_dataset_copy_batch(d.get(), code, windows, int64_t(count), t, y));
    });
    return py::make_tuple(tokens, targets);
}

py::array_t<int64_t> shuffled_windows(const PyTextDataset & self, const std::string & split,
                                      uint64_t seed) {
    const distill::TextDataset & d = self.get();
    const int32_t code = split_code(split);
    const std::vector<int64_t> order = released([&] { return d.shuffled_windows(code, seed); });
    py::array_t<int64_t> out(py::ssize_t(order.size()));
    std::copy(order.begin(), order.end(), out.mutable_data());
    return out;
}

}  // namespace

void bind_text_dataset(py::module_ & m) {
    m.attr("SPLITS") = split_names();
    m.attr("CORPUS_LAYOUTS") = layout_names();
    const distill::TokenizeOptions defaults;  // distill_tokenize_options_init
    py::dict tokenize_defaults;
    tokenize_defaults["validation_fraction"] = defaults->validation_fraction;
    tokenize_defaults["seed"] = defaults->seed;
    tokenize_defaults["layout"] = name_of(layout_names(), defaults->layout);
    m.attr("TOKENIZE_DEFAULTS") = tokenize_defaults;

    m.def("tokenize_files", &tokenize_files, py::arg("tokenizer"), py::arg("paths"), py::arg("out"),
          py::kw_only(), py::arg("context"),
          py::arg("validation_fraction") = defaults->validation_fraction,
          py::arg("seed") = defaults->seed, py::arg("eos_token") = py::none(),
          py::arg("layout") = name_of(layout_names(), defaults->layout),
          py::arg("progress") = py::none(),
          R"doc(Encodes the documents of paths with tokenizer into the token dataset file out.

Each document's ids, then the id of eos_token (an added token of the
tokenizer; None: "<|endoftext|>"). Documents go wholly to training or to
validation (round(validation_fraction * N) of N, chosen by seed); windows are
context + 1 tokens long. layout: "auto" (JSONL for *.jsonl, else "file"),
"file" (a file is one document), "blank_lines" (documents separated by blank
lines) or "jsonl" (one {"text": ...} object per line). progress: None, True
(a bar on stderr) or a callable given a dict (files_done, files_total,
bytes_done, bytes_total, documents, tokens, writing, seconds); returning
False cancels (CancelledError, out left as it was). Returns a dict:
token_bytes, train/validation _documents, _tokens, _windows, file_bytes.)doc");

    py::class_<PyTextDataset>(m, "TextDataset", R"doc(A token dataset file (tokenize_files), memory-mapped read-only.

split is "train" or "validation". Window i of a split is its tokens
[i * context, i * context + context + 1). window() gives a read-only NumPy
view of the mapping that keeps it alive; batch() gives int32 copies.)doc")
        .def(py::init([](py::handle path) {
                 const std::string name = path_text(path, "path");
                 return PyTextDataset{std::make_shared<distill::TextDataset>(
                     released([&] { return distill::TextDataset::open(name); }))};
             }),
             py::arg("path"), "Maps the token dataset file path.")
        .def_property_readonly(
            "info", [](const PyTextDataset & self) { return info_dict(translated([&] { return self.get().info(); })); },
            "The header: context, vocab_size, eos_id, token_bytes, train/validation _documents, "
            "_tokens, _windows, and tokenizer_sha256 (32 bytes).")
        .def("window", &window, py::arg("split"), py::arg("index"),
             "Window index of split: a read-only uint16 or uint32 view [context + 1].")
        .def("batch", &batch, py::arg("split"), py::arg("indices"),
             "(tokens, targets), int32 [len(indices), context]: each window's first and last "
             "context tokens.")
        .def("shuffled_windows", &shuffled_windows, py::arg("split"), py::arg("seed"),
             "A permutation of split's window indices (int64) fixed by seed, the same everywhere.")
        .def(
            "check_tokenizer",
            [](const PyTextDataset & self, const PyTokenizer * tokenizer) {
                const distill::Tokenizer & tok =
                    require_given(tokenizer, "tokenizer", "a distill.Tokenizer").get();
                translated([&] { self.get().check_tokenizer(tok); });
            },
            py::arg("tokenizer"),
            "Raises InvalidArgumentError (showing both hashes) unless the dataset was made with "
            "tokenizer.")
        .def(
            "check_model",
            [](const PyTextDataset & self, int64_t vocab, int64_t context) {
                translated([&] { self.get().check_model(vocab, context); });
            },
            py::arg("vocab_size"), py::arg("context"),
            "Raises InvalidArgumentError unless a model of vocab_size ids and context positions "
            "can read the dataset.")
        .def("close", [](PyTextDataset & self) { self.handle.reset(); },
             "Releases this object's hold on the mapping (window views keep it until they go).")
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](PyTextDataset & self, py::args) { self.handle.reset(); });
}

}  // namespace distill_python
