// distill.hpp — the one header-only C++17 wrapper over the C ABI (distill.h),
// in the manner of ONNX Runtime's C++ API: every handle is a Handle<T> (unique
// ownership, the right *_free chosen by handle_traits<T>), every options
// struct an Options<C> filled by its *_init (the library's defaults, never
// repeated here), every failure an Exception carrying the status. Progress of
// fit, collect and ask_teacher can be a std::function; an exception it
// throws is carried across the C call (the library sees CANCELLED) and
// rethrown once the call returns. It adds no symbols to libdistill.so, so it
// is as stable as the C ABI under it. The Python and SWIG bindings are built
// on it.
//
//   distill::Context cpu;                               // CPU, all cores
//   distill::KdLossOptions options;                     // the C defaults
//   options->temperature = 2.0f;
//   distill::kd_loss(cpu, options, student, teacher, nullptr, loss, &grad);
#pragma once

#include <distill/distill.h>

#include <array>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace distill {

// A failed call: the status and the library's message.
class Exception : public std::runtime_error {
public:
    Exception(distill_status status, const std::string & message)
        : std::runtime_error(std::string(distill_status_name(status)) + ": " + message),
          status_(status),
          message_(message) {}
    distill_status status() const noexcept { return status_; }
    // The library's message alone, without the status name.
    const std::string & message() const noexcept { return message_; }

private:
    distill_status status_;
    std::string message_;
};

namespace detail {
// The exception a callback of this thread threw during the library call in
// flight, kept until that call returns (exceptions never cross the C ABI).
inline std::exception_ptr & pending_exception() noexcept {
    thread_local std::exception_ptr pending;
    return pending;
}
// Runs a callback body for the library: its status, or CANCELLED with the
// (first) exception kept for check() to rethrow.
template <class Body> distill_status guarded(Body && body) noexcept {
    try {
        return body();
    } catch (...) {
        std::exception_ptr & pending = pending_exception();
        if (!pending) pending = std::current_exception();
        return DISTILL_STATUS_CANCELLED;
    }
}
}  // namespace detail

// Throws for a non-OK status: a callback's exception kept during the call
// first, else Exception with the thread's last message. An OK status drops
// a kept exception (the library got past it).
inline void check(distill_status status) {
    std::exception_ptr pending = std::exchange(detail::pending_exception(), nullptr);
    if (status == DISTILL_STATUS_OK) return;
    if (pending) std::rethrow_exception(pending);
    throw Exception(status, distill_last_error_message());
}

// Throws when the library is older than the header or of another major
// version (a header/library mismatch).
inline void check_library_version() {
    const std::string version = distill_version();
    const std::string major = std::to_string(DISTILL_VERSION_MAJOR) + ".";
    if (version.compare(0, major.size(), major) != 0 || distill_abi_version() < DISTILL_ABI_VERSION)
        throw Exception(DISTILL_STATUS_UNSUPPORTED,
                        "libdistill " + version + " (ABI " + std::to_string(distill_abi_version()) +
                            ") does not match distill.h " DISTILL_VERSION_STRING " (ABI " +
                            std::to_string(DISTILL_ABI_VERSION) + ")");
}

// ---------------------------------------------------------------------------
// Handles
// ---------------------------------------------------------------------------

// How each handle type is released: one specialisation per *_free.
template <class T> struct handle_traits;
#define DISTILL_HPP_HANDLE(type, release_fn)                                \
    template <> struct handle_traits<type> {                                \
        static void release(type * handle) noexcept { release_fn(handle); } \
    };
DISTILL_HPP_HANDLE(distill_context, distill_context_free)
DISTILL_HPP_HANDLE(distill_teacher_record, distill_teacher_record_free)
DISTILL_HPP_HANDLE(distill_store, distill_store_free)
DISTILL_HPP_HANDLE(distill_teacher, distill_teacher_free)
DISTILL_HPP_HANDLE(distill_model, distill_model_free)
DISTILL_HPP_HANDLE(distill_dataset, distill_dataset_free)
DISTILL_HPP_HANDLE(distill_trainer, distill_trainer_free)
DISTILL_HPP_HANDLE(distill_tokenizer, distill_tokenizer_free)
DISTILL_HPP_HANDLE(distill_text_dataset, distill_text_dataset_free)
#undef DISTILL_HPP_HANDLE

// Unique ownership of one library handle (null when moved from). The
// wrapper classes below derive from it.
template <class T> class Handle {
public:
    Handle() noexcept = default;
    explicit Handle(T * handle) noexcept : handle_(handle) {}
    Handle(Handle && other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Handle & operator=(Handle && other) noexcept {
        if (this != &other) reset(std::exchange(other.handle_, nullptr));
        return *this;
    }
    Handle(const Handle &) = delete;
    Handle & operator=(const Handle &) = delete;
    ~Handle() { handle_traits<T>::release(handle_); }

    T * get() const noexcept { return handle_; }
    explicit operator bool() const noexcept { return handle_ != nullptr; }
    // Gives the handle up (the caller frees it).
    T * release() noexcept { return std::exchange(handle_, nullptr); }
    void reset(T * handle = nullptr) noexcept {
        handle_traits<T>::release(std::exchange(handle_, handle));
    }

protected:
    // For a C call's out-parameter: frees what is held, then &handle.
    T ** out() noexcept {
        reset();
        return &handle_;
    }

private:
    T * handle_ = nullptr;
};

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

// A C options struct filled with the library's defaults by its *_init;
// fields by get() or ->, and it converts to the C struct where one is taken.
template <class C, distill_status (*Init)(C *)> class Options {
public:
    using c_type = C;
    Options() { check(Init(&options_)); }
    C & get() noexcept { return options_; }
    const C & get() const noexcept { return options_; }
    C * operator->() noexcept { return &options_; }
    const C * operator->() const noexcept { return &options_; }
    operator const C &() const noexcept { return options_; }

private:
    C options_{};
};

// A progress callback given to the library: `fn` (may be empty) behind a C
// function pointer. Returning false cancels; an exception cancels and is
// rethrown by the call.
template <class Event> struct Progress {
    std::function<bool(const Event &)> fn;
    static distill_status call(void * user_data, const Event * event) {
        auto * self = static_cast<const Progress *>(user_data);
        return detail::guarded([&] {
            return self->fn(*event) ? DISTILL_STATUS_OK : DISTILL_STATUS_CANCELLED;
        });
    }
    // Installs this progress into a C options struct when fn is set.
    template <class COptions> void install(COptions & options) const {
        if (!fn) return;
        options.progress = &Progress::call;
        options.progress_user_data = const_cast<Progress *>(this);
    }
};

class ContextOptions : public Options<distill_context_options, distill_context_options_init> {
public:
    static ContextOptions cpu(int32_t num_threads = 0) {
        ContextOptions o;
        o->num_threads = num_threads;
        return o;
    }
    static ContextOptions cuda(int32_t device_id = 0, void * stream = nullptr) {
        ContextOptions o;
        o->device_type = DISTILL_DEVICE_CUDA;
        o->device_id = device_id;
        o->cuda_stream = stream;
        return o;
    }
};
using KdLossOptions = Options<distill_kd_loss_options, distill_kd_loss_options_init>;
using StoreOptions = Options<distill_store_options, distill_store_options_init>;
using CallbackTeacherOptions =
    Options<distill_callback_teacher_options, distill_callback_teacher_options_init>;
using HttpTeacherOptions = Options<distill_http_teacher_options, distill_http_teacher_options_init>;
using ModelTeacherOptions =
    Options<distill_model_teacher_options, distill_model_teacher_options_init>;
using TrainerOptions = Options<distill_trainer_options, distill_trainer_options_init>;
using Batch = Options<distill_batch, distill_batch_init>;

// Options with a progress callback: set on_progress to a std::function (it
// is used in place of the C struct's progress pointer when set).
template <class C, distill_status (*Init)(C *), class Event>
class OptionsWithProgress : public Options<C, Init> {
public:
    OptionsWithProgress & on_progress(std::function<bool(const Event &)> fn) {
        progress.fn = std::move(fn);
        return *this;
    }
    Progress<Event> progress;
};
using CollectOptions = OptionsWithProgress<distill_collect_options, distill_collect_options_init,
                                           distill_collect_summary>;
using AskOptions =
    OptionsWithProgress<distill_ask_options, distill_ask_options_init, distill_progress>;
using FitOptions =
    OptionsWithProgress<distill_fit_options, distill_fit_options_init, distill_progress>;
using TokenBatch = Options<distill_token_batch, distill_token_batch_init>;
using LmEvalOptions = Options<distill_lm_eval_options, distill_lm_eval_options_init>;
using TextFitOptions = OptionsWithProgress<distill_text_fit_options, distill_text_fit_options_init,
                                           distill_text_fit_progress>;

// A result struct with its struct_size set, for the library to fill.
template <class C> C sized() noexcept {
    C out{};
    out.struct_size = sizeof out;
    return out;
}

// Owns a distill_context. Movable, not copyable.
class Context : public Handle<distill_context> {
public:
    Context() : Context(ContextOptions{}) {}
    explicit Context(const ContextOptions & options) {
        check(distill_context_create(&options.get(), out()));
    }
};

inline int32_t cuda_device_count() {
    int32_t count = 0;
    check(distill_cuda_device_count(&count));
    return count;
}

// distill_kd_loss; throws Exception on failure. labels and grad may be null.
inline void kd_loss(const Context & context, const KdLossOptions & options,
                    const DLTensor & student_logits, const DLTensor & teacher_logits,
                    const DLTensor * labels, DLTensor & loss,
                    DLTensor * grad_student_logits = nullptr) {
    check(distill_kd_loss(context.get(), &options.get(), &student_logits, &teacher_logits, labels,
                          &loss, grad_student_logits));
}

// distill_kd_loss_topk; throws Exception on failure.
inline void kd_loss_topk(const Context & context, const KdLossOptions & options,
                         const DLTensor & student_logits, const DLTensor & teacher_topk_ids,
                         const DLTensor & teacher_topk_logprobs, const DLTensor * labels,
                         DLTensor & loss, DLTensor * grad_student_logits = nullptr) {
    check(distill_kd_loss_topk(context.get(), &options.get(), &student_logits, &teacher_topk_ids,
                               &teacher_topk_logprobs, labels, &loss, grad_student_logits));
}

// The same over pointers, for callers whose required tensors may be null
// (the library refuses them, naming them).
inline void kd_loss(const Context & context, const KdLossOptions & options,
                    const DLTensor * student_logits, const DLTensor * teacher_logits,
                    const DLTensor * labels, DLTensor * loss, DLTensor * grad_student_logits) {
    check(distill_kd_loss(context.get(), &options.get(), student_logits, teacher_logits, labels,
                          loss, grad_student_logits));
}
inline void kd_loss_topk(const Context & context, const KdLossOptions & options,
                         const DLTensor * student_logits, const DLTensor * teacher_topk_ids,
                         const DLTensor * teacher_topk_logprobs, const DLTensor * labels,
                         DLTensor * loss, DLTensor * grad_student_logits) {
    check(distill_kd_loss_topk(context.get(), &options.get(), student_logits, teacher_topk_ids,
                               teacher_topk_logprobs, labels, loss, grad_student_logits));
}

// ---------------------------------------------------------------------------
// Teacher records, the store and teachers (ABI 2)
// ---------------------------------------------------------------------------

namespace detail {
// The accessors of a teacher record, over Self::get() (the record pointer):
// shared by TeacherRecord (owning) and RecordView (borrowed).
template <class Self> class RecordAccessors {
public:
    std::string string(distill_record_string field) const {
        const char * value = nullptr;
        check(distill_teacher_record_get_string(record(), field, &value));
        return value;
    }
    void set_string(distill_record_string field, const std::string & value) {
        check(distill_teacher_record_set_string(record(), field, value.c_str()));
    }
    int64_t integer(distill_record_int field) const {
        int64_t value = 0;
        check(distill_teacher_record_get_int(record(), field, &value));
        return value;
    }
    void set_integer(distill_record_int field, int64_t value) {
        check(distill_teacher_record_set_int(record(), field, value));
    }
    bool failed() const { return integer(DISTILL_RECORD_ERROR_STATUS) != 0; }
    std::string key() const { return string(DISTILL_RECORD_KEY); }
    std::string text() const { return string(DISTILL_RECORD_TEXT); }

    int64_t position_count() const {
        int64_t count = 0;
        check(distill_teacher_record_position_count(record(), &count));
        return count;
    }
    // One token position (distill_teacher_record_get_position), copied.
    struct Position {
        std::string token;
        std::string bytes;  // the token's raw bytes
        int32_t id = -1;
        float logprob = 0.0f;
        int32_t top_k = 0;
    };
    Position position(int64_t index) const {
        const char * token = nullptr;
        const uint8_t * bytes = nullptr;
        size_t n_bytes = 0;
        Position p;
        check(distill_teacher_record_get_position(record(), index, &token, &bytes, &n_bytes,
                                                  &p.id, &p.logprob, &p.top_k));
        p.token = token;
        p.bytes.assign(reinterpret_cast<const char *>(bytes), n_bytes);
        return p;
    }
    // Position `index`'s top-k log-probabilities and ids (and token texts
    // when `tokens` is given).
    void topk(int64_t index, std::vector<int32_t> & ids, std::vector<float> & logprobs,
              std::vector<std::string> * tokens = nullptr) const {
        const int32_t top_k = position(index).top_k;
        ids.resize(size_t(top_k));
        logprobs.resize(size_t(top_k));
        std::vector<const char *> texts(tokens ? size_t(top_k) : 0);
        int32_t copied = 0;
        check(distill_teacher_record_get_topk(record(), index, top_k, ids.data(), logprobs.data(),
                                              tokens ? texts.data() : nullptr, &copied));
        if (tokens) tokens->assign(texts.begin(), texts.end());
    }
    // Copies at most `capacity` alternatives of position `index` into ids
    // and logprobs (either may be null); returns how many were copied.
    int32_t copy_topk(int64_t index, int32_t capacity, int32_t * ids, float * logprobs) const {
        int32_t copied = 0;
        check(distill_teacher_record_get_topk(record(), index, capacity, ids, logprobs, nullptr,
                                              &copied));
        return copied;
    }
    // Appends a position (distill_teacher_record_append_position): top_k
    // alternatives of ids, tokens (may be null) and logprobs.
    void append_position(const std::string & token, int32_t id, float logprob, int32_t top_k = 0,
                         const int32_t * ids = nullptr, const char * const * tokens = nullptr,
                         const float * logprobs = nullptr) {
        check(distill_teacher_record_append_position(record(), token.c_str(), nullptr, 0, id,
                                                     logprob, top_k, ids, tokens, logprobs));
    }

    void append_embedding(const float * values, int64_t dim) {
        check(distill_teacher_record_append_embedding(record(), values, dim));
    }
    int64_t embedding_count() const {
        int64_t count = 0;
        check(distill_teacher_record_embedding_count(record(), &count));
        return count;
    }
    // A copy of embedding `index`.
    std::vector<float> embedding(int64_t index) const {
        const float * values = nullptr;
        int64_t dim = 0;
        check(distill_teacher_record_get_embedding(record(), index, &values, &dim));
        return std::vector<float>(values, values + dim);
    }

    // The answer to a classification request (see
    // distill_teacher_record_set_classification): the top_k (0 = all) most
    // likely of `classes` logits at `temperature`.
    void set_classification(const float * logits, int64_t classes, float temperature = 1.0f,
                            int32_t top_k = 0) {
        check(distill_teacher_record_set_classification(record(), logits, classes, temperature,
                                                        top_k));
    }

private:
    distill_teacher_record * record() const { return static_cast<const Self *>(this)->get(); }
};
}  // namespace detail

// A record the library owns, borrowed (a callback teacher's, valid during
// the callback): the accessors of TeacherRecord, without ownership.
class RecordView : public detail::RecordAccessors<RecordView> {
public:
    explicit RecordView(distill_teacher_record * record) noexcept : record_(record) {}
    distill_teacher_record * get() const noexcept { return record_; }

private:
    distill_teacher_record * record_;
};

// Owns a distill_teacher_record. Movable, not copyable.
class TeacherRecord : public Handle<distill_teacher_record>,
                      public detail::RecordAccessors<TeacherRecord> {
public:
    using Handle::get;
    TeacherRecord() { check(distill_teacher_record_create(out())); }
    // Takes ownership of a record the C ABI returned.
    static TeacherRecord adopt(distill_teacher_record * handle) noexcept {
        return TeacherRecord(handle);
    }
    RecordView view() const noexcept { return RecordView(get()); }

private:
    explicit TeacherRecord(distill_teacher_record * handle) noexcept : Handle(handle) {}
};

// ---------------------------------------------------------------------------
// The example wire format (distill_example_*): how a Dataset.ask_teacher
// request carries one example's features.
// ---------------------------------------------------------------------------

// The request JSON of features [count].
inline std::string example_request_json(const float * features, int64_t count) {
    size_t length = 0;
    check(distill_example_request_json(features, count, nullptr, 0, &length));
    std::string json(length + 1, '\0');
    check(distill_example_request_json(features, count, json.data(), json.size(), &length));
    json.resize(length);
    return json;
}
inline std::string example_request_json(const std::vector<float> & features) {
    return example_request_json(features.data(), int64_t(features.size()));
}

// The features [D] of a request; expected_features: the D it must have, or
// -1 for any.
inline std::vector<float> example_request_features(const std::string & request_json,
                                                   int64_t expected_features = -1) {
    int64_t count = 0;
    check(distill_example_request_features(request_json.c_str(), expected_features, nullptr, 0,
                                           &count));
    std::vector<float> features(static_cast<size_t>(count));
    check(distill_example_request_features(request_json.c_str(), expected_features,
                                           features.data(), count, &count));
    return features;
}

// Owns a distill_store. Movable, not copyable.
class Store : public Handle<distill_store> {
public:
    using Handle::get;  // beside get(key)
    explicit Store(const std::string & path, bool read_only = false) {
        StoreOptions options;
        options->read_only = read_only ? 1 : 0;
        check(distill_store_open(path.c_str(), &options.get(), out()));
    }
    Store(const std::string & path, const StoreOptions & options) {
        check(distill_store_open(path.c_str(), &options.get(), out()));
    }

    void put(const TeacherRecord & record) { check(distill_store_put(get(), record.get())); }
    // A borrowed record (a callback teacher's) too.
    void put(RecordView record) { check(distill_store_put(get(), record.get())); }
    // The record stored under `key`, or nothing.
    std::optional<TeacherRecord> get(const std::string & key) {
        distill_teacher_record * found = nullptr;
        check(distill_store_get(get(), key.c_str(), &found));
        if (found == nullptr) return std::nullopt;
        return TeacherRecord::adopt(found);
    }
    distill_store_stats stats() {
        distill_store_stats stats{};
        stats.struct_size = sizeof stats;
        check(distill_store_get_stats(get(), &stats));
        return stats;
    }
    void export_jsonl(const std::string & path) {
        check(distill_store_export_jsonl(get(), path.c_str()));
    }


private:
};

// Owns a reference to a distill_model (a built-in student). Movable, not
// copyable; a Trainer or a model Teacher keeps the model alive on its own.
class Model : public Handle<distill_model> {
public:
    // A new model from a JSON config (see distill.h), seeded.
    static Model create(const std::string & config_json, uint64_t seed = 0) {
        Model m;
        check(distill_model_create(config_json.c_str(), seed, m.out()));
        return m;
    }
    // From a checkpoint directory or a model file (distill_model_load).
    static Model load(const std::string & path) {
        Model m;
        check(distill_model_load(path.c_str(), m.out()));
        return m;
    }

    void save(const std::string & path) const { check(distill_model_save(get(), path.c_str())); }
    std::string config_json() const {
        const char * json = nullptr;
        check(distill_model_config_json(get(), &json));
        return json;
    }
    int64_t inputs() const { return sizes()[0]; }
    int64_t outputs() const { return sizes()[1]; }
    int64_t parameter_count() const { return sizes()[2]; }
    int64_t tensor_count() const { return sizes()[3]; }
    // A writable view of parameter tensor `index`; *name = its PyTorch name.
    DLTensor parameter(int64_t index, std::string * name = nullptr) {
        DLTensor view{};
        const char * parameter_name = nullptr;
        check(distill_model_parameter(get(), index, &parameter_name, &view));
        if (name) *name = parameter_name;
        return view;
    }
    // out [B, O] fp32 = the model's output (distill_output) for inputs [B, D].
    void predict(const Context & context, const DLTensor & inputs, DLTensor & out,
                 distill_output output = DISTILL_OUTPUT_RAW) {
        check(distill_model_predict(context.get(), get(), &inputs, output, &out));
    }
    // A flat [B, O] vector of outputs for B rows of D features.
    std::vector<float> predict(const Context & context, const float * inputs, int64_t rows,
                               distill_output output = DISTILL_OUTPUT_RAW) {
        int64_t in_shape[2] = {rows, this->inputs()};
        int64_t out_shape[2] = {rows, outputs()};
        std::vector<float> out(size_t(rows * out_shape[1]));
        DLTensor in{
            const_cast<float *>(inputs), {kDLCPU, 0}, 2, {kDLFloat, 32, 1}, in_shape, nullptr, 0};
        DLTensor result{out.data(), {kDLCPU, 0}, 2, {kDLFloat, 32, 1}, out_shape, nullptr, 0};
        predict(context, in, result, output);
        return out;
    }


private:
    Model() = default;
    std::array<int64_t, 4> sizes() const {
        std::array<int64_t, 4> s{};
        check(distill_model_sizes(get(), &s[0], &s[1], &s[2], &s[3]));
        return s;
    }
};

namespace detail {
// What a handle needs alive while it lives (a callback teacher's function);
// a base before the Handle, so released after it.
struct Keeper {
    std::shared_ptr<void> kept;
};
}  // namespace detail

// A callback teacher's function: fills `record` (borrowed, owned by the
// teacher) with the answer to `request_json` and returns its status (see
// distill_teacher_callback). An exception stops the call in flight, which
// rethrows it.
using TeacherFunction =
    std::function<distill_status(const char * request_json, distill_teacher_record * record)>;

// Owns a distill_teacher. Movable, not copyable.
class Teacher : private detail::Keeper, public Handle<distill_teacher> {
public:
    // A teacher answered by `fn`, called on the querying thread.
    static Teacher callback(TeacherFunction fn, const CallbackTeacherOptions & options) {
        struct relay {
            static distill_status call(void * user_data, const char * request_json,
                                       distill_teacher_record * record) {
                auto * f = static_cast<const TeacherFunction *>(user_data);
                return detail::guarded([&] { return (*f)(request_json, record); });
            }
        };
        auto kept = std::make_shared<TeacherFunction>(std::move(fn));
        Teacher teacher;
        check(distill_teacher_create_callback(&relay::call, kept.get(), &options.get(),
                                              teacher.out()));
        teacher.kept = std::move(kept);
        return teacher;
    }
    // A callback teacher (see distill_teacher_create_callback); fn is called
    // on the querying thread. parameters_json: "" for none.
    static Teacher callback(distill_teacher_callback fn, void * user_data, const std::string & name,
                            const std::string & model = "",
                            const std::string & parameters_json = "") {
        distill_callback_teacher_options options;
        check(distill_callback_teacher_options_init(&options));
        options.name = name.c_str();
        options.model = model.c_str();
        options.parameters_json = parameters_json.empty() ? nullptr : parameters_json.c_str();
        Teacher teacher;
        check(distill_teacher_create_callback(fn, user_data, &options, teacher.out()));
        return teacher;
    }
    // An HTTP teacher (see distill_teacher_create_http): fill options from
    // distill_http_teacher_options_init; its strings are copied.
    static Teacher http(const distill_http_teacher_options & options) {
        Teacher teacher;
        check(distill_teacher_create_http(&options, teacher.out()));
        return teacher;
    }
    // A built-in model answering as a teacher (distill_teacher_create_model);
    // the teacher keeps the model alive. top_k 0 = every class.
    static Teacher model(const Context & context, Model & model, const std::string & name = "model",
                         int32_t top_k = 0, float temperature = 1.0f) {
        ModelTeacherOptions options;
        options->name = name.c_str();
        options->top_k = top_k;
        options->temperature = temperature;
        return Teacher::model(context, model, options);
    }
    static Teacher model(const Context & context, Model & model,
                         const ModelTeacherOptions & options) {
        Teacher teacher;
        check(distill_teacher_create_model(context.get(), model.get(), &options.get(),
                                           teacher.out()));
        return teacher;
    }

    std::string request_key(const std::string & request_json) const {
        char key[65];
        check(distill_teacher_request_key(get(), request_json.c_str(), key, sizeof key));
        return key;
    }
    TeacherRecord query(const std::string & request_json) {
        distill_teacher_record * record = nullptr;
        check(distill_teacher_query(get(), request_json.c_str(), &record));
        return TeacherRecord::adopt(record);
    }
    TeacherRecord query_cached(Store & store, const std::string & request_json) {
        distill_teacher_record * record = nullptr;
        check(distill_teacher_query_cached(get(), store.get(), request_json.c_str(), &record));
        return TeacherRecord::adopt(record);
    }


private:
    Teacher() = default;
};

// Asks `teacher` every request through `store` (see distill_collect) and
// returns the summary; throws Exception (CANCELLED, a fatal failure, ...).
inline distill_collect_summary collect(Teacher & teacher, Store & store,
                                       const std::vector<std::string> & requests_json,
                                       const CollectOptions & options = CollectOptions()) {
    std::vector<const char *> pointers;
    pointers.reserve(requests_json.size());
    for (const std::string & r : requests_json) pointers.push_back(r.c_str());
    distill_collect_summary summary = sized<distill_collect_summary>();
    distill_collect_options c = options.get();
    options.progress.install(c);
    check(distill_collect(teacher.get(), store.get(), pointers.data(), pointers.size(), &c,
                          &summary));
    return summary;
}

// Writes the OpenAI Batch API input file for `requests_json` (see
// distill_batch_build), leaving out what `store` (may be null) holds;
// url "" = the requests' own endpoint.
inline distill_batch_build_summary batch_build(Teacher & teacher, Store * store,
                                               const std::vector<std::string> & requests_json,
                                               const std::string & path,
                                               const std::string & url = "") {
    std::vector<const char *> pointers;
    pointers.reserve(requests_json.size());
    for (const std::string & r : requests_json) pointers.push_back(r.c_str());
    distill_batch_build_summary summary{};
    summary.struct_size = sizeof summary;
    check(distill_batch_build(teacher.get(), store != nullptr ? store->get() : nullptr,
                              pointers.data(), pointers.size(), url.empty() ? nullptr : url.c_str(),
                              path.c_str(), &summary));
    return summary;
}

// Reads an OpenAI Batch API output file into `store` (see
// distill_batch_ingest); `problem` (may be empty) hears of each unknown or
// malformed line.
inline distill_batch_ingest_summary batch_ingest(
    Teacher & teacher, Store & store, const std::vector<std::string> & requests_json,
    const std::string & path,
    const std::function<void(int64_t line, const std::string & why)> & problem = {}) {
    std::vector<const char *> pointers;
    pointers.reserve(requests_json.size());
    for (const std::string & r : requests_json) pointers.push_back(r.c_str());
    struct relay {
        static void call(void * user_data, int64_t line, const char * why) {
            (*static_cast<const std::function<void(int64_t, const std::string &)> *>(user_data))(
                line, why);
        }
    };
    distill_batch_ingest_summary summary{};
    summary.struct_size = sizeof summary;
    check(distill_batch_ingest(teacher.get(), store.get(), pointers.data(), pointers.size(),
                               path.c_str(), problem ? relay::call : nullptr,
                               const_cast<void *>(static_cast<const void *>(&problem)), &summary));
    return summary;
}

// Owns a distill_dataset: examples, labels, teacher targets. Movable.
class Dataset : public Handle<distill_dataset> {
public:
    // Copies inputs fp32 [N, D] and labels int64 [N] (or none).
    static Dataset create(const DLTensor & inputs, const DLTensor * labels = nullptr) {
        Dataset d;
        check(distill_dataset_create(&inputs, labels, d.out()));
        return d;
    }
    static Dataset load_idx(const std::string & images_path, const std::string & labels_path,
                            int64_t limit = 0) {
        Dataset d;
        check(
            distill_dataset_load_idx(images_path.c_str(), labels_path.c_str(), limit, d.out()));
        return d;
    }
    // "train" or "test"; directory "" = $DISTILL_FASHION_MNIST_DIR or Debian's.
    static Dataset fashion_mnist(const std::string & split, const std::string & directory = "",
                                 int64_t limit = 0) {
        Dataset d;
        check(distill_dataset_load_fashion_mnist(
            split.c_str(), directory.empty() ? nullptr : directory.c_str(), limit, d.out()));
        return d;
    }

    Dataset slice(int64_t begin, int64_t count) const {
        Dataset d;
        check(distill_dataset_slice(get(), begin, count, d.out()));
        return d;
    }
    int64_t rows() const {
        int64_t n = 0;
        check(distill_dataset_size(get(), &n, nullptr));
        return n;
    }
    int64_t features() const {
        int64_t d = 0;
        check(distill_dataset_size(get(), nullptr, &d));
        return d;
    }
    // A view of a field (distill_dataset_field), or nothing when absent.
    std::optional<DLTensor> field(distill_dataset_field which) const {
        int32_t present = 0;
        DLTensor view{};
        check(distill_dataset_get(get(), which, &present, &view));
        if (!present) return std::nullopt;
        return view;
    }
    void set_teacher_logits(const DLTensor & logits) {
        check(distill_dataset_set_teacher_logits(get(), &logits));
    }
    void set_teacher_topk(const DLTensor & ids, const DLTensor & logprobs) {
        check(distill_dataset_set_teacher_topk(get(), &ids, &logprobs));
    }
    // Asks `teacher` about every example, through `store` when given
    // (distill_dataset_ask_teacher); returns {asked, from_store}.
    std::pair<int64_t, int64_t> ask_teacher(Teacher & teacher, Store * store,
                                            const distill_ask_options * options = nullptr) {
        int64_t asked = 0, from_store = 0;
        check(distill_dataset_ask_teacher(get(), teacher.get(), store ? store->get() : nullptr,
                                          options, &asked, &from_store));
        return {asked, from_store};
    }
    // The same with AskOptions (its on_progress included).
    std::pair<int64_t, int64_t> ask_teacher(Teacher & teacher, Store * store,
                                            const AskOptions & options) {
        distill_ask_options c = options.get();
        options.progress.install(c);
        return ask_teacher(teacher, store, &c);
    }
    // Reads the teacher's answers about every example from `store`, without
    // the teacher (distill_dataset_read_teacher): the identity and
    // parameters as JSON, or nullptr for the only ones that answered.
    void read_teacher(Store & store, const char * teacher_identity_json = nullptr,
                      const char * teacher_parameters_json = nullptr) {
        check(distill_dataset_read_teacher(get(), store.get(), teacher_identity_json,
                                           teacher_parameters_json));
    }


private:
    Dataset() = default;
};

// Evaluates `model` on a dataset (distill_model_evaluate).
inline distill_eval_metrics evaluate(const Context & context, Model & model,
                                     const Dataset & dataset) {
    distill_eval_metrics metrics{};
    metrics.struct_size = sizeof metrics;
    check(distill_model_evaluate(context.get(), model.get(), dataset.get(), &metrics));
    return metrics;
}

// Owns a distill_trainer (a model, its optimiser, schedule and loss).
class Trainer : public Handle<distill_trainer> {
public:
    // options: from distill_trainer_options_init; strings and loss copied.
    Trainer(const Context & context, Model & model, const distill_trainer_options & options) {
        check(distill_trainer_create(context.get(), model.get(), &options, out()));
    }

    distill_step_metrics step(const distill_batch & batch) {
        distill_step_metrics metrics{};
        metrics.struct_size = sizeof metrics;
        check(distill_trainer_step(get(), &batch, &metrics));
        return metrics;
    }
    distill_fit_summary fit(const Dataset & train, const distill_fit_options & options) {
        distill_fit_summary summary{};
        summary.struct_size = sizeof summary;
        check(distill_trainer_fit(get(), train.get(), &options, &summary));
        return summary;
    }
    // The same with FitOptions (its on_progress included).
    distill_fit_summary fit(const Dataset & train, const FitOptions & options) {
        distill_fit_options c = options.get();
        options.progress.install(c);
        return fit(train, c);
    }
    void save(const std::string & dir) const { check(distill_trainer_save(get(), dir.c_str())); }
    void resume(const std::string & dir) { check(distill_trainer_resume(get(), dir.c_str())); }
    // {completed epochs, optimizer steps}
    std::pair<int64_t, int64_t> position() const {
        int64_t epoch = 0, step = 0;
        check(distill_trainer_position(get(), &epoch, &step));
        return {epoch, step};
    }


private:
};

// ---------------------------------------------------------------------------
// Tokenizer (since ABI 8)
// ---------------------------------------------------------------------------

// A byte-level BPE tokenizer (tokenizer.json of the GPT-2 / Llama 3 / Qwen 2
// family). Text is bytes in std::string; decode(encode(t)) == t for any t.
class Tokenizer : public Handle<distill_tokenizer> {
public:
    static Tokenizer load(const std::string & path) {
        Tokenizer t;
        check(distill_tokenizer_load(path.c_str(), t.out()));
        return t;
    }
    static Tokenizer from_json(const std::string & json) {
        Tokenizer t;
        check(distill_tokenizer_from_json(json.data(), int64_t(json.size()), t.out()));
        return t;
    }
    // Trains on `texts` (see distill_tokenizer_train): vocab_size tokens,
    // `split` "gpt2", "llama3" or a regex.
    static Tokenizer train(const std::vector<std::string> & texts, int32_t vocab_size,
                           const std::string & split = "gpt2",
                           const std::vector<std::string> & special_tokens = {},
                           int64_t min_frequency = 2) {
        std::vector<const char *> pointers;
        std::vector<int64_t> lengths;
        for (const std::string & text : texts) {
            pointers.push_back(text.data());
            lengths.push_back(int64_t(text.size()));
        }
        std::vector<const char *> specials;
        for (const std::string & token : special_tokens) specials.push_back(token.c_str());
        distill_tokenizer_train_options options{};
        check(distill_tokenizer_train_options_init(&options));
        options.vocab_size = vocab_size;
        options.min_frequency = min_frequency;
        options.split = split.c_str();
        options.special_tokens = specials.data();
        options.special_token_count = int64_t(specials.size());
        Tokenizer t;
        check(distill_tokenizer_train(pointers.data(), lengths.data(), int64_t(texts.size()),
                                      &options, t.out()));
        return t;
    }

    // Writes the ids of text[0, length) to `ids` (resized to fit).
    void encode(const char * text, size_t length, std::vector<int32_t> & ids) const {
        ids.resize(2 * length + 1);  // the documented bound: one call
        int64_t count = 0;
        check(distill_tokenizer_encode(get(), text, int64_t(length), ids.data(),
                                       int64_t(ids.size()), &count));
        ids.resize(size_t(count));
    }
    std::vector<int32_t> encode(const std::string & text) const {
        std::vector<int32_t> ids;
        encode(text.data(), text.size(), ids);
        return ids;
    }
    std::string decode(const int32_t * ids, size_t count) const {
        return bytes([&](char * out, int64_t capacity, int64_t * length) {
            return distill_tokenizer_decode(get(), ids, int64_t(count), out, capacity, length);
        });
    }
    std::string decode(const std::vector<int32_t> & ids) const { return decode(ids.data(), ids.size()); }
    int32_t vocab_size() const {
        int32_t size = 0;
        check(distill_tokenizer_vocab_size(get(), &size));
        return size;
    }
    // The id of a token spelling; std::nullopt when no token has it.
    std::optional<int32_t> token_to_id(const std::string & token) const {
        int32_t id = 0;
        const distill_status status =
            distill_tokenizer_token_to_id(get(), token.data(), int64_t(token.size()), &id);
        if (status == DISTILL_STATUS_NOT_FOUND) return std::nullopt;
        check(status);
        return id;
    }
    std::optional<std::string> id_to_token(int32_t id) const {
        int64_t length = 0;
        const distill_status status = distill_tokenizer_id_to_token(get(), id, nullptr, 0, &length);
        if (status == DISTILL_STATUS_NOT_FOUND) return std::nullopt;
        check(status);
        return bytes([&](char * out, int64_t capacity, int64_t * n) {
            return distill_tokenizer_id_to_token(get(), id, out, capacity, n);
        });
    }
    std::string to_json() const {
        return bytes([&](char * out, int64_t capacity, int64_t * length) {
            return distill_tokenizer_to_json(get(), out, capacity, length);
        });
    }
    void save(const std::string & path) const { check(distill_tokenizer_save(get(), path.c_str())); }

private:
    Tokenizer() = default;
    // Calls fill(out, capacity, &length) the snprintf way: once for the
    // length, once for the bytes.
    template <class Fill> static std::string bytes(Fill && fill) {
        int64_t length = 0;
        check(fill(nullptr, 0, &length));
        std::string out(size_t(length), '\0');
        if (length > 0) check(fill(out.data(), length, &length));
        return out;
    }
};

// ---------------------------------------------------------------------------
// Token datasets (since ABI 9)
// ---------------------------------------------------------------------------

using TokenizeOptions = Options<distill_tokenize_options, distill_tokenize_options_init>;
using TokenizeProgress = std::function<bool(const distill_tokenize_progress &)>;

// Encodes the documents of `paths` with `tokenizer` into the token dataset
// file `out_path` (see distill_tokenize_files). `progress` returning false
// (or throwing) stops the call; nothing is written then.
inline distill_tokenize_summary tokenize_files(const Tokenizer & tokenizer,
                                               const std::vector<std::string> & paths,
                                               const std::string & out_path,
                                               const TokenizeOptions & options,
                                               TokenizeProgress progress = {}) {
    std::vector<const char *> names;
    for (const std::string & path : paths) names.push_back(path.c_str());
    const Progress<distill_tokenize_progress> relay{std::move(progress)};
    distill_tokenize_options o = options.get();
    relay.install(o);
    distill_tokenize_summary summary{};
    summary.struct_size = sizeof summary;
    check(distill_tokenize_files(tokenizer.get(), names.data(), int64_t(names.size()),
                                 out_path.c_str(), &o, &summary));
    return summary;
}

// A token dataset file, mapped read-only (see distill_text_dataset_open).
class TextDataset : public Handle<distill_text_dataset> {
public:
    static TextDataset open(const std::string & path) {
        TextDataset d;
        check(distill_text_dataset_open(path.c_str(), d.out()));
        return d;
    }
    distill_text_dataset_info info() const {
        distill_text_dataset_info info{};
        info.struct_size = sizeof info;
        check(distill_text_dataset_get_info(get(), &info));
        return info;
    }
    // Window `index` of `split` in the mapping: context + 1 tokens of
    // info().token_bytes bytes each.
    std::pair<const void *, int64_t> window(int32_t split, int64_t index) const {
        const void * tokens = nullptr;
        int64_t length = 0;
        check(distill_text_dataset_window(get(), split, index, &tokens, &length));
        return {tokens, length};
    }
    // tokens and targets [windows.size(), context], resized to fit.
    void copy_batch(int32_t split, const std::vector<int64_t> & windows,
                    std::vector<int32_t> & tokens, std::vector<int32_t> & targets) const {
        const size_t size = windows.size() * size_t(info().context);
        tokens.resize(size);
        targets.resize(size);
        check(distill_text_dataset_copy_batch(get(), split, windows.data(), int64_t(windows.size()),
                                              tokens.data(), targets.data()));
    }
    std::vector<int64_t> shuffled_windows(int32_t split, uint64_t seed) const {
        int64_t count = 0;
        check(distill_text_dataset_shuffled_windows(get(), split, seed, nullptr, 0, &count));
        std::vector<int64_t> order(static_cast<size_t>(count));
        if (count > 0)
            check(distill_text_dataset_shuffled_windows(get(), split, seed, order.data(), count,
                                                        &count));
        return order;
    }
    void check_tokenizer(const Tokenizer & tokenizer) const {
        check(distill_text_dataset_check_tokenizer(get(), tokenizer.get()));
    }
    void check_model(int64_t vocab, int64_t context) const {
        check(distill_text_dataset_check_model(get(), vocab, context));
    }

private:
    TextDataset() = default;
};

// A transformer model file (and a tokenizer.json, or "" for none) as a
// transformers folder, and back (distill_hf_folder_export / _import).
inline void export_hf_folder(const std::string & model_path, const std::string & tokenizer_path,
                             const std::string & dir) {
    check(distill_hf_folder_export(model_path.c_str(),
                                   tokenizer_path.empty() ? nullptr : tokenizer_path.c_str(),
                                   dir.c_str()));
}
inline void import_hf_folder(const std::string & dir, const std::string & model_path,
                             const std::string & tokenizer_path = "") {
    check(distill_hf_folder_import(dir.c_str(), model_path.c_str(),
                                   tokenizer_path.empty() ? nullptr : tokenizer_path.c_str()));
}

// ---------------------------------------------------------------------------
// Language models (since ABI 10): a transformer Model and its Trainer
// ---------------------------------------------------------------------------

// out [B, T, vocab] fp32 = the transformer's logits for tokens [B, T] int32.
inline void lm_logits(const Context & context, Model & model, const DLTensor & tokens,
                      DLTensor & out) {
    check(distill_lm_logits(context.get(), model.get(), &tokens, &out));
}
// The same as a flat [B, T, vocab] vector, for B rows of T tokens.
inline std::vector<float> lm_logits(const Context & context, Model & model,
                                    const std::vector<int32_t> & tokens, int64_t rows) {
    if (rows < 1 || int64_t(tokens.size()) % rows != 0)
        throw Exception(DISTILL_STATUS_INVALID_ARGUMENT,
                        "tokens: expected rows (" + std::to_string(rows) +
                            ") of equal length, got " + std::to_string(tokens.size()) +
                            " tokens");
    const int64_t T = int64_t(tokens.size()) / rows;
    int64_t in_shape[2] = {rows, T};
    int64_t out_shape[3] = {rows, T, model.outputs()};
    std::vector<float> out(size_t(rows * T * out_shape[2]));
    DLTensor in{const_cast<int32_t *>(tokens.data()), {kDLCPU, 0}, 2, {kDLInt, 32, 1},
                in_shape, nullptr, 0};
    DLTensor result{out.data(), {kDLCPU, 0}, 3, {kDLFloat, 32, 1}, out_shape, nullptr, 0};
    lm_logits(context, model, in, result);
    return out;
}

// One token-distillation step of a transformer's Trainer.
inline distill_token_step_metrics step_tokens(Trainer & trainer, const distill_token_batch & batch) {
    distill_token_step_metrics metrics = sized<distill_token_step_metrics>();
    check(distill_trainer_step_tokens(trainer.get(), &batch, &metrics));
    return metrics;
}

// Perplexity, accuracy and (with options->teacher) agreement and KL on a
// token dataset's windows.
inline distill_lm_eval_metrics lm_evaluate(const Context & context, Model & model,
                                           const TextDataset & dataset,
                                           const distill_lm_eval_options & options) {
    distill_lm_eval_metrics metrics = sized<distill_lm_eval_metrics>();
    check(distill_lm_evaluate(context.get(), model.get(), dataset.get(), &options, &metrics));
    return metrics;
}

// Trains a transformer's Trainer on a token dataset until options->steps.
inline distill_text_fit_summary fit_text(Trainer & trainer, const TextDataset & dataset,
                                         const TextFitOptions & options) {
    distill_text_fit_options c = options.get();
    options.progress.install(c);
    distill_text_fit_summary summary = sized<distill_text_fit_summary>();
    check(distill_trainer_fit_text(trainer.get(), dataset.get(), &c, &summary));
    return summary;
}

// A transformer's figures on a store's answers (distill_lm_evaluate_stored).
inline distill_lm_eval_metrics lm_evaluate_stored(const Context & context, Model & model,
                                                  Store & store, const Tokenizer & tokenizer,
                                                  const std::string & teacher_identity_json,
                                                  const distill_lm_eval_options & options,
                                                  distill_stored_rows_info * rows = nullptr) {
    distill_lm_eval_metrics metrics = sized<distill_lm_eval_metrics>();
    distill_stored_rows_info info = sized<distill_stored_rows_info>();
    check(distill_lm_evaluate_stored(
        context.get(), model.get(), store.get(), tokenizer.get(),
        teacher_identity_json.empty() ? nullptr : teacher_identity_json.c_str(), &options, &info,
        &metrics));
    if (rows) *rows = info;
    return metrics;
}

// Trains a transformer's Trainer on a store's answers (distill_trainer_fit_stored);
// teacher_identity_json "" = the store's only teacher; *rows (if given) = what was read.
inline distill_text_fit_summary fit_stored(Trainer & trainer, Store & store,
                                           const Tokenizer & tokenizer,
                                           const std::string & teacher_identity_json,
                                           const TextFitOptions & options,
                                           distill_stored_rows_info * rows = nullptr) {
    distill_text_fit_options c = options.get();
    options.progress.install(c);
    distill_text_fit_summary summary = sized<distill_text_fit_summary>();
    distill_stored_rows_info info = sized<distill_stored_rows_info>();
    check(distill_trainer_fit_stored(
        trainer.get(), store.get(), tokenizer.get(),
        teacher_identity_json.empty() ? nullptr : teacher_identity_json.c_str(), &c, &info,
        &summary));
    if (rows) *rows = info;
    return summary;
}

}  // namespace distill
