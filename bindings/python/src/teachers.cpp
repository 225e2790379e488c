// distill.Store, the teachers (CallbackTeacher over any Python callable,
// HttpTeacher, ModelTeacher), collection jobs and Dataset.ask_teacher.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "common.h"
#include "handles.h"
#include "teacher_record.h"

namespace distill_python {

namespace {

// Answers one request with the user's function (see CallbackTeacher's
// docs). An Exception from fn, or an answer that is not one, becomes a
// failed record with the message; KeyboardInterrupt and other
// BaseExceptions stop the whole call and are raised by it.
distill_status answer_with_python(void * user_data, const char * request_json,
                                  distill_teacher_record * record) {
    auto * state = static_cast<CallbackState *>(user_data);
    const auto answer = [&]() -> distill_status {
        py::object request = json_value(request_json);
        py::object reply;
        try {
            reply = state->fn(request);
        } catch (py::error_already_set & e) {
            if (!e.matches(PyExc_Exception)) throw;
            const std::string message = std::string(py::str(e.type().attr("__name__"))) + ": " +
                                        py::str(e.value()).cast<std::string>();
            distill::RecordView(record).set_string(DISTILL_RECORD_ERROR_MESSAGE, message);
            return DISTILL_STATUS_INTERNAL;
        }
        const std::string problem = fill_record(reply, record);
        if (problem.empty()) return DISTILL_STATUS_OK;
        distill::RecordView(record).set_string(DISTILL_RECORD_ERROR_MESSAGE, problem);
        return py::isinstance<py::dict>(reply) && reply.contains("error")
                   ? DISTILL_STATUS_INTERNAL
                   : DISTILL_STATUS_INVALID_ARGUMENT;
    };
    return in_python(answer);
}

// The three kinds of teacher are distinct Python classes over one state.
struct PyCallbackTeacher : PyTeacher {};
struct PyHttpTeacher : PyTeacher {};
struct PyModelTeacher : PyTeacher {};

template <class Kind>
Kind make_teacher(distill::Teacher teacher, std::unique_ptr<CallbackState> state = nullptr) {
    Kind out;
    out.callback = std::move(state);
    out.handle = std::make_shared<distill::Teacher>(std::move(teacher));
    return out;
}

py::object query(PyTeacher & self, PyStore * store, py::handle request) {
    distill::Teacher & teacher = self.get();
    distill::Store * s = store ? &store->get() : nullptr;
    const std::string json = json_text(request, "request");
    return wrap_record(released([&] {
        return s ? teacher.query_cached(*s, json) : teacher.query(json);
    }));
}

int32_t dialect_of(const std::string & dialect) {
    if (dialect == "auto") return DISTILL_HTTP_DIALECT_AUTO;
    if (dialect == "openai") return DISTILL_HTTP_DIALECT_OPENAI;
    if (dialect == "vllm") return DISTILL_HTTP_DIALECT_VLLM;
    if (dialect == "llama_cpp" || dialect == "llama.cpp") return DISTILL_HTTP_DIALECT_LLAMA_CPP;
    if (dialect == "ollama") return DISTILL_HTTP_DIALECT_OLLAMA;
    raise_argument(
        "dialect: expected \"auto\", \"openai\", \"vllm\", \"llama_cpp\" or \"ollama\", "
        "got \"" +
        dialect + "\"");
}

int32_t milliseconds(double seconds, const char * name) {
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 2e6)
        raise_argument(std::string(name) + ": expected seconds in [0, 2e6], got " +
                       std::to_string(seconds));
    return int32_t(std::lround(seconds * 1000.0));
}

py::dict summary_dict(const distill_collect_summary & s) {
    py::dict out;
    out["requests"] = s.requests;
    out["answered_from_store"] = s.answered_from_store;
    out["asked"] = s.asked;
    out["succeeded"] = s.succeeded;
    out["failed"] = s.failed;
    out["prompt_tokens"] = s.prompt_tokens;
    out["cached_tokens"] = s.cached_tokens;
    out["completion_tokens"] = s.completion_tokens;
    out["cost_usd"] = s.cost_usd;
    out["seconds"] = s.elapsed_seconds;
    return out;
}

// A progress callable's verdict: anything but False goes on.
bool goes_on(py::handle progress, const py::dict & event) {
    return progress.is_none() || !progress(event).is(py::bool_(false));
}

py::dict collect(PyTeacher * teacher, PyStore * store, py::iterable requests, int32_t concurrency,
                 double requests_per_minute, double tokens_per_minute, py::object prices,
                 bool stop_on_fatal_error, py::object progress) {
    distill::Teacher & t = require_given(teacher, "teacher", "a distill teacher").get();
    distill::Store & s = require_given(store, "store", "a distill.Store").get();
    std::vector<std::string> texts;
    for (py::handle request : requests) {
        const std::string name = "requests[" + std::to_string(texts.size()) + "]";
        texts.push_back(json_text(request, name.c_str()));
    }
    distill::CollectOptions options;
    options->concurrency = concurrency;
    options->requests_per_minute = requests_per_minute;
    options->tokens_per_minute = tokens_per_minute;
    options->stop_on_fatal_error = stop_on_fatal_error ? 1 : 0;
    if (!prices.is_none()) {
        if (!py::isinstance<py::dict>(prices))
            raise_argument(
                "prices: expected a dict {\"prompt\", \"cached\", \"completion\"} of "
                "USD per million tokens");
        for (auto item : py::reinterpret_borrow<py::dict>(prices)) {
            const std::string key = py::str(item.first);
            const double value = item.second.cast<double>();
            if (key == "prompt")
                options->price_prompt = value;
            else if (key == "cached")
                options->price_cached = value;
            else if (key == "completion")
                options->price_completion = value;
            else
                raise_argument("prices: unknown key \"" + key +
                               "\" (expected \"prompt\", \"cached\", \"completion\")");
        }
    }
    const py::object callable = progress_callable(progress, "CollectProgress");
    options.on_progress([&](const distill_collect_summary & summary) {
        return in_python([&] {
            return goes_on(callable, summary_dict(summary)) ? DISTILL_STATUS_OK
                                                            : DISTILL_STATUS_CANCELLED;
        }) == DISTILL_STATUS_OK;
    });
    distill_collect_summary summary{};
    try {
        summary = released([&] { return distill::collect(t, s, texts, options); });
    } catch (...) {
        close_progress(callable);
        throw;
    }
    close_progress(callable);
    return summary_dict(summary);
}

}  // namespace

py::object progress_callable(py::object progress, const char * bar_class) {
    if (progress.is_none() || progress.is(py::bool_(false))) return py::none();
    if (progress.is(py::bool_(true)))
        return py::module_::import("distill._progress").attr(bar_class)();
    if (!PyCallable_Check(progress.ptr()))
        raise_argument("progress: expected True, False or a callable, got " +
                       std::string(py::repr(progress)));
    return progress;
}

void close_progress(py::handle progress) {
    if (!progress.is_none() && py::hasattr(progress, "close")) progress.attr("close")();
}

py::dict dataset_ask_teacher(PyDataset & dataset, PyTeacher * teacher, PyStore * store,
                             py::object progress, int32_t batch_size) {
    distill::Teacher & t = require_given(teacher, "teacher", "a distill teacher").get();
    distill::Store * s = store ? &store->get() : nullptr;
    distill::Dataset & d = dataset.get_for_change();
    const py::object callable = progress_callable(progress, "AskProgress");
    distill::AskOptions options;
    options->batch_size = batch_size;
    options.on_progress([&](const distill_progress & p) {
        return in_python([&] {
            py::dict event;
            event["done"] = p.done;
            event["total"] = p.total;
            event["asked"] = p.asked;
            event["from_store"] = p.from_store;
            event["seconds"] = p.elapsed_seconds;
            return goes_on(callable, event) ? DISTILL_STATUS_OK : DISTILL_STATUS_CANCELLED;
        }) == DISTILL_STATUS_OK;
    });
    std::pair<int64_t, int64_t> counts;
    try {
        counts = released([&] { return d.ask_teacher(t, s, options); });
    } catch (...) {
        close_progress(callable);
        throw;
    }
    close_progress(callable);
    const auto [asked, from_store] = counts;
    py::dict out;
    out["asked"] = asked;
    out["from_store"] = from_store;
    return out;
}

void bind_teachers(py::module_ & m) {
    // Keyword defaults are the library's (distill_*_options_init), never repeated here.
    const distill::HttpTeacherOptions http_defaults;
    const distill::CollectOptions collect_defaults;
    const distill::ModelTeacherOptions model_defaults;
    bind_teacher_record(m);

    py::class_<PyStore>(m, "Store", R"doc(The teacher-output store: one SQLite file (WAL).

Store(path, read_only=False) opens or creates it. Answers
are filed under their request key, failures included; see distill.h.)doc")
        .def(py::init([](py::handle path, bool read_only) {
                 const std::string p = py::str(path);
                 return PyStore{std::make_shared<distill::Store>(
                     translated([&] { return distill::Store(p, read_only); }))};
             }),
             py::arg("path"), py::arg("read_only") = false)
        .def(
            "get",
            [](PyStore & self, const std::string & key) -> py::object {
                auto found = translated([&] { return self.get().get(key); });
                if (!found) return py::none();
                return wrap_record(std::move(*found));
            },
            py::arg("key"), "The record stored under `key` (64 hex digits), or None.")
        .def(
            "put",
            [](PyStore & self, py::handle record) {
                translated([&] { self.get().put(unwrap_record(record)); });
            },
            py::arg("record"), "Stores a record under its key (replacing one with the same key).")
        .def(
            "stats",
            [](PyStore & self) {
                const distill_store_stats s = translated([&] { return self.get().stats(); });
                py::dict out;
                out["records"] = s.records;
                out["failures"] = s.failures;
                out["positions"] = s.positions;
                out["blob_bytes"] = s.blob_bytes;
                py::dict finished;
                finished["stop"] = s.finished_stop;
                finished["length"] = s.finished_length;
                finished["content_filter"] = s.finished_content_filter;
                finished["tool_calls"] = s.finished_tool_calls;
                finished["other"] = s.finished_other;
                finished["not_given"] = s.finish_not_given;
                out["finish_reasons"] = finished;
                out["other_model"] = s.other_model;
                return out;
            },
            "{records, failures, positions, blob_bytes, finish_reasons: {stop, length, "
            "content_filter, tool_calls, other, not_given} (successful answers), other_model}.")
        .def(
            "export_jsonl",
            [](PyStore & self, py::handle path) {
                const std::string p = py::str(path);
                translated([&] { self.get().export_jsonl(p); });
            },
            py::arg("path"), "Writes every record to `path` as JSON Lines (see distill.h).")
        .def("close", [](PyStore & self) { self.handle.reset(); })
        .def_property_readonly("closed", [](const PyStore & self) { return !self.handle; })
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](PyStore & self, py::args) { self.handle.reset(); });

    py::class_<PyTeacher>(m, "Teacher", "A teacher: CallbackTeacher, HttpTeacher or ModelTeacher.")
        .def(
            "query",
            [](PyTeacher & self, py::handle request) { return query(self, nullptr, request); },
            py::arg("request"),
            "Asks once; returns a TeacherRecord (a failed request is a record with .error).")
        .def(
            "query_cached",
            [](PyTeacher & self, PyStore * store, py::handle request) {
                require_given(store, "store", "a distill.Store");
                return query(self, store, request);
            },
            py::arg("store"), py::arg("request"),
            "The stored answer when the store holds a success for the request, else asks and "
            "stores the answer.")
        .def(
            "request_key",
            [](PyTeacher & self, py::handle request) {
                const std::string json = json_text(request, "request");
                return translated([&] { return self.get().request_key(json); });
            },
            py::arg("request"), "The request's store key (64 hex digits).")
        .def("close", [](PyTeacher & self) { self.handle.reset(); })
        .def_property_readonly("closed", [](const PyTeacher & self) { return !self.handle; })
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](PyTeacher & self, py::args) { self.handle.reset(); });

    py::class_<PyCallbackTeacher, PyTeacher>(m, "CallbackTeacher",
                                             R"doc(A teacher answered by a Python callable.

CallbackTeacher(fn, name="callback", model="", parameters=None): fn(request:
dict) -> dict is called on the thread that queries, under the GIL, once per
request asked. name, model and parameters are the teacher's identity (part
of every store key).

The answer is a dict with any of these keys (an unknown key fails the
request):

- ``"text"``: str, the generated text;
- ``"positions"``: a list of ``{"token": str, "id": int (-1 unknown),
  "logprob": float, "top": [(id, token, logprob), ...]}`` (``top`` items
  may also be dicts with those keys);
- ``"embeddings"``: a list of float vectors;
- ``"usage"``: ``{"prompt_tokens", "completion_tokens", "cached_tokens",
  "reasoning_tokens"}``;
- ``"model"``: str; ``"logprobs_kind"``: "raw", "post_sampling", "unknown";
- ``"error"``: str — a deliberate failure of this request.

An exception raised by the function fails that request only: the record
(stored like any failure) has ``error`` = "ExceptionType: message" and
``error_status`` "INTERNAL"; a malformed answer gives "INVALID_ARGUMENT"
(which stops a ``collect`` job with ``stop_on_fatal_error``). A
KeyboardInterrupt (Ctrl-C) or any other non-Exception stops the whole call
and is raised from it. distill.request_features(request) and
distill.classification_answer(logits) help a classifier answer
Dataset.ask_teacher.
)doc")
        .def(py::init([](py::object fn, const std::string & name, const std::string & model,
                         py::handle parameters) {
                 if (!PyCallable_Check(fn.ptr()))
                     raise_argument("fn: expected a callable fn(request: dict) -> dict, got " +
                                    std::string(py::repr(fn)));
                 const std::string params =
                     parameters.is_none() ? "" : json_text(parameters, "parameters");
                 auto state = std::make_unique<CallbackState>();
                 state->fn = fn;
                 CallbackState * user_data = state.get();
                 return make_teacher<PyCallbackTeacher>(translated([&] {
                                                            return distill::Teacher::callback(
                                                                &answer_with_python, user_data,
                                                                name, model, params);
                                                        }),
                                                        std::move(state));
             }),
             py::arg("fn"), py::arg("name") = "callback", py::arg("model") = "",
             py::arg("parameters") = py::none());

    py::class_<PyHttpTeacher, PyTeacher>(m, "HttpTeacher",
                                         R"doc(A teacher behind an OpenAI-compatible HTTP server.

HttpTeacher(base_url, model="", dialect="auto", api_key_env=None,
api_key_file=None, parameters=None, timeout=600, connect_timeout=10,
low_speed_seconds=60, max_retries=2, max_retry_seconds=60, retry_base=0.5,
retry_max_delay=8, verify_tls=True). Times in seconds. dialect: "auto",
"openai", "vllm", "llama_cpp", "ollama". The API key is read once from the
environment variable or file and never appears in errors or the store.)doc")
        .def(py::init([](const std::string & base_url, const std::string & model,
                         const std::string & dialect, std::optional<std::string> api_key_env,
                         std::optional<std::string> api_key_file, py::handle parameters,
                         double timeout, double connect_timeout, int32_t low_speed_seconds,
                         int32_t max_retries, double max_retry_seconds, double retry_base,
                         double retry_max_delay, bool verify_tls) {
                 const std::string params =
                     parameters.is_none() ? "" : json_text(parameters, "parameters");
                 distill::HttpTeacherOptions http;
                 distill_http_teacher_options & options = http.get();
                 options.base_url = base_url.c_str();
                 options.model = model.c_str();
                 options.dialect = dialect_of(dialect);
                 options.api_key_env = api_key_env ? api_key_env->c_str() : nullptr;
                 options.api_key_file = api_key_file ? api_key_file->c_str() : nullptr;
                 options.parameters_json = params.empty() ? nullptr : params.c_str();
                 options.timeout_ms = milliseconds(timeout, "timeout");
                 options.connect_timeout_ms = milliseconds(connect_timeout, "connect_timeout");
                 options.low_speed_seconds = low_speed_seconds;
                 options.max_retries = max_retries;
                 options.max_retry_seconds = max_retry_seconds;
                 options.retry_base_ms = milliseconds(retry_base, "retry_base");
                 options.retry_max_delay_ms = milliseconds(retry_max_delay, "retry_max_delay");
                 options.verify_tls = verify_tls ? 1 : 0;
                 return make_teacher<PyHttpTeacher>(
                     translated([&] { return distill::Teacher::http(http); }));
             }),
             py::arg("base_url"), py::arg("model") = "", py::arg("dialect") = "auto",
             py::arg("api_key_env") = py::none(), py::arg("api_key_file") = py::none(),
             py::arg("parameters") = py::none(),
             py::arg("timeout") = http_defaults->timeout_ms / 1000.0,
             py::arg("connect_timeout") = http_defaults->connect_timeout_ms / 1000.0,
             py::arg("low_speed_seconds") = http_defaults->low_speed_seconds,
             py::arg("max_retries") = http_defaults->max_retries,
             py::arg("max_retry_seconds") = http_defaults->max_retry_seconds,
             py::arg("retry_base") = http_defaults->retry_base_ms / 1000.0,
             py::arg("retry_max_delay") = http_defaults->retry_max_delay_ms / 1000.0,
             py::arg("verify_tls") = http_defaults->verify_tls != 0);

    py::class_<PyModelTeacher, PyTeacher>(m, "ModelTeacher",
                                          R"doc(A built-in model answering as a teacher, in process.

ModelTeacher(model, name="model", top_k=0, temperature=1.0, device="cpu"):
answers the requests of Dataset.ask_teacher with one position whose top-k
are the classes (id = class index) and their log-probabilities at
`temperature`; top_k 0 = every class. It answers from a copy of the model
taken now, on `device` ("cpu", "cuda" or "cuda:N"). The teacher keeps the
model alive.)doc")
        .def(py::init([](PyModel * model, const std::string & name, int32_t top_k,
                         float temperature, const std::string & device) {
                 distill::Model & mm = require_given(model, "model", "a distill.Model").get();
                 if (is_transformer(mm))
                     raise_argument(
                         "ModelTeacher: model is a transformer, which does not answer requests "
                         "in this version; as an in-process teacher it goes to "
                         "Trainer.fit_text(..., teacher=model) or distill.evaluate_lm(..., "
                         "teacher=model)");
                 const distill::Context & context = device_context(device);
                 return make_teacher<PyModelTeacher>(translated([&] {
                     return distill::Teacher::model(context, mm, name, top_k, temperature);
                 }));
             }),
             py::arg("model"), py::arg("name") = std::string(model_defaults->name),
             py::arg("top_k") = model_defaults->top_k,
             py::arg("temperature") = model_defaults->temperature, py::arg("device") = "cpu");

    m.def("collect", &collect, py::arg("teacher"), py::arg("store"), py::arg("requests"),
          py::kw_only(), py::arg("concurrency") = collect_defaults->concurrency,
          py::arg("requests_per_minute") = collect_defaults->requests_per_minute,
          py::arg("tokens_per_minute") = collect_defaults->tokens_per_minute,
          py::arg("prices") = py::none(),
          py::arg("stop_on_fatal_error") = collect_defaults->stop_on_fatal_error != 0, py::arg("progress") = true,
          "Asks `teacher` every request (dicts or JSON strings) through `store`, each at most "
          "once (stored successes are skipped), with up to `concurrency` HTTP requests in "
          "flight. prices: {\"prompt\", \"cached\", \"completion\"} USD per million tokens. "
          "Returns the job's summary dict.");
}

}  // namespace distill_python
