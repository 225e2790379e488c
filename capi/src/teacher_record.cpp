// distill_teacher_record_*: field-wise access to distill::teacher_record.
// Fields are addressed by enum (distill_record_string / _int) so a new field
// is a new enum value, not a new pair of exported functions.
#include <algorithm>
#include <cmath>
#include <string>

#include "api_guard.h"
#include "store/store.h"
#include "teacher_record_handle.h"
#include "teachers/request_key.h"

namespace distill::capi {

const distill::teacher_record & unwrap(const distill_teacher_record * record,
                                       const char * argument) {
    require_pointer(record, argument, "a record from distill_teacher_record_create");
    return record->impl;
}

distill::teacher_record & unwrap(distill_teacher_record * record, const char * argument) {
    require_pointer(record, argument, "a record from distill_teacher_record_create");
    return record->impl;
}

namespace {

[[noreturn]] void unknown_field(const char * kind, int32_t field, int32_t last) {
    fail_invalid(std::string("field: expected a ") + kind + " in [0, " + std::to_string(last) +
                 "], got " + std::to_string(field));
}

// The text field `field` of r; const-ness follows r (Record is teacher_record,
// const or not).
template <class Record>
auto * string_field(Record & r, int32_t field) {
    auto & o = r.origin;
    switch (field) {
    case DISTILL_RECORD_TEXT: return &r.text;
    case DISTILL_RECORD_PROVIDER: return &o.provider;
    case DISTILL_RECORD_ENDPOINT: return &o.endpoint;
    case DISTILL_RECORD_MODEL: return &o.model;
    case DISTILL_RECORD_SYSTEM_FINGERPRINT: return &o.system_fingerprint;
    case DISTILL_RECORD_REQUEST_ID: return &o.request_id;
    case DISTILL_RECORD_ERROR_MESSAGE: return &r.error_message;
    case DISTILL_RECORD_KEY: return &r.key;
    case DISTILL_RECORD_TEACHER_JSON: return &o.teacher_json;
    case DISTILL_RECORD_REQUEST_JSON: return &o.request_json;
    case DISTILL_RECORD_PARAMETERS_JSON: return &o.parameters_json;
    case DISTILL_RECORD_FINISH_REASON: return &r.finish_reason;
    default: unknown_field("distill_record_string", field, DISTILL_RECORD_FINISH_REASON);
    }
}

// The plain integer field `field` of r (not LOGPROBS_KIND, ERROR_STATUS or
// OTHER_MODEL).
template <class Record>
auto * int_field(Record & r, int32_t field) {
    switch (field) {
    case DISTILL_RECORD_PROMPT_TOKENS: return &r.usage.prompt_tokens;
    case DISTILL_RECORD_COMPLETION_TOKENS: return &r.usage.completion_tokens;
    case DISTILL_RECORD_CACHED_TOKENS: return &r.usage.cached_tokens;
    case DISTILL_RECORD_REASONING_TOKENS: return &r.usage.reasoning_tokens;
    case DISTILL_RECORD_STARTED_AT_MS: return &r.origin.started_at_ms;
    case DISTILL_RECORD_FINISHED_AT_MS: return &r.origin.finished_at_ms;
    case DISTILL_RECORD_LATENCY_US: return &r.origin.latency_us;
    case DISTILL_RECORD_ATTEMPTS: return &r.origin.attempts;
    default: unknown_field("distill_record_int", field, DISTILL_RECORD_OTHER_MODEL);
    }
}

// NaN is accepted: it is distill::absent_logprob.
void check_logprob(float value, const std::string & argument) {
    if (value > 0.0f)
        fail_invalid(argument + ": expected a log-probability <= 0 (or -inf, or NaN: absent), got " +
                     std::to_string(value));
}

void check_index(int64_t index, size_t count, const char * what) {
    if (index < 0 || uint64_t(index) >= count)
        fail_invalid("index: expected a " + std::string(what) + " index in [0, " +
                     std::to_string(count) + "), got " + std::to_string(index));
}

}  // namespace
}  // namespace distill::capi

using distill::capi::guarded;
using distill::capi::require_pointer;
using distill::capi::unwrap;

extern "C" {

distill_status distill_teacher_record_create(distill_teacher_record ** out) {
    return guarded([&] {
        require_pointer(out, "out", "a place for the new record");
        *out = new distill_teacher_record();
    });
}

void distill_teacher_record_free(distill_teacher_record * record) { delete record; }

distill_status distill_teacher_record_set_string(distill_teacher_record * record, int32_t field,
                                                 const char * value) {
    return guarded([&] {
        distill::teacher_record & r = unwrap(record);
        std::string * target = distill::capi::string_field(r, field);
        require_pointer(value, "value", "a NUL-terminated UTF-8 string");
        std::string text = value;
        if (field == DISTILL_RECORD_KEY) distill::check_request_key(text, "value");
        if (field == DISTILL_RECORD_TEACHER_JSON || field == DISTILL_RECORD_REQUEST_JSON ||
            field == DISTILL_RECORD_PARAMETERS_JSON)
            text = distill::canonical_json(distill::parse_json_argument(value, "value"));
        *target = std::move(text);
    });
}

distill_status distill_teacher_record_get_string(const distill_teacher_record * record,
                                                 int32_t field, const char ** out) {
    return guarded([&] {
        const distill::teacher_record & r = unwrap(record);
        const std::string * source = distill::capi::string_field(r, field);
        require_pointer(out, "out", "a place for the string");
        *out = source->c_str();
    });
}

distill_status distill_teacher_record_set_int(distill_teacher_record * record, int32_t field,
                                              int64_t value) {
    return guarded([&] {
        distill::teacher_record & r = unwrap(record);
        if (field == DISTILL_RECORD_LOGPROBS_KIND) {
            if (value < DISTILL_LOGPROBS_UNKNOWN || value > DISTILL_LOGPROBS_POST_SAMPLING)
                distill::fail_invalid("value: expected a distill_logprobs_kind in [0, 2], got " +
                                      std::to_string(value));
            r.kind = distill::logprob_kind(value);
        } else if (field == DISTILL_RECORD_OTHER_MODEL) {
            distill::fail_invalid(
                "field: DISTILL_RECORD_OTHER_MODEL is derived from the record's models and "
                "cannot be set; set DISTILL_RECORD_MODEL and the *_JSON fields instead");
        } else if (field == DISTILL_RECORD_ERROR_STATUS) {
            if (value < 0 || value > INT32_MAX)
                distill::fail_invalid("value: expected a distill_status >= 0, got " +
                                      std::to_string(value));
            r.error_status = int32_t(value);
        } else {
            int64_t * target = distill::capi::int_field(r, field);
            if (value < 0)
                distill::fail_invalid("value: expected a count or time >= 0, got " +
                                      std::to_string(value));
            *target = value;
        }
    });
}

distill_status distill_teacher_record_get_int(const distill_teacher_record * record, int32_t field,
                                              int64_t * out) {
    return guarded([&] {
        const distill::teacher_record & r = unwrap(record);
        int64_t value = 0;
        if (field == DISTILL_RECORD_LOGPROBS_KIND)
            value = int64_t(r.kind);
        else if (field == DISTILL_RECORD_ERROR_STATUS)
            value = r.error_status;
        else if (field == DISTILL_RECORD_OTHER_MODEL)
            value = distill::answered_by_other_model(r) ? 1 : 0;
        else
            value = *distill::capi::int_field(r, field);
        require_pointer(out, "out", "a place for the value");
        *out = value;
    });
}

distill_status distill_teacher_record_append_position(
    distill_teacher_record * record, const char * token, const uint8_t * token_bytes,
    size_t n_bytes, int32_t token_id, float logprob, int32_t top_k, const int32_t * topk_ids,
    const char * const * topk_tokens, const float * topk_logprobs) {
    return guarded([&] {
        distill::teacher_record & r = unwrap(record);
        require_pointer(token, "token", "the token's text");
        if (token_bytes == nullptr && n_bytes > 0)
            distill::fail_invalid("token_bytes: expected " + std::to_string(n_bytes) +
                                  " bytes, got NULL");
        if (token_id < -1)
            distill::fail_invalid("token_id: expected an id >= 0 or -1 (unknown), got " +
                                  std::to_string(token_id));
        distill::capi::check_logprob(logprob, "logprob");
        if (top_k < 0) distill::fail_invalid("top_k: expected >= 0, got " + std::to_string(top_k));
        if (top_k > 0)
            require_pointer(topk_logprobs, "topk_logprobs",
                            ("[" + std::to_string(top_k) + "] log-probabilities").c_str());
        distill::token_position p;
        p.token = token;
        p.bytes = token_bytes ? std::string(reinterpret_cast<const char *>(token_bytes), n_bytes)
                              : p.token;
        p.id = token_id;
        p.logprob = logprob;
        p.top.resize(size_t(top_k));
        for (int32_t i = 0; i < top_k; ++i) {
            const std::string at = "[" + std::to_string(i) + "]";
            distill::capi::check_logprob(topk_logprobs[i], "topk_logprobs" + at);
            p.top[i].logprob = topk_logprobs[i];
            if (topk_ids) {
                if (topk_ids[i] < -1)
                    distill::fail_invalid("topk_ids" + at + ": expected an id >= 0 or -1, got " +
                                          std::to_string(topk_ids[i]));
                p.top[i].id = topk_ids[i];
            }
            if (topk_tokens) {
                require_pointer(topk_tokens[i], ("topk_tokens" + at).c_str(), "a token text");
                p.top[i].token = topk_tokens[i];
            }
        }
        r.positions.push_back(std::move(p));
    });
}

distill_status distill_teacher_record_position_count(const distill_teacher_record * record,
                                                     int64_t * out) {
    return guarded([&] {
        const distill::teacher_record & r = unwrap(record);
        require_pointer(out, "out", "a place for the count");
        *out = int64_t(r.positions.size());
    });
}

distill_status distill_teacher_record_get_position(const distill_teacher_record * record,
                                                   int64_t index, const char ** out_token,
                                                   const uint8_t ** out_token_bytes,
                                                   size_t * out_n_bytes, int32_t * out_token_id,
                                                   float * out_logprob, int32_t * out_top_k) {
    return guarded([&] {
        const distill::teacher_record & r = unwrap(record);
        distill::capi::check_index(index, r.positions.size(), "position");
        const distill::token_position & p = r.positions[size_t(index)];
        if (out_token) *out_token = p.token.c_str();
        if (out_token_bytes) *out_token_bytes = reinterpret_cast<const uint8_t *>(p.bytes.data());
        if (out_n_bytes) *out_n_bytes = p.bytes.size();
        if (out_token_id) *out_token_id = p.id;
        if (out_logprob) *out_logprob = p.logprob;
        if (out_top_k) *out_top_k = int32_t(p.top.size());
    });
}

distill_status distill_teacher_record_get_topk(const distill_teacher_record * record, int64_t index,
                                               int32_t capacity, int32_t * ids, float * logprobs,
                                               const char ** tokens, int32_t * out_count) {
    return guarded([&] {
        const distill::teacher_record & r = unwrap(record);
        distill::capi::check_index(index, r.positions.size(), "position");
        if (capacity < 0)
            distill::fail_invalid("capacity: expected >= 0, got " + std::to_string(capacity));
        require_pointer(out_count, "out_count", "a place for the number copied");
        const auto & top = r.positions[size_t(index)].top;
        const int32_t count = std::min(capacity, int32_t(top.size()));
        for (int32_t i = 0; i < count; ++i) {
            if (ids) ids[i] = top[i].id;
            if (logprobs) logprobs[i] = top[i].logprob;
            if (tokens) tokens[i] = top[i].token.c_str();
        }
        *out_count = count;
    });
}

distill_status distill_teacher_record_append_embedding(distill_teacher_record * record,
                                                       const float * values, int64_t dim) {
    return guarded([&] {
        distill::teacher_record & r = unwrap(record);
        require_pointer(values, "values", "an embedding vector");
        if (dim < 1) distill::fail_invalid("dim: expected >= 1, got " + std::to_string(dim));
        for (int64_t i = 0; i < dim; ++i)
            if (!std::isfinite(values[i]))
                distill::fail_invalid("values[" + std::to_string(i) + "]: expected finite, got " +
                                      std::to_string(values[i]));
        r.embeddings.emplace_back(values, values + dim);
    });
}

distill_status distill_teacher_record_embedding_count(const distill_teacher_record * record,
                                                      int64_t * out) {
    return guarded([&] {
        const distill::teacher_record & r = unwrap(record);
        require_pointer(out, "out", "a place for the count");
        *out = int64_t(r.embeddings.size());
    });
}

distill_status distill_teacher_record_get_embedding(const distill_teacher_record * record,
                                                    int64_t index, const float ** out_values,
                                                    int64_t * out_dim) {
    return guarded([&] {
        const distill::teacher_record & r = unwrap(record);
        distill::capi::check_index(index, r.embeddings.size(), "embedding");
        require_pointer(out_values, "out_values", "a place for the vector");
        require_pointer(out_dim, "out_dim", "a place for its length");
        *out_values = r.embeddings[size_t(index)].data();
        *out_dim = int64_t(r.embeddings[size_t(index)].size());
    });
}

}  // extern "C"
