// What differs between OpenAI-compatible servers: where a request goes, how
// its body is spelled, and how the answer's log-probabilities come back.
// Everything is normalised into one teacher_record so the rest of distill
// never knows which server answered.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "teachers/retry_policy.h"
#include "teachers/teacher_record.h"

namespace distill {

// Values mirror DISTILL_HTTP_DIALECT_*.
enum class http_dialect : int32_t {
    auto_detect = 0,
    openai = 1,
    vllm = 2,
    llama_cpp = 3,
    ollama = 4
};

// What a request asks for, decided by its fields: "messages" = chat,
// "prompt" = legacy completion, "input" = embeddings.
enum class request_kind { chat, completion, embedding };

const char * dialect_name(http_dialect dialect);

// Throws invalid_argument when the request has none of the three fields.
request_kind kind_of(const nlohmann::json & request);

// The path appended to base_url ("/chat/completions"; Ollama: "/api/chat").
std::string endpoint_path(http_dialect dialect, request_kind kind);

// The dialect of a server answering "auto", from its answer to GET
// <base_url>/models: llama.cpp's server names itself in its Server header
// and owns its models as "llamacpp" (llama-cpp-python's as "me"); vLLM's
// are owned_by "vllm"; OpenAI's by "openai" or "system", with openai-*
// headers. auto_detect when nothing tells (read then as plain OpenAI).
http_dialect detect_dialect(const header_map & headers, const std::string & models_body);

// The wire body: the teacher-wide parameters, overridden by the request's
// own fields, plus the model; our prompt-set "id" stays local.
nlohmann::json build_body(http_dialect dialect, request_kind kind, const nlohmann::json & request,
                          const nlohmann::json & parameters, const std::string & model);

// Fills text, finish reason, positions, embeddings, usage, model,
// system_fingerprint, request id and the log-probability kind from a 2xx
// response body (a null log-probability is absent_logprob).
// Throws invalid_argument (caught by the teacher, kept as the record's
// error) when the body is not the shape the dialect promises.
void normalise_response(http_dialect dialect, request_kind kind, const nlohmann::json & body,
                        teacher_record & record);

// The server's error message and code from an error body: OpenAI's
// {"error": {"message", "type", "code"}}, Ollama's {"error": "..."}, or the
// raw text (shortened) when it is not JSON.
struct server_error {
    std::string message;
    std::string code;  // code, else type; "" when absent
};
server_error parse_error_body(const std::string & body);

}  // namespace distill
