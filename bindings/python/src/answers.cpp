// distill.request_features and distill.classification_answer: what a
// Python classification teacher needs to read a Dataset.ask_teacher request
// and answer it like a model teacher does. Both are the C ABI's example
// wire format (distill_example_request_features,
// distill_teacher_record_set_classification) through distill.hpp, so the
// Python answer is the one every binding and the model teacher give.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "bindings.h"
#include "common.h"

namespace distill_python {
namespace {

// The float32 [D] features of a request (a dict or its JSON text).
py::array_t<float> request_features(py::handle request) {
    const std::string json = json_text(request, "request");
    const std::vector<float> features =
        translated([&] { return distill::example_request_features(json); });
    return py::array_t<float>(py::ssize_t(features.size()), features.data());
}

// The answer dict for logits [C] (NumPy, a list, a torch tensor): the
// position distill_teacher_record_set_classification writes, as the
// CallbackTeacher answer {"positions": [...], "logprobs_kind": "raw"}.
py::dict classification_answer(py::object logits, float temperature, py::object top_k) {
    if (py::hasattr(logits, "detach")) logits = logits.attr("detach")().attr("cpu")().attr("numpy")();
    py::array_t<float, py::array::c_style | py::array::forcecast> values;
    try {
        values = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(logits);
    } catch (py::error_already_set &) {
    }
    if (!values) raise_argument("logits: expected class scores [C] (an array of floats)");
    const int32_t k = top_k.is_none() ? 0 : top_k.cast<int32_t>();
    distill::TeacherRecord record = translated([] { return distill::TeacherRecord(); });
    translated([&] { record.set_classification(values.data(), values.size(), temperature, k); });
    const auto best = translated([&] { return record.position(0); });
    std::vector<int32_t> ids;
    std::vector<float> logprobs;
    std::vector<std::string> tokens;
    translated([&] { record.topk(0, ids, logprobs, &tokens); });
    py::list top;
    for (size_t i = 0; i < ids.size(); ++i)
        top.append(py::make_tuple(ids[i], py::str(tokens[i]), double(logprobs[i])));
    py::dict position;
    position["token"] = py::str(best.token);
    position["id"] = best.id;
    position["logprob"] = double(best.logprob);
    position["top"] = top;
    py::list positions;
    positions.append(position);
    py::dict answer;
    answer["positions"] = positions;
    answer["logprobs_kind"] = "raw";
    return answer;
}

}  // namespace

void bind_answers(py::module_ & m) {
    m.def("request_features", &request_features, py::arg("request"),
          R"(The float32 [D] features of a Dataset.ask_teacher request
``{"input": {"dtype": "uint8" | "float32", "shape": [D], "divisor": d,
"data": base64}}`` (uint8 values are byte / divisor), a dict or its JSON
text. Raises InvalidArgumentError (a ValueError) naming what is wrong.)");
    m.def("classification_answer", &classification_answer, py::arg("logits"),
          py::arg("temperature") = 1.0f, py::arg("top_k") = py::none(),
          R"(A CallbackTeacher answer for one example from class logits [C] (NumPy,
a list, or a torch tensor): one position whose top-k alternatives are the
classes (id = class index, token = its decimal text) with their
log-probabilities log_softmax(logits / temperature), most likely first —
what Dataset.ask_teacher reads, and what a model teacher answers. top_k
None or 0: every class.)");
}

}  // namespace distill_python
