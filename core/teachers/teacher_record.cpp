// teacher_record → JSON, for the JSONL export.
#include "teachers/teacher_record.h"

namespace distill {
namespace {

// A stored *_json field back as JSON (null when empty).
nlohmann::json embedded(const std::string & text) {
    return text.empty() ? nlohmann::json() : nlohmann::json::parse(text);
}

nlohmann::json bytes_array(const std::string & bytes) {
    nlohmann::json array = nlohmann::json::array();
    for (unsigned char byte : bytes) array.push_back(int(byte));
    return array;
}

const char * kind_name(logprob_kind kind) {
    switch (kind) {
    case logprob_kind::raw: return "raw";
    case logprob_kind::post_sampling: return "post_sampling";
    default: return "unknown";
    }
}

}  // namespace

nlohmann::json to_json(const teacher_record & record) {
    nlohmann::json positions = nlohmann::json::array();
    for (const token_position & p : record.positions) {
        nlohmann::json top = nlohmann::json::array();
        for (const top_logprob & t : p.top)
            top.push_back({{"id", t.id}, {"token", t.token}, {"logprob", t.logprob}});
        positions.push_back({{"token", p.token},
                             {"bytes", bytes_array(p.bytes)},
                             {"id", p.id},
                             {"logprob", p.logprob},
                             {"top_logprobs", top}});
    }
    const provenance & o = record.origin;
    nlohmann::json line = {
        {"key", record.key},
        {"text", record.text},
        {"logprobs", kind_name(record.kind)},
        {"positions", positions},
        {"embeddings", record.embeddings},
        {"usage",
         {{"prompt_tokens", record.usage.prompt_tokens},
          {"completion_tokens", record.usage.completion_tokens},
          {"cached_tokens", record.usage.cached_tokens},
          {"reasoning_tokens", record.usage.reasoning_tokens}}},
        {"provenance",
         {{"provider", o.provider},
          {"endpoint", o.endpoint},
          {"model", o.model},
          {"system_fingerprint", o.system_fingerprint},
          {"request_id", o.request_id},
          {"teacher", embedded(o.teacher_json)},
          {"request", embedded(o.request_json)},
          {"parameters", embedded(o.parameters_json)},
          {"started_at_ms", o.started_at_ms},
          {"finished_at_ms", o.finished_at_ms},
          {"latency_us", o.latency_us},
          {"attempts", o.attempts}}},
    };
    if (record.failed())
        line["error"] = {{"status", record.error_status}, {"message", record.error_message}};
    else
        line["error"] = nullptr;
    return line;
}

}  // namespace distill
