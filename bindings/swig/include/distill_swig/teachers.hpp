// teachers.hpp — teachers (host-language callbacks, HTTP servers, and the
// built-in models of students.hpp) and collection jobs, over
// distill_teacher_* and distill_collect.
#pragma once

#include "records.hpp"

#include <vector>

namespace distill_swig {

/// What a host-language teacher implements; the bindings derive from it
/// (a SWIG director) to call a Java TeacherCallback or a C# ITeacherCallback.
class TeacherCallbackNative {
public:
    virtual ~TeacherCallbackNative() = default;
    /// Fills `record` with the answer to `request_json`. Returns "" when
    /// done (a record marked with set_error is a failed request, stored as
    /// such), or the description of what the host callback threw: the
    /// library call then stops and raises it.
    virtual std::string answer(const std::string & request_json, TeacherRecord * record) = 0;
};

/// The dialect an HTTP teacher speaks.
enum class HttpDialect {
    automatic = 0,
    openai = 1,
    vllm = 2,
    llama_cpp = 3,
    ollama = 4
};
#ifndef SWIG
static_assert(static_cast<int>(HttpDialect::automatic) == DISTILL_HTTP_DIALECT_AUTO);
static_assert(static_cast<int>(HttpDialect::openai) == DISTILL_HTTP_DIALECT_OPENAI);
static_assert(static_cast<int>(HttpDialect::vllm) == DISTILL_HTTP_DIALECT_VLLM);
static_assert(static_cast<int>(HttpDialect::llama_cpp) == DISTILL_HTTP_DIALECT_LLAMA_CPP);
static_assert(static_cast<int>(HttpDialect::ollama) == DISTILL_HTTP_DIALECT_OLLAMA);
#endif

/// Options of an HTTP teacher (see distill_http_teacher_options); strings
/// left empty take the library's default.
struct HttpTeacherOptions {
    std::string base_url;        ///< required: "http://host:8000/v1"
    std::string model;           ///< sent as "model" unless the request has one
    HttpDialect dialect;
    std::string api_key_env;     ///< variable holding the API key
    std::string api_key_file;    ///< file holding the API key
    std::string parameters_json; ///< teacher-wide parameters (JSON object)
    int32_t timeout_ms;
    int32_t connect_timeout_ms;
    int32_t low_speed_seconds;   ///< abort an attempt below 1 byte/s for this long; 0 = off
    int32_t max_retries;
    double max_retry_seconds;
    int32_t retry_base_ms;
    int32_t retry_max_delay_ms;
    bool verify_tls;

    HttpTeacherOptions() {
        const distill::Options<distill_http_teacher_options, distill_http_teacher_options_init> defaults_init;
        distill_http_teacher_options defaults = defaults_init.get();
        dialect = static_cast<HttpDialect>(defaults.dialect);
        timeout_ms = defaults.timeout_ms;
        connect_timeout_ms = defaults.connect_timeout_ms;
        low_speed_seconds = defaults.low_speed_seconds;
        max_retries = defaults.max_retries;
        max_retry_seconds = defaults.max_retry_seconds;
        retry_base_ms = defaults.retry_base_ms;
        retry_max_delay_ms = defaults.retry_max_delay_ms;
        verify_tls = defaults.verify_tls != 0;
    }
};

/// Options of a collection job (see distill_collect_options).
struct CollectOptions {
    int32_t concurrency;         ///< HTTP requests in flight, ≥ 1
    double requests_per_minute;  ///< 0 = no budget
    double tokens_per_minute;    ///< 0 = no budget
    double price_prompt;         ///< USD per million prompt tokens
    double price_cached;         ///< USD per million cached prompt tokens
    double price_completion;     ///< USD per million completion tokens
    bool stop_on_fatal_error;    ///< stop at a failure every request would meet

    CollectOptions() {
        const distill::Options<distill_collect_options, distill_collect_options_init> defaults_init;
        distill_collect_options defaults = defaults_init.get();
        concurrency = defaults.concurrency;
        requests_per_minute = defaults.requests_per_minute;
        tokens_per_minute = defaults.tokens_per_minute;
        price_prompt = defaults.price_prompt;
        price_cached = defaults.price_cached;
        price_completion = defaults.price_completion;
        stop_on_fatal_error = defaults.stop_on_fatal_error != 0;
    }
};

/// What a collection job did.
struct CollectSummary {
    int64_t requests;            ///< in the set, repeats included
    int64_t answered_from_store; ///< stored successes and repeats
    int64_t asked;               ///< asked the teacher (succeeded + failed)
    int64_t succeeded;
    int64_t failed;
    int64_t prompt_tokens;
    int64_t cached_tokens;
    int64_t completion_tokens;
    double cost_usd;
    double elapsed_seconds;
};

/// A teacher: answers requests (JSON), each with a key in the store.
/// Callback and HTTP teachers may be queried from several threads at once.
class Teacher {
public:
    /// A teacher answered by `callback` (the bindings' bridge); name and
    /// model are its identity, parameters_json ("" = null) is part of
    /// every key.
    static Teacher create_callback(TeacherCallbackNative * callback, const std::string & name,
                                   const std::string & model, const std::string & parameters_json) {
        TeacherCallbackNative & host = require(callback, "callback");
        distill::CallbackTeacherOptions options;
        options->name = name.c_str();
        options->model = model.c_str();
        options->parameters_json = parameters_json.empty() ? nullptr : parameters_json.c_str();
        return Teacher(share([&] {
            return distill::Teacher::callback(
                [&host](const char * request_json, distill_teacher_record * record) {
                    return answer(host, request_json, record);
                },
                options);
        }));
    }

    /// A teacher behind an OpenAI-compatible server.
    static Teacher http(const HttpTeacherOptions * options) {
        const HttpTeacherOptions & o = require(options, "options");
        distill::HttpTeacherOptions c;
        c->base_url = o.base_url.c_str();
        c->model = o.model.c_str();
        c->dialect = static_cast<int32_t>(o.dialect);
        c->api_key_env = o.api_key_env.empty() ? nullptr : o.api_key_env.c_str();
        c->api_key_file = o.api_key_file.empty() ? nullptr : o.api_key_file.c_str();
        c->parameters_json = o.parameters_json.empty() ? nullptr : o.parameters_json.c_str();
        c->timeout_ms = o.timeout_ms;
        c->connect_timeout_ms = o.connect_timeout_ms;
        c->low_speed_seconds = o.low_speed_seconds;
        c->max_retries = o.max_retries;
        c->max_retry_seconds = o.max_retry_seconds;
        c->retry_base_ms = o.retry_base_ms;
        c->retry_max_delay_ms = o.retry_max_delay_ms;
        c->verify_tls = o.verify_tls ? 1 : 0;
        return Teacher(share([&] { return distill::Teacher::http(c); }));
    }

    /// The store key of a request (64 hex digits).
    std::string request_key(const std::string & request_json) const {
        return call([&] { return (*handle_).request_key(request_json); });
    }

    /// Asks once. A failed request is a record with failed() true; an
    /// exception thrown by a callback teacher is raised here.
    TeacherRecord query(const std::string & request_json) {
        return TeacherRecord::adopt(call([&] { return (*handle_).query(request_json); }));
    }

    /// Asks through a store: a stored success is returned without asking.
    TeacherRecord query_cached(Store * store, const std::string & request_json) {
        distill::Store & s = require(store, "store").native();
        return TeacherRecord::adopt(
            call([&] { return (*handle_).query_cached(s, request_json); }));
    }

    /// Asks every request once through the store (see distill_collect);
    /// options null = defaults.
    CollectSummary collect(Store * store, const std::vector<std::string> & requests,
                           const CollectOptions * options) {
        distill::Store & target = require(store, "store").native();
        const CollectOptions defaults;
        const CollectOptions & o = options ? *options : defaults;
        distill::CollectOptions c;
        c->concurrency = o.concurrency;
        c->requests_per_minute = o.requests_per_minute;
        c->tokens_per_minute = o.tokens_per_minute;
        c->price_prompt = o.price_prompt;
        c->price_cached = o.price_cached;
        c->price_completion = o.price_completion;
        c->stop_on_fatal_error = o.stop_on_fatal_error ? 1 : 0;
        const distill_collect_summary s =
            call([&] { return distill::collect(*handle_, target, requests, c); });
        return CollectSummary{s.requests,      s.answered_from_store, s.asked,
                              s.succeeded,     s.failed,              s.prompt_tokens,
                              s.cached_tokens, s.completion_tokens,   s.cost_usd,
                              s.elapsed_seconds};
    }

    /// The float32 features of a Dataset.ask_teacher request
    /// {"input": {"dtype", "shape", "divisor", "data": base64}} (see
    /// distill_example_request_features).
    static std::vector<float> request_features(const std::string & request_json) {
        return call([&] { return distill::example_request_features(request_json); });
    }

    // A teacher made by distill.hpp, keeping `keeps` alive (a model
    // teacher's model). Seen by SWIG (so that it knows there is no default
    // constructor) but not wrapped: teachers come from the factories.
    explicit Teacher(shared_handle<distill::Teacher> handle,
                     std::shared_ptr<const void> keeps = nullptr)
        : handle_(std::move(handle)), keeps_(std::move(keeps)) {}
#ifndef SWIG
    distill_teacher * get() const { return handle_.get(); }
    distill::Teacher & native() const { return *handle_; }
#endif

private:
    // The host callback's answer to one request: its failure is thrown
    // (distill.hpp carries it across the library call, which sees
    // CANCELLED, so nothing is stored).
    static distill_status answer(TeacherCallbackNative & callback, const char * request_json,
                                 distill_teacher_record * record) {
        CallbackScope scope;
        TeacherRecord view = TeacherRecord::borrow(record);
        std::string failure;
        int64_t error_status = 0;
        try {
            // The host owns this copy (it may outlive the call); it shares
            // `view`'s state, which is invalidated below.
            failure = callback.answer(request_json, new TeacherRecord(view));
            if (failure.empty()) error_status = view.get_int(RecordInt::error_status);
        } catch (const std::exception & e) {
            failure = e.what();
        } catch (...) {
            failure = "an unknown exception";
        }
        view.invalidate();
        if (!failure.empty())
            throw Error(DISTILL_STATUS_CANCELLED, "CANCELLED: the teacher callback threw " + failure);
        return static_cast<distill_status>(error_status);
    }

    shared_handle<distill::Teacher> handle_;
    std::shared_ptr<const void> keeps_;  // what the teacher uses (a model teacher's model)
};

}  // namespace distill_swig
