#include "teachers/http_dialect.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/error.h"
#include "common/json_fields.h"

namespace distill {
namespace {

using json_fields::count_or_zero;
using json_fields::member;
using json_fields::saturated_integer;
using json_fields::string_or;
using nlohmann::json;

// An embedding: finite numbers within float's range, refused otherwise
// (a double beyond float's range must not be converted: undefined).
std::vector<float> float_vector(const json & values) {
    if (!values.is_array()) json_fields::fail_field("embedding", "an array of numbers", values);
    std::vector<float> out;
    out.reserve(values.size());
    for (const json & v : values) {
        const double d = v.is_number() ? v.get<double>() : NAN;
        if (!std::isfinite(d) || std::fabs(d) > 3.0e38)
            json_fields::fail_field("embedding", "finite float32 values", v);
        out.push_back(float(d));
    }
    return out;
}

// OpenAI's -9999 (outside the top 20) and any log-probability the record
// cannot hold (positive from rounding, NaN) become a valid value. null (the
// first prompt token of an echo, which nothing predicts) or a missing value
// is absent, never 0 (certainty).
float clean_logprob(const json * value) {
    if (value == nullptr || !value->is_number()) return absent_logprob;
    const double v = value->get<double>();
    if (std::isnan(v)) return -INFINITY;
    if (v < -3.0e38) return -INFINITY;  // beyond float: converting would be undefined
    return float(std::min(v, 0.0));
}

// Token ids: llama.cpp's "id"; vLLM's return_tokens_as_token_ids spells
// the token itself "token_id:123".
int32_t token_id(const json & entry, const std::string & token) {
    if (const json * id = member(entry, "id"); id && id->is_number_integer()) {
        const int64_t value = saturated_integer(*id);
        return value >= 0 && value <= INT32_MAX ? int32_t(value) : -1;
    }
    if (token.rfind("token_id:", 0) == 0) {
        try {
            return std::stoi(token.substr(9));
        } catch (...) {
        }
    }
    return -1;
}

std::string token_bytes(const json & entry, const std::string & token) {
    const json * bytes = member(entry, "bytes");
    if (bytes == nullptr || !bytes->is_array()) return token;
    std::string out;
    for (const json & b : *bytes) {
        const int64_t value = b.is_number_integer() ? saturated_integer(b) : -1;
        if (value < 0 || value > 255) json_fields::fail_field("bytes", "integers in [0, 255]", b);
        out.push_back(char(value));
    }
    return out;
}

// One {token, logprob, bytes?, id?, top_logprobs?} entry: the chat shape
// of OpenAI, vLLM and llama.cpp, and Ollama's top-level list.
token_position chat_position(const json & entry) {
    token_position p;
    p.token = string_or(entry, "token");
    p.bytes = token_bytes(entry, p.token);
    p.id = token_id(entry, p.token);
    p.logprob = clean_logprob(member(entry, "logprob"));
    if (const json * top = member(entry, "top_logprobs"); top && top->is_array())
        for (const json & alt : *top) {
            top_logprob t;
            t.token = string_or(alt, "token");
            t.id = token_id(alt, t.token);
            t.logprob = clean_logprob(member(alt, "logprob"));
            p.top.push_back(std::move(t));
        }
    return p;
}

void chat_positions(const json & entries, teacher_record & record) {
    if (!entries.is_array()) return;
    for (const json & entry : entries) record.positions.push_back(chat_position(entry));
}

// Legacy completions: parallel arrays; top_logprobs are token→logprob maps
// (no order), sorted here most likely first.
void legacy_positions(const json & logprobs, teacher_record & record) {
    const json * tokens = member(logprobs, "tokens");
    if (tokens == nullptr || !tokens->is_array()) return;
    const json * values = member(logprobs, "token_logprobs");
    const json * tops = member(logprobs, "top_logprobs");
    for (size_t i = 0; i < tokens->size(); ++i) {
        token_position p;
        p.token = (*tokens)[i].is_string() ? (*tokens)[i].get<std::string>() : "";
        p.bytes = p.token;
        p.id = token_id(json::object(), p.token);
        p.logprob = clean_logprob(values && i < values->size() ? &(*values)[i] : nullptr);
        if (tops && i < tops->size() && (*tops)[i].is_object()) {
            for (const auto & [token, value] : (*tops)[i].items()) {
                top_logprob t;
                t.token = token;
                t.id = token_id(json::object(), token);
                t.logprob = clean_logprob(&value);
                p.top.push_back(std::move(t));
            }
            std::stable_sort(
                p.top.begin(), p.top.end(),
                [](const top_logprob & a, const top_logprob & b) { return a.logprob > b.logprob; });
        }
        record.positions.push_back(std::move(p));
    }
}

void openai_usage(const json & body, teacher_record & record) {
    const json * usage = member(body, "usage");
    if (usage == nullptr) return;
    record.usage.prompt_tokens = count_or_zero(*usage, "prompt_tokens");
    record.usage.completion_tokens = count_or_zero(*usage, "completion_tokens");
    if (const json * d = member(*usage, "prompt_tokens_details"))
        record.usage.cached_tokens = count_or_zero(*d, "cached_tokens");
    if (const json * d = member(*usage, "completion_tokens_details"))
        record.usage.reasoning_tokens = count_or_zero(*d, "reasoning_tokens");
}

void openai_embeddings(const json & body, teacher_record & record) {
    const json * data = member(body, "data");
    if (data == nullptr || !data->is_array())
        fail_invalid("embeddings response without a \"data\" array");
    // Results are matched by index, not by the order they arrive in.
    std::vector<std::pair<int64_t, const json *>> items;
    for (const json & item : *data) items.emplace_back(count_or_zero(item, "index"), &item);
    std::sort(items.begin(), items.end(),
              [](const auto & a, const auto & b) { return a.first < b.first; });
    for (const auto & [index, item] : items) {
        const json * values = member(*item, "embedding");
        if (values == nullptr || !values->is_array())
            fail_invalid("embedding " + std::to_string(index) +
                         " is not a float array (base64 encoding_format is not supported yet)");
        record.embeddings.push_back(float_vector(*values));
    }
}

void normalise_openai(request_kind kind, const json & body, teacher_record & record) {
    record.origin.model = string_or(body, "model");
    record.origin.system_fingerprint = string_or(body, "system_fingerprint");
    record.origin.request_id = string_or(body, "id");
    openai_usage(body, record);
    if (kind == request_kind::embedding) return openai_embeddings(body, record);
    const json * choices = member(body, "choices");
    if (choices == nullptr || !choices->is_array() || choices->empty())
        fail_invalid("response without \"choices\"");
    const json & choice = choices->front();
    record.finish_reason = string_or(choice, "finish_reason");
    if (const json * message = member(choice, "message"))
        record.text = string_or(*message, "content");
    else
        record.text = string_or(choice, "text");
    const json * logprobs = member(choice, "logprobs");
    if (logprobs == nullptr) return;  // not asked, or a reasoning model: no logprobs
    if (const json * content = member(*logprobs, "content"))
        chat_positions(*content, record);  // chat, and llama.cpp's /v1/completions
    else
        legacy_positions(*logprobs, record);
}

// Ollama's native API: /api/chat and /api/generate, /api/embed.
void normalise_ollama(request_kind kind, const json & body, teacher_record & record) {
    record.origin.model = string_or(body, "model");
    record.usage.prompt_tokens = count_or_zero(body, "prompt_eval_count");
    record.usage.completion_tokens = count_or_zero(body, "eval_count");
    if (kind == request_kind::embedding) {
        const json * vectors = member(body, "embeddings");
        if (vectors == nullptr || !vectors->is_array())
            fail_invalid("Ollama embed response without \"embeddings\"");
        for (const json & v : *vectors) record.embeddings.push_back(float_vector(v));
        return;
    }
    record.finish_reason = string_or(body, "done_reason");
    if (const json * message = member(body, "message"))
        record.text = string_or(*message, "content");
    else
        record.text = string_or(body, "response");
    if (const json * logprobs = member(body, "logprobs")) chat_positions(*logprobs, record);
}

// Ollama nests sampling parameters under "options" and caps length with num_predict.
json ollama_body(request_kind kind, json body) {
    body["stream"] = false;
    if (kind == request_kind::embedding) return body;
    static const char * sampling[] = {
        "temperature", "top_p", "top_k", "seed", "stop", "presence_penalty", "frequency_penalty"};
    json options = body.value("options", json::object());
    for (const char * name : sampling)
        if (body.contains(name)) {
            options[name] = body[name];
            body.erase(name);
        }
    if (body.contains("max_tokens")) {
        options["num_predict"] = body["max_tokens"];
        body.erase("max_tokens");
    }
    if (!options.empty()) body["options"] = options;
    return body;
}

}  // namespace

const char * dialect_name(http_dialect dialect) {
    switch (dialect) {
    case http_dialect::openai: return "openai";
    case http_dialect::vllm: return "vllm";
    case http_dialect::llama_cpp: return "llama.cpp";
    case http_dialect::ollama: return "ollama";
    case http_dialect::auto_detect: break;
    }
    return "auto";
}

request_kind kind_of(const json & request) {
    if (!request.is_object()) fail_invalid("request_json: expected a JSON object");
    if (request.contains("messages")) return request_kind::chat;
    if (request.contains("prompt")) return request_kind::completion;
    if (request.contains("input")) return request_kind::embedding;
    fail_invalid(
        "request_json: expected \"messages\" (chat), \"prompt\" (completion) or "
        "\"input\" (embeddings)");
}

std::string endpoint_path(http_dialect dialect, request_kind kind) {
    if (dialect == http_dialect::ollama) {
        switch (kind) {
        case request_kind::chat: return "/api/chat";
        case request_kind::completion: return "/api/generate";
        case request_kind::embedding: return "/api/embed";
        }
    }
    switch (kind) {
    case request_kind::chat: return "/chat/completions";
    case request_kind::completion: return "/completions";
    case request_kind::embedding: return "/embeddings";
    }
    return "";
}

http_dialect detect_dialect(const header_map & headers, const std::string & models_body) {
    if (const auto server = headers.find("server");
        server != headers.end() && server->second.find("llama.cpp") != std::string::npos)
        return http_dialect::llama_cpp;
    const json models = json::parse(models_body, nullptr, false);
    const json * data = member(models, "data");
    if (data != nullptr && data->is_array() && !data->empty()) {
        const json & first = data->front();
        const std::string owner = string_or(first, "owned_by");
        if (owner == "llamacpp") return http_dialect::llama_cpp;
        if (owner == "me" && first.contains("permissions")) return http_dialect::llama_cpp;
        if (owner == "vllm") return http_dialect::vllm;
        if (owner == "openai" || owner == "system" || owner == "openai-internal")
            return http_dialect::openai;
    }
    for (const auto & [name, value] : headers)
        if (name.rfind("openai-", 0) == 0) return http_dialect::openai;
    return http_dialect::auto_detect;
}

json build_body(http_dialect dialect, request_kind kind, const json & request,
                const json & parameters, const std::string & model) {
    json body = parameters.is_object() ? parameters : json::object();
    for (const auto & [name, value] : request.items()) body[name] = value;
    body.erase("id");
    if (!body.contains("model") && !model.empty()) body["model"] = model;
    return dialect == http_dialect::ollama ? ollama_body(kind, std::move(body)) : body;
}

void normalise_response(http_dialect dialect, request_kind kind, const json & body,
                        teacher_record & record) {
    if (!body.is_object()) fail_invalid("response body is not a JSON object");
    try {
        if (dialect == http_dialect::ollama)
            normalise_ollama(kind, body, record);
        else
            normalise_openai(kind, body, record);
    } catch (const json::exception & e) {
        // A field of an unexpected type ("bytes" holding strings, ...) that
        // the readers above did not check one by one: the same refusal.
        fail_invalid(std::string("malformed response: ") + e.what());
    }
    // vLLM's default --logprobs-mode is raw_logprobs; OpenAI's values are
    // after temperature and penalties; the others do not say.
    if (!record.positions.empty()) {
        // llama.cpp's server (and llama-cpp-python) report the model's own
        // distribution unless asked for post_sampling_probs.
        if (dialect == http_dialect::vllm || dialect == http_dialect::llama_cpp)
            record.kind = logprob_kind::raw;
        else if (dialect == http_dialect::openai)
            record.kind = logprob_kind::post_sampling;
    }
}

server_error parse_error_body(const std::string & body) {
    server_error out;
    const json parsed = json::parse(body, nullptr, false);
    if (const json * e = member(parsed, "error")) {
        if (e->is_string()) {
            out.message = e->get<std::string>();
        } else {
            out.message = string_or(*e, "message");
            out.code = string_or(*e, "code", string_or(*e, "type"));
            // insufficient_quota is sometimes only in "type".
            if (string_or(*e, "type") == "insufficient_quota") out.code = "insufficient_quota";
        }
        return out;
    }
    out.message = body.size() > 300 ? body.substr(0, 300) + "..." : body;
    return out;
}

}  // namespace distill
