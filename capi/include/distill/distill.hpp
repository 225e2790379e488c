// distill.hpp — a header-only C++17 wrapper over the C ABI (distill.h):
// RAII handles and exceptions. It adds no symbols to libdistill.so, so it
// is as stable as the C ABI under it.
//
//   distill::Context cpu;                               // CPU, all cores
//   distill::KdLossOptions options;                     // the C defaults
//   options.get().temperature = 2.0f;
//   distill::kd_loss(cpu, options, student, teacher, nullptr, loss, &grad);
#pragma once

#include <distill/distill.h>

#include <array>
#include <functional>
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
          status_(status) {}
    distill_status status() const noexcept { return status_; }

private:
    distill_status status_;
};

// Throws Exception for a non-OK status, with the thread's last message.
inline void check(distill_status status) {
    if (status != DISTILL_STATUS_OK) throw Exception(status, distill_last_error_message());
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

class ContextOptions {
public:
    ContextOptions() { check(distill_context_options_init(&options_)); }
    distill_context_options & get() noexcept { return options_; }
    const distill_context_options & get() const noexcept { return options_; }

    static ContextOptions cpu(int32_t num_threads = 0) {
        ContextOptions o;
        o.options_.num_threads = num_threads;
        return o;
    }
    static ContextOptions cuda(int32_t device_id = 0, void * stream = nullptr) {
        ContextOptions o;
        o.options_.device_type = DISTILL_DEVICE_CUDA;
        o.options_.device_id = device_id;
        o.options_.cuda_stream = stream;
        return o;
    }

private:
    distill_context_options options_{};
};

// Owns a distill_context. Movable, not copyable.
class Context {
public:
    Context() : Context(ContextOptions{}) {}
    explicit Context(const ContextOptions & options) {
        check(distill_context_create(&options.get(), &handle_));
    }
    Context(Context && other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Context & operator=(Context && other) noexcept {
        if (this != &other) {
            distill_context_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Context(const Context &) = delete;
    Context & operator=(const Context &) = delete;
    ~Context() { distill_context_free(handle_); }

    const distill_context * get() const noexcept { return handle_; }

private:
    distill_context * handle_ = nullptr;
};

inline int32_t cuda_device_count() {
    int32_t count = 0;
    check(distill_cuda_device_count(&count));
    return count;
}

class KdLossOptions {
public:
    KdLossOptions() { check(distill_kd_loss_options_init(&options_)); }
    distill_kd_loss_options & get() noexcept { return options_; }
    const distill_kd_loss_options & get() const noexcept { return options_; }
    distill_kd_loss_options * operator->() noexcept { return &options_; }
    const distill_kd_loss_options * operator->() const noexcept { return &options_; }

private:
    distill_kd_loss_options options_{};
};

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

// ---------------------------------------------------------------------------
// Teacher records, the store and teachers (ABI 2)
// ---------------------------------------------------------------------------

// Owns a distill_teacher_record. Movable, not copyable.
class TeacherRecord {
public:
    TeacherRecord() { check(distill_teacher_record_create(&handle_)); }
    // Takes ownership of a record the C ABI returned.
    static TeacherRecord adopt(distill_teacher_record * handle) noexcept {
        return TeacherRecord(handle);
    }
    TeacherRecord(TeacherRecord && other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)) {}
    TeacherRecord & operator=(TeacherRecord && other) noexcept {
        if (this != &other) {
            distill_teacher_record_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    TeacherRecord(const TeacherRecord &) = delete;
    TeacherRecord & operator=(const TeacherRecord &) = delete;
    ~TeacherRecord() { distill_teacher_record_free(handle_); }

    std::string string(distill_record_string field) const {
        const char * value = nullptr;
        check(distill_teacher_record_get_string(handle_, field, &value));
        return value;
    }
    void set_string(distill_record_string field, const std::string & value) {
        check(distill_teacher_record_set_string(handle_, field, value.c_str()));
    }
    int64_t integer(distill_record_int field) const {
        int64_t value = 0;
        check(distill_teacher_record_get_int(handle_, field, &value));
        return value;
    }
    void set_integer(distill_record_int field, int64_t value) {
        check(distill_teacher_record_set_int(handle_, field, value));
    }
    bool failed() const { return integer(DISTILL_RECORD_ERROR_STATUS) != 0; }
    std::string key() const { return string(DISTILL_RECORD_KEY); }
    std::string text() const { return string(DISTILL_RECORD_TEXT); }

    int64_t position_count() const {
        int64_t count = 0;
        check(distill_teacher_record_position_count(handle_, &count));
        return count;
    }
    // Position `index`'s top-k log-probabilities and ids.
    void topk(int64_t index, std::vector<int32_t> & ids, std::vector<float> & logprobs) const {
        int32_t top_k = 0;
        check(distill_teacher_record_get_position(handle_, index, nullptr, nullptr, nullptr,
                                                  nullptr, nullptr, &top_k));
        ids.resize(size_t(top_k));
        logprobs.resize(size_t(top_k));
        int32_t copied = 0;
        check(distill_teacher_record_get_topk(handle_, index, top_k, ids.data(), logprobs.data(),
                                              nullptr, &copied));
    }

    distill_teacher_record * get() noexcept { return handle_; }
    const distill_teacher_record * get() const noexcept { return handle_; }

private:
    explicit TeacherRecord(distill_teacher_record * handle) noexcept : handle_(handle) {}
    distill_teacher_record * handle_ = nullptr;
};

// Owns a distill_store. Movable, not copyable.
class Store {
public:
    explicit Store(const std::string & path, bool read_only = false) {
        distill_store_options options;
        check(distill_store_options_init(&options));
        options.read_only = read_only ? 1 : 0;
        check(distill_store_open(path.c_str(), &options, &handle_));
    }
    Store(Store && other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Store & operator=(Store && other) noexcept {
        if (this != &other) {
            distill_store_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Store(const Store &) = delete;
    Store & operator=(const Store &) = delete;
    ~Store() { distill_store_free(handle_); }

    void put(const TeacherRecord & record) { check(distill_store_put(handle_, record.get())); }
    // The record stored under `key`, or nothing.
    std::optional<TeacherRecord> get(const std::string & key) {
        distill_teacher_record * found = nullptr;
        check(distill_store_get(handle_, key.c_str(), &found));
        if (found == nullptr) return std::nullopt;
        return TeacherRecord::adopt(found);
    }
    distill_store_stats stats() {
        distill_store_stats stats{};
        stats.struct_size = sizeof stats;
        check(distill_store_get_stats(handle_, &stats));
        return stats;
    }
    void export_jsonl(const std::string & path) {
        check(distill_store_export_jsonl(handle_, path.c_str()));
    }

    distill_store * get() noexcept { return handle_; }

private:
    distill_store * handle_ = nullptr;
};

// Owns a reference to a distill_model (a built-in student). Movable, not
// copyable; a Trainer or a model Teacher keeps the model alive on its own.
class Model {
public:
    // A new model from a JSON config (see distill.h), seeded.
    static Model create(const std::string & config_json, uint64_t seed = 0) {
        Model m;
        check(distill_model_create(config_json.c_str(), seed, &m.handle_));
        return m;
    }
    // From a checkpoint directory or a model file (distill_model_load).
    static Model load(const std::string & path) {
        Model m;
        check(distill_model_load(path.c_str(), &m.handle_));
        return m;
    }
    Model(Model && other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Model & operator=(Model && other) noexcept {
        if (this != &other) {
            distill_model_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Model(const Model &) = delete;
    Model & operator=(const Model &) = delete;
    ~Model() { distill_model_free(handle_); }

    void save(const std::string & path) const { check(distill_model_save(handle_, path.c_str())); }
    std::string config_json() const {
        const char * json = nullptr;
        check(distill_model_config_json(handle_, &json));
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
        check(distill_model_parameter(handle_, index, &parameter_name, &view));
        if (name) *name = parameter_name;
        return view;
    }
    // out [B, O] fp32 = the model's output (distill_output) for inputs [B, D].
    void predict(const Context & context, const DLTensor & inputs, DLTensor & out,
                 distill_output output = DISTILL_OUTPUT_RAW) {
        check(distill_model_predict(context.get(), handle_, &inputs, output, &out));
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

    distill_model * get() const noexcept { return handle_; }

private:
    Model() = default;
    std::array<int64_t, 4> sizes() const {
        std::array<int64_t, 4> s{};
        check(distill_model_sizes(handle_, &s[0], &s[1], &s[2], &s[3]));
        return s;
    }
    distill_model * handle_ = nullptr;
};

// Owns a distill_teacher. Movable, not copyable.
class Teacher {
public:
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
        check(distill_teacher_create_callback(fn, user_data, &options, &teacher.handle_));
        return teacher;
    }
    // An HTTP teacher (see distill_teacher_create_http): fill options from
    // distill_http_teacher_options_init; its strings are copied.
    static Teacher http(const distill_http_teacher_options & options) {
        Teacher teacher;
        check(distill_teacher_create_http(&options, &teacher.handle_));
        return teacher;
    }
    // A built-in model answering as a teacher (distill_teacher_create_model);
    // the teacher keeps the model alive. top_k 0 = every class.
    static Teacher model(const Context & context, Model & model, const std::string & name = "model",
                         int32_t top_k = 0, float temperature = 1.0f) {
        distill_model_teacher_options options;
        check(distill_model_teacher_options_init(&options));
        options.name = name.c_str();
        options.top_k = top_k;
        options.temperature = temperature;
        Teacher teacher;
        check(distill_teacher_create_model(context.get(), model.get(), &options, &teacher.handle_));
        return teacher;
    }
    Teacher(Teacher && other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Teacher & operator=(Teacher && other) noexcept {
        if (this != &other) {
            distill_teacher_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Teacher(const Teacher &) = delete;
    Teacher & operator=(const Teacher &) = delete;
    ~Teacher() { distill_teacher_free(handle_); }

    std::string request_key(const std::string & request_json) const {
        char key[65];
        check(distill_teacher_request_key(handle_, request_json.c_str(), key, sizeof key));
        return key;
    }
    TeacherRecord query(const std::string & request_json) {
        distill_teacher_record * record = nullptr;
        check(distill_teacher_query(handle_, request_json.c_str(), &record));
        return TeacherRecord::adopt(record);
    }
    TeacherRecord query_cached(Store & store, const std::string & request_json) {
        distill_teacher_record * record = nullptr;
        check(distill_teacher_query_cached(handle_, store.get(), request_json.c_str(), &record));
        return TeacherRecord::adopt(record);
    }

    distill_teacher * get() noexcept { return handle_; }

private:
    Teacher() = default;
    distill_teacher * handle_ = nullptr;
};

// Options of a collection job (distill_collect_options), the C defaults.
class CollectOptions {
public:
    CollectOptions() { check(distill_collect_options_init(&options_)); }
    distill_collect_options & get() noexcept { return options_; }
    const distill_collect_options & get() const noexcept { return options_; }

private:
    distill_collect_options options_;
};

// Asks `teacher` every request through `store` (see distill_collect) and
// returns the summary; throws Exception (CANCELLED, a fatal failure, ...).
inline distill_collect_summary collect(Teacher & teacher, Store & store,
                                       const std::vector<std::string> & requests_json,
                                       const CollectOptions & options = CollectOptions()) {
    std::vector<const char *> pointers;
    pointers.reserve(requests_json.size());
    for (const std::string & r : requests_json) pointers.push_back(r.c_str());
    distill_collect_summary summary{};
    summary.struct_size = sizeof summary;
    check(distill_collect(teacher.get(), store.get(), pointers.data(), pointers.size(),
                          &options.get(), &summary));
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
class Dataset {
public:
    // Copies inputs fp32 [N, D] and labels int64 [N] (or none).
    static Dataset create(const DLTensor & inputs, const DLTensor * labels = nullptr) {
        Dataset d;
        check(distill_dataset_create(&inputs, labels, &d.handle_));
        return d;
    }
    static Dataset load_idx(const std::string & images_path, const std::string & labels_path,
                            int64_t limit = 0) {
        Dataset d;
        check(
            distill_dataset_load_idx(images_path.c_str(), labels_path.c_str(), limit, &d.handle_));
        return d;
    }
    // "train" or "test"; directory "" = $DISTILL_FASHION_MNIST_DIR or Debian's.
    static Dataset fashion_mnist(const std::string & split, const std::string & directory = "",
                                 int64_t limit = 0) {
        Dataset d;
        check(distill_dataset_load_fashion_mnist(
            split.c_str(), directory.empty() ? nullptr : directory.c_str(), limit, &d.handle_));
        return d;
    }
    Dataset(Dataset && other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Dataset & operator=(Dataset && other) noexcept {
        if (this != &other) {
            distill_dataset_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Dataset(const Dataset &) = delete;
    Dataset & operator=(const Dataset &) = delete;
    ~Dataset() { distill_dataset_free(handle_); }

    Dataset slice(int64_t begin, int64_t count) const {
        Dataset d;
        check(distill_dataset_slice(handle_, begin, count, &d.handle_));
        return d;
    }
    int64_t rows() const {
        int64_t n = 0;
        check(distill_dataset_size(handle_, &n, nullptr));
        return n;
    }
    int64_t features() const {
        int64_t d = 0;
        check(distill_dataset_size(handle_, nullptr, &d));
        return d;
    }
    // A view of a field (distill_dataset_field), or nothing when absent.
    std::optional<DLTensor> field(distill_dataset_field which) const {
        int32_t present = 0;
        DLTensor view{};
        check(distill_dataset_get(handle_, which, &present, &view));
        if (!present) return std::nullopt;
        return view;
    }
    void set_teacher_logits(const DLTensor & logits) {
        check(distill_dataset_set_teacher_logits(handle_, &logits));
    }
    void set_teacher_topk(const DLTensor & ids, const DLTensor & logprobs) {
        check(distill_dataset_set_teacher_topk(handle_, &ids, &logprobs));
    }
    // Asks `teacher` about every example, through `store` when given
    // (distill_dataset_ask_teacher); returns {asked, from_store}.
    std::pair<int64_t, int64_t> ask_teacher(Teacher & teacher, Store * store,
                                            const distill_ask_options * options = nullptr) {
        int64_t asked = 0, from_store = 0;
        check(distill_dataset_ask_teacher(handle_, teacher.get(), store ? store->get() : nullptr,
                                          options, &asked, &from_store));
        return {asked, from_store};
    }
    // Reads the teacher's answers about every example from `store`, without
    // the teacher (distill_dataset_read_teacher): the identity and
    // parameters as JSON, or nullptr for the only ones that answered.
    void read_teacher(Store & store, const char * teacher_identity_json = nullptr,
                      const char * teacher_parameters_json = nullptr) {
        check(distill_dataset_read_teacher(handle_, store.get(), teacher_identity_json,
                                           teacher_parameters_json));
    }

    distill_dataset * get() const noexcept { return handle_; }

private:
    Dataset() = default;
    distill_dataset * handle_ = nullptr;
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
class Trainer {
public:
    // options: from distill_trainer_options_init; strings and loss copied.
    Trainer(const Context & context, Model & model, const distill_trainer_options & options) {
        check(distill_trainer_create(context.get(), model.get(), &options, &handle_));
    }
    Trainer(Trainer && other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Trainer & operator=(Trainer && other) noexcept {
        if (this != &other) {
            distill_trainer_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Trainer(const Trainer &) = delete;
    Trainer & operator=(const Trainer &) = delete;
    ~Trainer() { distill_trainer_free(handle_); }

    distill_step_metrics step(const distill_batch & batch) {
        distill_step_metrics metrics{};
        metrics.struct_size = sizeof metrics;
        check(distill_trainer_step(handle_, &batch, &metrics));
        return metrics;
    }
    distill_fit_summary fit(const Dataset & train, const distill_fit_options & options) {
        distill_fit_summary summary{};
        summary.struct_size = sizeof summary;
        check(distill_trainer_fit(handle_, train.get(), &options, &summary));
        return summary;
    }
    void save(const std::string & dir) const { check(distill_trainer_save(handle_, dir.c_str())); }
    void resume(const std::string & dir) { check(distill_trainer_resume(handle_, dir.c_str())); }
    // {completed epochs, optimizer steps}
    std::pair<int64_t, int64_t> position() const {
        int64_t epoch = 0, step = 0;
        check(distill_trainer_position(handle_, &epoch, &step));
        return {epoch, step};
    }

    distill_trainer * get() const noexcept { return handle_; }

private:
    distill_trainer * handle_ = nullptr;
};

}  // namespace distill
