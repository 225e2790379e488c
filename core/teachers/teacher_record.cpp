// teacher_record → JSON, for the JSONL export; what is derived from a record.
#include "teachers/teacher_record.h"

#include <algorithm>

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

// The "model" string of a stored *_json object, or "".
std::string model_of(const std::string & json_text) {
    if (json_text.empty()) return "";
    const nlohmann::json object = nlohmann::json::parse(json_text, nullptr, false);
    if (!object.is_object()) return "";
    const auto model = object.find("model");
    return model != object.end() && model->is_string() ? model->get<std::string>() : "";
}

// "-2024-08-06", "-0613": a dated or numbered snapshot of the same model.
bool is_version_stamp(const std::string & suffix) {
    if (suffix.size() < 2 || suffix[0] != '-') return false;
    return std::all_of(suffix.begin() + 1, suffix.end(),
                       [](char c) { return (c >= '0' && c <= '9') || c == '-'; });
}

}  // namespace

std::string requested_model(const teacher_record & record) {
    for (const std::string * json_text : {&record.origin.request_json,
                                          &record.origin.parameters_json,
                                          &record.origin.teacher_json})
        if (std::string model = model_of(*json_text); !model.empty()) return model;
    return "";
}

bool answered_by_other_model(const teacher_record & record) {
    const std::string & answered = record.origin.model;
    const std::string asked = requested_model(record);
    if (answered.empty() || asked.empty() || answered == asked) return false;
    if (answered.size() <= asked.size() || answered.compare(0, asked.size(), asked) != 0)
        return true;
    const std::string suffix = answered.substr(asked.size());
    return !(is_version_stamp(suffix) || suffix[0] == ':');
}

void round_to_stored_precision(teacher_record & record) {
    for (token_position & p : record.positions)
        for (top_logprob & t : p.top) t.logprob = float(_Float16(t.logprob));
}

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
        {"finish_reason",
         record.finish_reason.empty() ? nlohmann::json() : nlohmann::json(record.finish_reason)},
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
          {"requested_model", requested_model(record)},
          {"model_differs", answered_by_other_model(record)},
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
