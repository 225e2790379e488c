// The normalised teacher answer: whatever the server's dialect (OpenAI,
// vLLM, llama.cpp, Ollama, a host callback), one request becomes one
// teacher_record. It is what the store keeps and what the C ABI's
// distill_teacher_record wraps.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace distill {

// How the log-probabilities were taken. Servers differ: vLLM returns the
// model's raw distribution by default, OpenAI the one after temperature,
// top-p and penalties. Mixing the two in one training set is a silent bug,
// so the record says which it holds. Values mirror DISTILL_LOGPROBS_*.
enum class logprob_kind : int32_t { unknown = 0, raw = 1, post_sampling = 2 };

// One alternative of a position's top-k list. Servers without token ids
// (OpenAI) give only the text: id = -1 then.
struct top_logprob {
    int32_t id = -1;
    std::string token;
    float logprob = 0.0f;  // held at fp16 precision (round_to_stored_precision)
};

// A log-probability the server did not give (it sent null: the first
// prompt token of an `echo` answer has no context to be predicted from).
// NaN, so that it can never pass for a real value (0 would read as
// certainty); std::isnan tells it.
inline constexpr float absent_logprob = std::numeric_limits<float>::quiet_NaN();

// One generated (or prompt) position.
struct token_position {
    std::string token;             // the token's text as the server printed it
    std::string bytes;             // its raw UTF-8 bytes (a token may be half a character)
    int32_t id = -1;               // vocabulary id, -1 when the server does not say
    float logprob = 0.0f;          // log-probability of this token, or absent_logprob
    std::vector<top_logprob> top;  // the top-k alternatives, most likely first
};

struct token_usage {
    int64_t prompt_tokens = 0;
    int64_t completion_tokens = 0;
    int64_t cached_tokens = 0;     // prompt tokens served from the server's cache
    int64_t reasoning_tokens = 0;  // hidden "thinking" tokens billed as completion
};

// Where the answer came from, enough to trace a training example back to
// the exact call. Times are Unix epoch milliseconds.
struct provenance {
    std::string provider;            // "openai", "vllm", "callback", ...
    std::string endpoint;            // URL or callback name
    std::string model;               // the model the server says answered
    std::string system_fingerprint;  // backend configuration id, when given
    std::string request_id;          // the server's id of the call
    std::string teacher_json;        // canonical JSON of the teacher's identity
    std::string request_json;        // canonical JSON of the request body
    std::string parameters_json;     // canonical JSON of the exact parameters
    int64_t started_at_ms = 0;
    int64_t finished_at_ms = 0;
    int64_t latency_us = 0;
    int64_t attempts = 0;
};

struct teacher_record {
    std::string key;  // the canonical request key (request_key.h), 64 hex digits
    std::string text;
    // Why the server stopped, as it said it: "stop", "length" (cut off by
    // max_tokens: a truncated answer), "content_filter", "tool_calls", ...;
    // "" when it did not say (embeddings, callbacks, stores before schema 3).
    std::string finish_reason;
    logprob_kind kind = logprob_kind::unknown;
    std::vector<token_position> positions;
    std::vector<std::vector<float>> embeddings;
    token_usage usage;
    provenance origin;
    // A failed request is kept as data: status != 0 (a distill_status) and
    // the reason, so a job never drops it silently and can retry it later.
    int32_t error_status = 0;
    std::string error_message;

    bool failed() const noexcept { return error_status != 0; }
};

// The model the request asked for: the request's "model", else the
// parameters', else the teacher identity's; "" when none names one.
std::string requested_model(const teacher_record & record);

// Whether the server says another model answered than the one asked for
// (a server that falls back to its default model for an unknown name).
// Not flagged: either side unknown (""), the same name, or the name
// followed by a version stamp: "-" and digits/dashes (OpenAI's
// "gpt-4o" → "gpt-4o-2024-08-06") or a ":" tag (Ollama's "llama3" →
// "llama3:latest").
bool answered_by_other_model(const teacher_record & record);

// The record as the store keeps it: every top-k log-probability rounded to
// fp16 (the chosen tokens' stay fp32). Applied to every answer a teacher
// gives (stamp_record), so an answer reads the same fresh and from a store.
void round_to_stored_precision(teacher_record & record);

// The record as one JSON object, the line format of the store's JSONL
// export: token bytes as arrays of integers (as OpenAI sends them), the
// *_json provenance fields embedded as JSON values, not strings.
nlohmann::json to_json(const teacher_record & record);

}  // namespace distill
