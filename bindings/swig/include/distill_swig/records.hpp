// records.hpp — teacher records (one teacher answer) and the teacher-output
// store, over distill_teacher_record_* and distill_store_*.
#pragma once

#include "core.hpp"

#include <algorithm>
#include <vector>

namespace distill_swig {

/// Text fields of a record.
enum class RecordString {
    text = 0,
    provider = 1,
    endpoint = 2,
    model = 3,
    system_fingerprint = 4,
    request_id = 5,
    error_message = 6,
    key = 7,
    teacher_json = 8,
    request_json = 9,
    parameters_json = 10,
    finish_reason = 11  ///< why the server stopped ("length": truncated); "" unknown (ABI 6)
};
#ifndef SWIG
static_assert(static_cast<int>(RecordString::text) == DISTILL_RECORD_TEXT);
static_assert(static_cast<int>(RecordString::provider) == DISTILL_RECORD_PROVIDER);
static_assert(static_cast<int>(RecordString::endpoint) == DISTILL_RECORD_ENDPOINT);
static_assert(static_cast<int>(RecordString::model) == DISTILL_RECORD_MODEL);
static_assert(static_cast<int>(RecordString::system_fingerprint) == DISTILL_RECORD_SYSTEM_FINGERPRINT);
static_assert(static_cast<int>(RecordString::request_id) == DISTILL_RECORD_REQUEST_ID);
static_assert(static_cast<int>(RecordString::error_message) == DISTILL_RECORD_ERROR_MESSAGE);
static_assert(static_cast<int>(RecordString::key) == DISTILL_RECORD_KEY);
static_assert(static_cast<int>(RecordString::teacher_json) == DISTILL_RECORD_TEACHER_JSON);
static_assert(static_cast<int>(RecordString::request_json) == DISTILL_RECORD_REQUEST_JSON);
static_assert(static_cast<int>(RecordString::parameters_json) == DISTILL_RECORD_PARAMETERS_JSON);
static_assert(static_cast<int>(RecordString::finish_reason) == DISTILL_RECORD_FINISH_REASON);
#endif

/// Integer fields of a record.
enum class RecordInt {
    prompt_tokens = 0,
    completion_tokens = 1,
    cached_tokens = 2,
    reasoning_tokens = 3,
    started_at_ms = 4,
    finished_at_ms = 5,
    latency_us = 6,
    attempts = 7,
    logprobs_kind = 8,
    error_status = 9,
    other_model = 10  ///< read-only: 1 when another model answered than asked (ABI 6)
};
#ifndef SWIG
static_assert(static_cast<int>(RecordInt::prompt_tokens) == DISTILL_RECORD_PROMPT_TOKENS);
static_assert(static_cast<int>(RecordInt::completion_tokens) == DISTILL_RECORD_COMPLETION_TOKENS);
static_assert(static_cast<int>(RecordInt::cached_tokens) == DISTILL_RECORD_CACHED_TOKENS);
static_assert(static_cast<int>(RecordInt::reasoning_tokens) == DISTILL_RECORD_REASONING_TOKENS);
static_assert(static_cast<int>(RecordInt::started_at_ms) == DISTILL_RECORD_STARTED_AT_MS);
static_assert(static_cast<int>(RecordInt::finished_at_ms) == DISTILL_RECORD_FINISHED_AT_MS);
static_assert(static_cast<int>(RecordInt::latency_us) == DISTILL_RECORD_LATENCY_US);
static_assert(static_cast<int>(RecordInt::attempts) == DISTILL_RECORD_ATTEMPTS);
static_assert(static_cast<int>(RecordInt::logprobs_kind) == DISTILL_RECORD_LOGPROBS_KIND);
static_assert(static_cast<int>(RecordInt::error_status) == DISTILL_RECORD_ERROR_STATUS);
static_assert(static_cast<int>(RecordInt::other_model) == DISTILL_RECORD_OTHER_MODEL);
#endif

/// One teacher answer: text, token positions with their top-k alternatives,
/// embeddings, usage, provenance, and for a failed request its error. Not
/// synchronised: one thread at a time. The record a teacher callback is
/// given is valid during the callback only; using it afterwards raises.
class TeacherRecord {
public:
    /// A new, empty record.
    TeacherRecord() : TeacherRecord(std::make_shared<State>(call([] { return distill::TeacherRecord(); }))) {}

    std::string get_string(RecordString field) const {
        return call([&] { return view().string(static_cast<distill_record_string>(field)); });
    }
    void set_string(RecordString field, const std::string & value) {
        call([&] { view().set_string(static_cast<distill_record_string>(field), value); });
    }
    int64_t get_int(RecordInt field) const {
        return call([&] { return view().integer(static_cast<distill_record_int>(field)); });
    }
    void set_int(RecordInt field, int64_t value) {
        call([&] { view().set_integer(static_cast<distill_record_int>(field), value); });
    }

    /// The generated text.
    std::string text() const { return get_string(RecordString::text); }
    /// The store key: hex SHA-256 of the canonical request and teacher.
    std::string key() const { return get_string(RecordString::key); }
    /// Why the server stopped: "stop", "length" (truncated by max_tokens), ...; "" unknown.
    std::string finish_reason() const { return get_string(RecordString::finish_reason); }
    /// True when the server says another model answered than the one asked for.
    bool other_model() const { return get_int(RecordInt::other_model) != 0; }
    /// True when the request failed (error_status and error_message say why).
    bool failed() const { return get_int(RecordInt::error_status) != 0; }
    /// Marks the request failed (status: a distill_status other than 0) —
    /// from a teacher callback, the answer is then stored as a failure.
    void set_error(int32_t status, const std::string & message) {
        set_int(RecordInt::error_status, status);
        set_string(RecordString::error_message, message);
    }

    /// Appends a token position: its text, vocabulary id (-1 unknown),
    /// log-probability, and top-k alternatives (ids and log-probabilities of
    /// equal lengths, or both null; their texts are left empty).
    void append_position(const std::string & token, int32_t token_id, float logprob,
                         IntArray topk_ids, FloatArray topk_logprobs) {
        expect_length(topk_ids.length, topk_logprobs.length, "topk_ids");
        call([&] {
            view().append_position(token, token_id, logprob,
                                   static_cast<int32_t>(topk_logprobs.length), topk_ids.data,
                                   nullptr, topk_logprobs.data);
        });
    }

    /// The same with the alternatives' texts (a server's top-k tokens):
    /// topk_tokens as many as topk_ids. An alternative of id -1 is then
    /// mapped to a student's token by its text's bytes (fitStored).
    void append_position(const std::string & token, int32_t token_id, float logprob,
                         IntArray topk_ids, const std::vector<std::string> & topk_tokens,
                         FloatArray topk_logprobs) {
        expect_length(topk_ids.length, topk_logprobs.length, "topk_ids");
        expect_length(int64_t(topk_tokens.size()), topk_logprobs.length, "topk_tokens");
        std::vector<const char *> texts;
        for (const std::string & text : topk_tokens) texts.push_back(text.c_str());
        call([&] {
            view().append_position(token, token_id, logprob,
                                   static_cast<int32_t>(topk_logprobs.length), topk_ids.data,
                                   texts.data(), topk_logprobs.data);
        });
    }

    /// Answers a classification request the way a model teacher does
    /// (distill_teacher_record_set_classification): one position whose
    /// top-k alternatives are the classes (id = class index, token = its
    /// decimal text), log_softmax(logits / temperature), most likely first;
    /// top_k 0 = every class. The text is the most likely class, the
    /// logprobs kind RAW.
    void answer_classification(FloatArray logits, int32_t top_k, float temperature) {
        call([&] { view().set_classification(logits.data, logits.length, temperature, top_k); });
    }

    int64_t position_count() const {
        return call([&] { return view().position_count(); });
    }
    std::string position_token(int64_t index) const {
        return call([&] { return view().position(index).token; });
    }
    int32_t position_token_id(int64_t index) const {
        return call([&] { return view().position(index).id; });
    }
    float position_logprob(int64_t index) const {
        return call([&] { return view().position(index).logprob; });
    }
    /// The number of alternatives at a position (size copy_topk's arrays with it).
    int32_t position_top_k(int64_t index) const {
        return call([&] { return view().position(index).top_k; });
    }
    /// Copies a position's alternatives into ids and logprobs (either may be
    /// null); returns how many were copied, min(top_k, capacity).
    int32_t copy_topk(int64_t index, IntArray ids, FloatArray logprobs) const {
        int64_t capacity = ids.data ? ids.length : logprobs.length;
        if (ids.data && logprobs.data) capacity = std::min(ids.length, logprobs.length);
        return call([&] {
            return view().copy_topk(index, static_cast<int32_t>(capacity), ids.data, logprobs.data);
        });
    }

    /// Appends an embedding vector (copied).
    void append_embedding(FloatArray values) {
        call([&] { view().append_embedding(values.data, values.length); });
    }
    int64_t embedding_count() const {
        return call([&] { return view().embedding_count(); });
    }
    /// A copy of embedding `index`.
    std::vector<float> embedding(int64_t index) const {
        return call([&] { return view().embedding(index); });
    }

#ifndef SWIG
    // A record owned by the library (a callback teacher's), valid until
    // invalidate().
    static TeacherRecord borrow(distill_teacher_record * record) {
        return TeacherRecord(std::make_shared<State>(distill::RecordView(record)));
    }
    static TeacherRecord adopt(distill::TeacherRecord record) {
        return TeacherRecord(std::make_shared<State>(std::move(record)));
    }
    void invalidate() { state_->view = distill::RecordView(nullptr); }
    distill_teacher_record * get() const { return view().get(); }
#endif

private:
    // The record's view, and the record itself unless borrowed.
    struct State {
        distill::TeacherRecord owner;  // empty when borrowed
        distill::RecordView view;
        explicit State(distill::TeacherRecord record)
            : owner(std::move(record)), view(owner.get()) {}
        explicit State(distill::RecordView borrowed) : view(borrowed) {}
    };
    explicit TeacherRecord(std::shared_ptr<State> state) : state_(std::move(state)) {}
#ifndef SWIG
    distill::RecordView view() const {
        if (state_->view.get() == nullptr)
            throw Error(DISTILL_STATUS_INVALID_ARGUMENT,
                        "record: used after the teacher callback it was given to returned");
        return state_->view;
    }
#endif

    std::shared_ptr<State> state_;
};

/// Counts of a store.
struct StoreStats {
    int64_t records;    ///< rows, failures included
    int64_t failures;   ///< rows with an error status
    int64_t positions;  ///< token positions in all rows
    int64_t blob_bytes; ///< compressed position and embedding bytes
    // Successful rows by finish reason, and answered by another model (ABI 6).
    int64_t finished_stop;           ///< "stop"
    int64_t finished_length;         ///< "length": truncated by max_tokens
    int64_t finished_content_filter; ///< "content_filter"
    int64_t finished_tool_calls;     ///< "tool_calls" or "function_call"
    int64_t finished_other;          ///< any other reason
    int64_t finish_not_given;        ///< the server did not say
    int64_t other_model;             ///< another model answered than asked
};

/// The teacher-output store: one SQLite file (WAL), one row per request key.
/// May be used from several threads at once (calls are serialised).
class Store {
public:
    /// Opens (creating unless read_only) the store at path.
    explicit Store(const std::string & path, bool read_only = false)
        : Store(path, read_only, distill::StoreOptions()->busy_timeout_ms) {}
    /// The same, waiting up to busy_timeout_ms for another writer's lock.
    Store(const std::string & path, bool read_only, int32_t busy_timeout_ms) {
        distill::StoreOptions options;
        options->read_only = read_only ? 1 : 0;
        options->busy_timeout_ms = busy_timeout_ms;
        handle_ = share([&] { return distill::Store(path, options); });
    }

    /// Stores a record under its key, replacing a row with the same key.
    void put(const TeacherRecord * record) {
        const TeacherRecord & r = require(record, "record");
        call([&] { (*handle_).put(distill::RecordView(r.get())); });
    }

    /// The record stored under key, or null when there is none.
    TeacherRecord * get(const std::string & key) {
        std::optional<distill::TeacherRecord> found = call([&] { return (*handle_).get(key); });
        return found ? new TeacherRecord(TeacherRecord::adopt(std::move(*found))) : nullptr;
    }

    StoreStats stats() {
        const distill_store_stats stats = call([&] { return (*handle_).stats(); });
        return StoreStats{stats.records,
                          stats.failures,
                          stats.positions,
                          stats.blob_bytes,
                          stats.finished_stop,
                          stats.finished_length,
                          stats.finished_content_filter,
                          stats.finished_tool_calls,
                          stats.finished_other,
                          stats.finish_not_given,
                          stats.other_model};
    }

    /// Writes every row to path as JSON Lines.
    void export_jsonl(const std::string & path) {
        call([&] { (*handle_).export_jsonl(path); });
    }

#ifndef SWIG
    distill_store * get() const { return handle_.get(); }
    distill::Store & native() const { return *handle_; }
#endif

private:
    shared_handle<distill::Store> handle_;
};

}  // namespace distill_swig
