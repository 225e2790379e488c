// distill.TeacherRecord and the answer format of CallbackTeacher.
#include "teacher_record.h"

#include <pybind11/numpy.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "common.h"

namespace distill_python {

namespace {

struct PyRecord {
    std::shared_ptr<distill::TeacherRecord> record;
};

const char * logprobs_kind_name(int64_t kind) {
    switch (kind) {
    case DISTILL_LOGPROBS_RAW: return "raw";
    case DISTILL_LOGPROBS_POST_SAMPLING: return "post_sampling";
    default: return "unknown";
    }
}

py::object json_or_none(const std::string & text) {
    return text.empty() ? py::none() : json_value(text);
}

// An absent log-probability (NaN in distill.h) is None, as in the server's JSON.
py::object logprob_or_none(float logprob) {
    return std::isnan(logprob) ? py::none() : py::object(py::float_(double(logprob)));
}

py::list positions(const distill::TeacherRecord & r) {
    py::list out;
    const int64_t count = r.position_count();
    for (int64_t i = 0; i < count; ++i) {
        const auto p = r.position(i);
        std::vector<int32_t> ids;
        std::vector<float> logprobs;
        std::vector<std::string> tokens;
        r.topk(i, ids, logprobs, &tokens);
        py::list top;
        for (size_t k = 0; k < ids.size(); ++k)
            top.append(py::make_tuple(ids[k], py::str(tokens[k]), logprob_or_none(logprobs[k])));
        py::dict position;
        position["token"] = py::str(p.token);
        position["bytes"] = py::bytes(p.bytes);
        position["id"] = p.id;
        position["logprob"] = logprob_or_none(p.logprob);
        position["top"] = top;
        out.append(position);
    }
    return out;
}

// Top-k ids int32 [P, K] and log-probabilities float32 [P, K], K the
// largest top-k of any position; shorter rows padded with id -1 and -inf.
py::tuple topk_arrays(const distill::TeacherRecord & r) {
    const int64_t count = r.position_count();
    std::vector<std::vector<int32_t>> ids(static_cast<size_t>(count));
    std::vector<std::vector<float>> logprobs(static_cast<size_t>(count));
    size_t k = 0;
    for (int64_t i = 0; i < count; ++i) {
        r.topk(i, ids[size_t(i)], logprobs[size_t(i)]);
        k = std::max(k, ids[size_t(i)].size());
    }
    py::array_t<int32_t> id_array({size_t(count), k});
    py::array_t<float> logprob_array({size_t(count), k});
    auto id_out = id_array.mutable_unchecked<2>();
    auto lp_out = logprob_array.mutable_unchecked<2>();
    for (size_t i = 0; i < size_t(count); ++i)
        for (size_t j = 0; j < k; ++j) {
            const bool present = j < ids[i].size();
            id_out(i, j) = present ? ids[i][j] : -1;
            lp_out(i, j) = present ? logprobs[i][j] : -std::numeric_limits<float>::infinity();
        }
    return py::make_tuple(id_array, logprob_array);
}

py::object embeddings(const distill::TeacherRecord & r) {
    const int64_t count = r.embedding_count();
    py::list out;
    for (int64_t i = 0; i < count; ++i) {
        const std::vector<float> values = r.embedding(i);
        out.append(py::array_t<float>(py::ssize_t(values.size()), values.data()));
    }
    return out;
}

py::dict usage(const distill::TeacherRecord & r) {
    py::dict out;
    out["prompt_tokens"] = r.integer(DISTILL_RECORD_PROMPT_TOKENS);
    out["completion_tokens"] = r.integer(DISTILL_RECORD_COMPLETION_TOKENS);
    out["cached_tokens"] = r.integer(DISTILL_RECORD_CACHED_TOKENS);
    out["reasoning_tokens"] = r.integer(DISTILL_RECORD_REASONING_TOKENS);
    return out;
}

py::dict provenance(const distill::TeacherRecord & r) {
    py::dict out;
    out["provider"] = r.string(DISTILL_RECORD_PROVIDER);
    out["endpoint"] = r.string(DISTILL_RECORD_ENDPOINT);
    out["model"] = r.string(DISTILL_RECORD_MODEL);
    out["system_fingerprint"] = r.string(DISTILL_RECORD_SYSTEM_FINGERPRINT);
    out["request_id"] = r.string(DISTILL_RECORD_REQUEST_ID);
    out["teacher"] = json_or_none(r.string(DISTILL_RECORD_TEACHER_JSON));
    out["request"] = json_or_none(r.string(DISTILL_RECORD_REQUEST_JSON));
    out["parameters"] = json_or_none(r.string(DISTILL_RECORD_PARAMETERS_JSON));
    out["started_at_ms"] = r.integer(DISTILL_RECORD_STARTED_AT_MS);
    out["finished_at_ms"] = r.integer(DISTILL_RECORD_FINISHED_AT_MS);
    out["latency_us"] = r.integer(DISTILL_RECORD_LATENCY_US);
    out["attempts"] = r.integer(DISTILL_RECORD_ATTEMPTS);
    out["logprobs_kind"] = logprobs_kind_name(r.integer(DISTILL_RECORD_LOGPROBS_KIND));
    return out;
}

// --- answers in -------------------------------------------------------------------
// A malformed answer is reported as a string, not raised: it fails the one
// request, not the job.

struct bad_answer {
    std::string message;
};

[[noreturn]] void bad(const std::string & message) { throw bad_answer{message}; }

// Runs a write into the record; the library's refusal is what is wrong
// with the answer (after `where`, when given).
template <class Write> void put(Write && write, const std::string & where = "") {
    try {
        write();
    } catch (const distill::Exception & e) {
        bad(where.empty() ? e.message() : where + ": " + e.message());
    }
}

template <class T>
T as(py::handle value, const std::string & where, const char * expected) {
    try {
        return value.cast<T>();
    } catch (const py::cast_error &) {
        bad(where + ": expected " + expected + ", got " + std::string(py::repr(value)));
    }
}

// None: absent (distill.h: NaN), as a server's null.
float logprob_of(py::handle value, const std::string & where) {
    if (value.is_none()) return std::numeric_limits<float>::quiet_NaN();
    return as<float>(value, where, "a float or None");
}

int32_t id_of(py::handle value, const std::string & where) {
    if (value.is_none()) return -1;
    return as<int32_t>(value, where, "an int or None");
}

void append_position(distill::RecordView record, py::handle position,
                     const std::string & where) {
    if (!py::isinstance<py::dict>(position)) bad(where + ": expected a dict");
    py::dict p = py::reinterpret_borrow<py::dict>(position);
    for (auto item : p) {
        const std::string key = py::str(item.first);
        if (key != "token" && key != "id" && key != "logprob" && key != "top")
            bad(where + ": unknown key \"" + key + "\" (expected token, id, logprob, top)");
    }
    const std::string token =
        p.contains("token") ? as<std::string>(p["token"], where + ".token", "a str") : "";
    const int32_t id = p.contains("id") ? id_of(p["id"], where + ".id") : -1;
    const float logprob = p.contains("logprob") ? logprob_of(p["logprob"], where + ".logprob")
                                                : std::numeric_limits<float>::quiet_NaN();
    std::vector<int32_t> ids;
    std::vector<std::string> tokens;
    std::vector<float> logprobs;
    if (p.contains("top")) {
        size_t k = 0;
        for (py::handle alt : py::iter(p["top"])) {
            const std::string at = where + ".top[" + std::to_string(k++) + "]";
            if (py::isinstance<py::dict>(alt)) {
                py::dict a = py::reinterpret_borrow<py::dict>(alt);
                ids.push_back(a.contains("id") ? id_of(a["id"], at + ".id") : -1);
                tokens.push_back(
                    a.contains("token") ? as<std::string>(a["token"], at + ".token", "a str") : "");
                if (!a.contains("logprob")) bad(at + ": \"logprob\" is missing");
                logprobs.push_back(logprob_of(a["logprob"], at + ".logprob"));
            } else {
                py::sequence a = as<py::sequence>(alt, at, "(id, token, logprob) or a dict");
                if (a.size() != 3) bad(at + ": expected (id, token, logprob)");
                ids.push_back(id_of(a[0], at + "[0]"));
                tokens.push_back(as<std::string>(a[1], at + "[1]", "a str"));
                logprobs.push_back(logprob_of(a[2], at + "[2]"));
            }
        }
    }
    std::vector<const char *> token_pointers;
    for (const std::string & t : tokens) token_pointers.push_back(t.c_str());
    put([&] {
        record.append_position(token, id, logprob, int32_t(ids.size()), ids.data(),
                               token_pointers.data(), logprobs.data());
    }, where);
}

void fill(py::handle answer, distill::RecordView record) {
    if (!py::isinstance<py::dict>(answer))
        bad("answer: expected a dict (text, positions, embeddings, usage, model, logprobs_kind, "
            "finish_reason, error), got " +
            std::string(py::str(py::type::handle_of(answer).attr("__name__"))));
    py::dict a = py::reinterpret_borrow<py::dict>(answer);
    for (auto item : a) {
        const std::string key = py::str(item.first);
        py::handle value = item.second;
        if (key == "text") {
            put([&] { record.set_string(DISTILL_RECORD_TEXT, as<std::string>(value, "answer.text", "a str")); });
        } else if (key == "finish_reason") {
            put([&] { record.set_string(DISTILL_RECORD_FINISH_REASON, as<std::string>(value, "answer.finish_reason", "a str")); });
        } else if (key == "model") {
            put([&] { record.set_string(DISTILL_RECORD_MODEL, as<std::string>(value, "answer.model", "a str")); });
        } else if (key == "positions") {
            size_t i = 0;
            for (py::handle position : py::iter(value))
                append_position(record, position, "answer.positions[" + std::to_string(i++) + "]");
        } else if (key == "embeddings") {
            size_t i = 0;
            for (py::handle vector : py::iter(value)) {
                const std::string where = "answer.embeddings[" + std::to_string(i++) + "]";
                py::array_t<float, py::array::c_style | py::array::forcecast> v;
                try {
                    v = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(
                        vector);
                } catch (py::error_already_set &) {
                }
                if (!v || v.ndim() != 1) bad(where + ": expected a vector of floats");
                put([&] { record.append_embedding(v.data(), v.size()); }, where);
            }
        } else if (key == "usage") {
            if (!py::isinstance<py::dict>(value)) bad("answer.usage: expected a dict");
            for (auto u : py::reinterpret_borrow<py::dict>(value)) {
                const std::string name = py::str(u.first);
                const int32_t field = name == "prompt_tokens" ? DISTILL_RECORD_PROMPT_TOKENS
                                      : name == "completion_tokens"
                                          ? DISTILL_RECORD_COMPLETION_TOKENS
                                      : name == "cached_tokens"    ? DISTILL_RECORD_CACHED_TOKENS
                                      : name == "reasoning_tokens" ? DISTILL_RECORD_REASONING_TOKENS
                                                                   : -1;
                if (field < 0) bad("answer.usage: unknown key \"" + name + "\"");
                const int64_t count = as<int64_t>(u.second, "answer.usage." + name, "an int");
                put([&] { record.set_integer(distill_record_int(field), count); });
            }
        } else if (key == "logprobs_kind") {
            const std::string kind = as<std::string>(value, "answer.logprobs_kind", "a str");
            const int64_t code = kind == "raw"             ? DISTILL_LOGPROBS_RAW
                                 : kind == "post_sampling" ? DISTILL_LOGPROBS_POST_SAMPLING
                                 : kind == "unknown"       ? DISTILL_LOGPROBS_UNKNOWN
                                                           : -1;
            if (code < 0)
                bad("answer.logprobs_kind: expected \"raw\", \"post_sampling\" or \"unknown\"");
            put([&] { record.set_integer(DISTILL_RECORD_LOGPROBS_KIND, code); });
        } else if (key != "error") {
            bad("answer: unknown key \"" + key +
                "\" (expected text, positions, embeddings, usage, model, logprobs_kind, "
                "finish_reason, error)");
        }
    }
    // A deliberate failure: the function answers {"error": "why"}.
    if (a.contains("error") && !a["error"].is_none()) bad(py::str(a["error"]).cast<std::string>());
}

}  // namespace

py::object wrap_record(distill::TeacherRecord record) {
    return py::cast(PyRecord{std::make_shared<distill::TeacherRecord>(std::move(record))});
}

const distill::TeacherRecord & unwrap_record(py::handle record) {
    if (!py::isinstance<PyRecord>(record))
        raise_argument("record: expected a distill.TeacherRecord, got " +
                       std::string(py::str(py::type::handle_of(record).attr("__name__"))));
    return *record.cast<const PyRecord &>().record;
}

std::string fill_record(py::handle answer, distill_teacher_record * record) {
    try {
        fill(answer, distill::RecordView(record));
        return "";
    } catch (const bad_answer & e) {
        return e.message;
    } catch (py::error_already_set & e) {
        if (!e.matches(PyExc_Exception)) throw;
        return "answer: " + std::string(py::str(e.type().attr("__name__"))) + ": " +
               py::str(e.value()).cast<std::string>();
    }
}

void bind_teacher_record(py::module_ & m) {
    py::class_<PyRecord>(m, "TeacherRecord",
                         R"doc(One teacher answer, normalised whatever the teacher.

text, finish_reason, positions (list of {token, bytes, id, logprob, top:
[(id, token, logprob), ...]}; a logprob the server did not give is None),
embeddings (list of float32 arrays), usage, provenance, other_model, error
(None, or why the request failed), key. topk_arrays() gives the
per-position top-k as NumPy arrays (an absent logprob is NaN there).
Top-k log-probabilities have fp16 precision, fresh or from a store.)doc")
        .def_property_readonly("key", [](const PyRecord & r) { return r.record->key(); })
        .def_property_readonly("text", [](const PyRecord & r) { return r.record->text(); })
        .def_property_readonly(
            "finish_reason",
            [](const PyRecord & r) -> py::object {
                const std::string reason = r.record->string(DISTILL_RECORD_FINISH_REASON);
                return reason.empty() ? py::object(py::none()) : py::object(py::str(reason));
            },
            "Why the server stopped: \"stop\", \"length\" (truncated by max_tokens), ...; "
            "None when it did not say.")
        .def_property_readonly(
            "other_model",
            [](const PyRecord & r) { return r.record->integer(DISTILL_RECORD_OTHER_MODEL) != 0; },
            "True when the server says another model answered than the one asked for (see "
            "DISTILL_RECORD_OTHER_MODEL in distill.h).")
        .def_property_readonly("positions", [](const PyRecord & r) { return positions(*r.record); })
        .def_property_readonly("embeddings",
                               [](const PyRecord & r) { return embeddings(*r.record); })
        .def_property_readonly("usage", [](const PyRecord & r) { return usage(*r.record); })
        .def_property_readonly("provenance",
                               [](const PyRecord & r) { return provenance(*r.record); })
        .def_property_readonly(
            "error",
            [](const PyRecord & r) -> py::object {
                if (!r.record->failed()) return py::none();
                return py::str(r.record->string(DISTILL_RECORD_ERROR_MESSAGE));
            },
            "None for an answer; the failure's message for a failed request.")
        .def_property_readonly(
            "error_status",
            [](const PyRecord & r) -> py::object {
                const int64_t status = r.record->integer(DISTILL_RECORD_ERROR_STATUS);
                if (status == 0) return py::none();
                return py::str(distill_status_name(distill_status(status)));
            },
            "None, or the failure's status name (\"INVALID_ARGUMENT\", \"INTERNAL\", ...).")
        .def_property_readonly("failed", [](const PyRecord & r) { return r.record->failed(); })
        .def(
            "topk_arrays", [](const PyRecord & r) { return topk_arrays(*r.record); },
            "(ids int32 [P, K], logprobs float32 [P, K]) over the P positions, K the largest "
            "top-k; shorter rows are padded with id -1 and log-probability -inf.")
        .def("__repr__", [](const PyRecord & r) {
            std::string text = r.record->text();
            if (text.size() > 40) text = text.substr(0, 40) + "...";
            return "<distill.TeacherRecord " + r.record->key().substr(0, 12) +
                   (r.record->failed() ? " failed"
                                       : " text=" + std::string(py::repr(py::str(text)))) +
                   ">";
        });
}

}  // namespace distill_python
