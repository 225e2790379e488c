// distill.Tokenizer: the byte-level BPE tokenizer (tokenizer.json of the
// GPT-2 / Llama 3 / Qwen 2 family) over distill.hpp. Text is str (UTF-8)
// or bytes (any bytes); ids are NumPy int32 arrays.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bindings.h"
#include "common.h"
#include "handles.h"

namespace distill_python {

namespace {

PyTokenizer adopt(distill::Tokenizer tokenizer) {
    return PyTokenizer{std::make_shared<distill::Tokenizer>(std::move(tokenizer))};
}

// The bytes of a str (UTF-8) or of a bytes-like object.
std::string text_bytes(py::handle text, const char * name) {
    if (PyUnicode_Check(text.ptr())) {
        Py_ssize_t size = 0;
        const char * data = PyUnicode_AsUTF8AndSize(text.ptr(), &size);
        if (data == nullptr) {
            PyErr_Clear();
            raise_argument(std::string(name) +
                           ": expected text that UTF-8 can encode, got a str with a lone "
                           "surrogate (pass bytes for arbitrary bytes)");
        }
        return std::string(data, size_t(size));
    }
    if (PyBytes_Check(text.ptr()) || PyByteArray_Check(text.ptr()) || PyObject_CheckBuffer(text.ptr()))
        return py::bytes(py::reinterpret_borrow<py::object>(text)).cast<std::string>();
    raise_argument(std::string(name) + ": expected str or bytes, got " +
                   py::str(py::type::handle_of(text).attr("__name__")).cast<std::string>());
}

py::array_t<int32_t> encode(const PyTokenizer & self, py::handle text) {
    const distill::Tokenizer & tokenizer = self.get();
    const std::string bytes = text_bytes(text, "text");
    std::vector<int32_t> ids;
    released([&] { tokenizer.encode(bytes.data(), bytes.size(), ids); });
    py::array_t<int32_t> out(py::ssize_t(ids.size()));
    if (!ids.empty()) std::memcpy(out.mutable_data(), ids.data(), ids.size() * sizeof(int32_t));
    return out;
}

std::string decode_bytes(const PyTokenizer & self, py::handle ids_object) {
    const distill::Tokenizer & tokenizer = self.get();
    py::array_t<int32_t, py::array::c_style | py::array::forcecast> ids;
    try {
        ids = py::array_t<int32_t, py::array::c_style | py::array::forcecast>::ensure(ids_object);
    } catch (const py::error_already_set &) {
        ids = {};
    }
    if (!ids || ids.ndim() != 1)
        raise_argument("ids: expected a 1-D sequence of token ids, got " +
                       py::str(py::type::handle_of(ids_object).attr("__name__")).cast<std::string>());
    const int32_t * data = ids.data();
    const size_t count = size_t(ids.size());
    return released([&] { return tokenizer.decode(data, count); });
}

}  // namespace

void bind_tokenizer(py::module_ & m) {
    py::class_<PyTokenizer>(m, "Tokenizer", R"doc(A byte-level BPE tokenizer (GPT-2, Llama 3, Qwen 2).

Read from a Hugging Face tokenizer.json (Tokenizer.from_file / from_str) or
trained (Tokenizer.train); written back by save / to_str, loadable by the
`tokenizers` package. encode gives the ids of tokenizers'
encode(text, add_special_tokens=False).ids; decode(encode(t)) == t for any
str, and decode_bytes(encode(b)) == b for any bytes (invalid UTF-8 too).)doc")
        .def_static(
            "from_file",
            [](const std::string & path) {
                return adopt(translated([&] { return distill::Tokenizer::load(path); }));
            },
            py::arg("path"), "Loads a tokenizer.json file.")
        .def_static(
            "from_str",
            [](const std::string & json) {
                return adopt(translated([&] { return distill::Tokenizer::from_json(json); }));
            },
            py::arg("json"), "Loads tokenizer.json text.")
        .def_static(
            "train",
            [](py::iterable texts, int32_t vocab_size, const std::string & split,
               const std::vector<std::string> & special_tokens, int64_t min_frequency) {
                if (PyUnicode_Check(texts.ptr()) || PyBytes_Check(texts.ptr()))
                    raise_argument("texts: expected an iterable of str or bytes, got one " +
                                   std::string(PyUnicode_Check(texts.ptr()) ? "str" : "bytes") +
                                   " (wrap a single text in a list)");
                std::vector<std::string> corpus;
                for (py::handle text : texts) corpus.push_back(text_bytes(text, "texts[i]"));
                return adopt(released([&] {
                    return distill::Tokenizer::train(corpus, vocab_size, split, special_tokens,
                                                     min_frequency);
                }));
            },
            py::arg("texts"), py::arg("vocab_size"), py::arg("split") = "gpt2",
            py::arg("special_tokens") = std::vector<std::string>{}, py::arg("min_frequency") = 2,
            R"doc(Trains a byte-level BPE of vocab_size tokens on texts (str or bytes).

split: "gpt2" (ByteLevel's built-in regex), "llama3" (Llama 3's Split
regex), or a regex of your own. special_tokens get ids 0..n-1. Ties between
equally frequent pairs go to the smaller ids: the result is deterministic.)doc")
        .def("encode", &encode, py::arg("text"), "The token ids of text (str or bytes), int32.")
        .def(
            "decode",
            [](const PyTokenizer & self, py::handle ids) {
                const std::string bytes = decode_bytes(self, ids);
                return py::reinterpret_steal<py::str>(
                    PyUnicode_DecodeUTF8(bytes.data(), py::ssize_t(bytes.size()), "replace"));
            },
            py::arg("ids"),
            "The text of ids, added and special tokens included (tokenizers' "
            "skip_special_tokens=False); invalid UTF-8 shows as U+FFFD.")
        .def(
            "decode_bytes",
            [](const PyTokenizer & self, py::handle ids) { return py::bytes(decode_bytes(self, ids)); },
            py::arg("ids"), "The exact bytes of ids.")
        .def_property_readonly(
            "vocab_size",
            [](const PyTokenizer & self) { return translated([&] { return self.get().vocab_size(); }); },
            "One more than the largest token id.")
        .def(
            "token_to_id",
            [](const PyTokenizer & self, const std::string & token) {
                return translated([&] { return self.get().token_to_id(token); });
            },
            py::arg("token"), "The id of a token spelling (\"Ġthe\" for \" the\"), or None.")
        .def(
            "id_to_token",
            [](const PyTokenizer & self, int32_t id) -> py::object {
                const auto token = translated([&] { return self.get().id_to_token(id); });
                if (!token) return py::none();
                return py::reinterpret_steal<py::str>(
                    PyUnicode_DecodeUTF8(token->data(), py::ssize_t(token->size()), "replace"));
            },
            py::arg("id"), "The spelling of token id, or None.")
        .def(
            "to_str",
            [](const PyTokenizer & self) { return translated([&] { return self.get().to_json(); }); },
            "The tokenizer.json text.")
        .def(
            "save",
            [](const PyTokenizer & self, const std::string & path) {
                translated([&] { self.get().save(path); });
            },
            py::arg("path"), "Writes tokenizer.json (atomically).")
        .def("close", [](PyTokenizer & self) { self.handle.reset(); },
             "Releases the native tokenizer now; using it afterwards raises.");
}

}  // namespace distill_python
