// students.hpp — built-in student models and datasets (distill_model_*,
// distill_dataset_*), a model as a teacher, and a transformer's logits
// (distill_lm_logits; the rest of section 15 is in language_model.hpp).
#pragma once

#include "progress.hpp"
#include "teachers.hpp"

#include <vector>

namespace distill_swig {

/// What predict returns: raw outputs, probabilities or log-probabilities.
enum class Output {
    raw = 0,
    probabilities = 1,
    log_probabilities = 2
};
#ifndef SWIG
static_assert(static_cast<int>(Output::raw) == DISTILL_OUTPUT_RAW);
static_assert(static_cast<int>(Output::probabilities) == DISTILL_OUTPUT_PROBABILITIES);
static_assert(static_cast<int>(Output::log_probabilities) == DISTILL_OUTPUT_LOG_PROBABILITIES);
#endif

/// Fields a dataset may hold.
enum class DatasetField {
    inputs = 0,
    labels = 1,
    teacher_logits = 2,
    teacher_topk_ids = 3,
    teacher_topk_logprobs = 4
};
#ifndef SWIG
static_assert(static_cast<int>(DatasetField::inputs) == DISTILL_DATASET_INPUTS);
static_assert(static_cast<int>(DatasetField::labels) == DISTILL_DATASET_LABELS);
static_assert(static_cast<int>(DatasetField::teacher_logits) == DISTILL_DATASET_TEACHER_LOGITS);
static_assert(static_cast<int>(DatasetField::teacher_topk_ids) == DISTILL_DATASET_TEACHER_TOPK_IDS);
static_assert(static_cast<int>(DatasetField::teacher_topk_logprobs) == DISTILL_DATASET_TEACHER_TOPK_LOGPROBS);
#endif

/// What Dataset.askTeacher did.
struct AskSummary {
    int64_t asked;      ///< examples the teacher answered
    int64_t from_store; ///< examples found in the store
};

/// Evaluation figures of a model on a dataset.
struct EvalMetrics {
    int64_t examples;
    double accuracy;  ///< top-1 vs labels; NaN without labels
    double agreement; ///< top-1 agreement with the teacher; NaN without one
    double mean_kl;   ///< mean KL(teacher ‖ student) at T = 1; NaN without a teacher
    double ece;       ///< expected calibration error vs labels, 15 bins
    double loss;      ///< mean cross-entropy vs labels; NaN without labels
};

/// N examples of D float features, optional labels and teacher targets,
/// held in the library's memory (copied in).
class Dataset {
public:
    /// From inputs [rows, D] and labels [rows] (or null), copied.
    static Dataset create(FloatArray inputs, int64_t rows, LongArray labels) {
        const int64_t features = columns_of(inputs.length, rows, "inputs");
        TensorView inputs_t(inputs.data, float32, rows, features, 2);
        std::optional<TensorView> labels_t;
        if (labels.data) {
            expect_length(labels.length, rows, "labels");
            labels_t.emplace(labels.data, int64, rows, 0, 1);
        }
        return Dataset(share([&] {
            return distill::Dataset::create(inputs_t.tensor, labels_t ? &labels_t->tensor : nullptr);
        }));
    }

    /// Fashion-MNIST's "train" or "test" split; directory "" = the
    /// library's default (Debian's dataset-fashion-mnist); limit ≤ 0 = all.
    static Dataset fashion_mnist(const std::string & split, const std::string & directory = "",
                                 int64_t limit = 0) {
        return Dataset(share([&] { return distill::Dataset::fashion_mnist(split, directory, limit); }));
    }

    /// An IDX image file and its label file (gzip'ed or not), scaled to [0, 1].
    static Dataset load_idx(const std::string & images_path, const std::string & labels_path,
                            int64_t limit = 0) {
        return Dataset(
            share([&] { return distill::Dataset::load_idx(images_path, labels_path, limit); }));
    }

    /// Examples [begin, begin + count), with their labels and targets (copied).
    Dataset slice(int64_t begin, int64_t count) const {
        return Dataset(share([&] { return (*handle_).slice(begin, count); }));
    }

    int64_t rows() const { return call([&] { return (*handle_).rows(); }); }
    int64_t features() const { return call([&] { return (*handle_).features(); }); }

    /// Whether the dataset holds this field.
    bool has(DatasetField field) const {
        DLTensor view;
        return present(field, view);
    }
    /// A copy of a float field (inputs, teacher logits or log-probabilities), row-major.
    std::vector<float> floats(DatasetField field) const { return copy<float>(field); }
    /// A copy of an integer field (labels or teacher top-k ids), row-major.
    std::vector<int64_t> integers(DatasetField field) const {
        if (field == DatasetField::teacher_topk_ids) {
            std::vector<int32_t> ids = copy<int32_t>(field);
            return std::vector<int64_t>(ids.begin(), ids.end());
        }
        return copy<int64_t>(field);
    }

    /// Sets dense teacher logits [rows, C] (replacing top-k targets).
    void set_teacher_logits(FloatArray logits) {
        const int64_t classes = columns_of(logits.length, rows(), "logits");
        TensorView logits_t(logits.data, float32, rows(), classes, 2);
        call([&] { (*handle_).set_teacher_logits(logits_t.tensor); });
    }

    /// Sets top-k teacher targets: ids [rows, K] and log-probabilities [rows, K].
    void set_teacher_topk(IntArray ids, FloatArray logprobs) {
        const int64_t k = columns_of(ids.length, rows(), "ids");
        expect_length(logprobs.length, rows() * k, "logprobs");
        TensorView ids_t(ids.data, int32, rows(), k, 2);
        TensorView logprobs_t(logprobs.data, float32, rows(), k, 2);
        call([&] { (*handle_).set_teacher_topk(ids_t.tensor, logprobs_t.tensor); });
    }

    /// Asks the teacher about every example (through the store when not
    /// null: a second run asks nothing) and sets the top-k targets.
    AskSummary ask_teacher_native(Teacher * teacher, Store * store, int32_t batch_size,
                                  ProgressListenerNative * progress) {
        distill::Teacher & asked = require(teacher, "teacher").native();
        distill::AskOptions options;
        options->batch_size = batch_size;
        options.on_progress(ProgressListenerNative::function(progress));
        const std::pair<int64_t, int64_t> done = call([&] {
            return (*handle_).ask_teacher(asked, store ? &store->native() : nullptr, options);
        });
        return AskSummary{done.first, done.second};
    }

    /// Sets the top-k targets from a store's answers, without the teacher
    /// (distill_dataset_read_teacher). teacher_identity_json and
    /// teacher_parameters_json are an export's provenance.teacher and
    /// provenance.parameters; empty means "the only one in the store".
    void read_teacher(Store * store, const std::string & teacher_identity_json = "",
                      const std::string & teacher_parameters_json = "") {
        distill::Store & source = require(store, "store").native();
        call([&] {
            (*handle_).read_teacher(
                source, teacher_identity_json.empty() ? nullptr : teacher_identity_json.c_str(),
                teacher_parameters_json.empty() ? nullptr : teacher_parameters_json.c_str());
        });
    }

#ifndef SWIG
    distill_dataset * get() const { return handle_.get(); }
    const distill::Dataset & native() const { return *handle_; }
#endif

private:
    explicit Dataset(shared_handle<distill::Dataset> handle) : handle_(std::move(handle)) {}

    bool present(DatasetField field, DLTensor & view) const {
        const std::optional<DLTensor> found = call(
            [&] { return (*handle_).field(static_cast<distill_dataset_field>(field)); });
        if (found) view = *found;
        return found.has_value();
    }
    template <class T> std::vector<T> copy(DatasetField field) const {
        DLTensor view;
        if (!present(field, view)) return {};
        if (view.dtype.bits != sizeof(T) * 8)
            throw Error(DISTILL_STATUS_INVALID_ARGUMENT,
                        "field: not a field of this element type; use floats() or integers()");
        int64_t count = 1;
        for (int32_t d = 0; d < view.ndim; ++d) count *= view.shape[d];
        const T * data = static_cast<const T *>(view.data);
        return std::vector<T>(data, data + count);
    }

    shared_handle<distill::Dataset> handle_;
};

/// A built-in student (MLP, CNN or transformer, from a JSON config), fp32.
/// Parameters carry PyTorch's names and layouts (a transformer's, Hugging
/// Face's: model.embed_tokens.weight, ...).
class Model {
public:
    /// A new model with seeded initialisation (the same values on every machine).
    explicit Model(const std::string & config_json, int64_t seed = 0)
        : handle_(share([&] {
              return distill::Model::create(config_json, static_cast<uint64_t>(seed));
          })) {}

    /// Loads a model file (Model.save) or a checkpoint directory (Trainer.save).
    static Model load(const std::string & path) {
        return Model(share([&] { return distill::Model::load(path); }));
    }

    /// Writes the weights as one safetensors file, atomically.
    void save(const std::string & path) const { call([&] { (*handle_).save(path); }); }

    /// The config as canonical JSON.
    std::string config_json() const {
        return call([&] { return (*handle_).config_json(); });
    }

    int64_t inputs() const { return call([&] { return (*handle_).inputs(); }); }
    int64_t outputs() const { return call([&] { return (*handle_).outputs(); }); }
    /// The number of parameter values.
    int64_t parameter_count() const { return call([&] { return (*handle_).parameter_count(); }); }
    /// The number of parameter tensors.
    int64_t tensor_count() const { return call([&] { return (*handle_).tensor_count(); }); }

    /// The PyTorch name of parameter tensor `index` ("layers.0.weight").
    std::string parameter_name(int64_t index) const {
        std::string name;
        call([&] { (*handle_).parameter(index, &name); });
        return name;
    }
    /// Its shape (Linear weight [out, in]).
    std::vector<int64_t> parameter_shape(int64_t index) const {
        DLTensor view = parameter_view(index);
        return std::vector<int64_t>(view.shape, view.shape + view.ndim);
    }
    /// A copy of its values, row-major.
    std::vector<float> parameter(int64_t index) const {
        DLTensor view = parameter_view(index);
        const float * data = static_cast<const float *>(view.data);
        return std::vector<float>(data, data + element_count(view));
    }
    /// Overwrites its values (not while a trainer steps the model).
    void set_parameter(int64_t index, FloatArray values) {
        DLTensor view = parameter_view(index);
        expect_length(values.length, element_count(view), "values");
        std::copy(values.data, values.data + values.length, static_cast<float *>(view.data));
    }

    /// Inference in eval mode: out [rows, O] = the model's output for inputs [rows, D].
    void predict(const Context * context, FloatArray inputs, int64_t rows, Output output,
                 FloatArray out) {
        run_predict(context, inputs, rows, output, out);
    }
    /// predict over direct buffers, without copies.
    void predict(const Context * context, FloatBuffer inputs, int64_t rows, Output output,
                 FloatBuffer out) {
        run_predict(context, inputs, rows, output, out);
    }
    /// predict into a new array [rows, O].
    std::vector<float> predict(const Context * context, FloatArray inputs, int64_t rows,
                               Output output) {
        std::vector<float> out(static_cast<size_t>(std::max<int64_t>(rows, 0) * outputs()));
        run_predict(context, inputs, rows, output,
                    FloatArray{out.data(), static_cast<int64_t>(out.size())});
        return out;
    }

    /// A transformer's next-token logits: logits [rows, T, vocab] (vocab =
    /// outputs) for tokens [rows, T] (int32 ids in [0, vocab), T ≤ the
    /// context = inputs), written in place. Causal: position t sees tokens
    /// 0 … t of its row. An MLP or CNN is refused (use predict).
    void lm_logits(const Context * context, IntArray tokens, int64_t rows, FloatArray logits) {
        const distill::Context & on = require(context, "context").native();
        const int64_t T = positions_of(tokens, rows);
        require_array(logits, "logits");
        const int64_t vocab = outputs();
        expect_positions(logits.length, rows, T, vocab, "logits", "logits");
        TensorView tokens_t(tokens.data, int32, rows, T, 2);
        TensorView3 out_t(logits.data, float32, rows, T, vocab);
        call([&] { distill::lm_logits(on, *handle_, tokens_t.tensor, out_t.tensor); });
    }
    /// lm_logits into a new array [rows, T, vocab].
    std::vector<float> lm_logits(const Context * context, IntArray tokens, int64_t rows) {
        const int64_t T = positions_of(tokens, rows);
        std::vector<float> out(static_cast<size_t>(rows * T * outputs()));
        lm_logits(context, tokens, rows, FloatArray{out.data(), static_cast<int64_t>(out.size())});
        return out;
    }

    /// Evaluates the model on a whole dataset, against its labels and
    /// teacher targets when it has them.
    EvalMetrics evaluate(const Context * context, const Dataset * dataset) {
        const distill::Context & on = require(context, "context").native();
        const distill::Dataset & data = require(dataset, "dataset").native();
        const distill_eval_metrics m = call([&] { return distill::evaluate(on, *handle_, data); });
        return EvalMetrics{m.examples, m.accuracy, m.agreement, m.mean_kl, m.ece, m.loss};
    }

    /// This model as a teacher answering Dataset.askTeacher requests with
    /// its top_k classes (0 = all) at `temperature`. The teacher keeps the model.
    Teacher as_teacher(const Context * context, const std::string & name = "model",
                       int32_t top_k = 0, float temperature = 1.0f) const {
        const distill::Context & on = require(context, "context").native();
        return Teacher(share([&] {
                           return distill::Teacher::model(on, *handle_, name, top_k, temperature);
                       }),
                       handle_);
    }

#ifndef SWIG
    distill_model * get() const { return handle_.get(); }
    shared_handle<distill::Model> shared() const { return handle_; }
#endif

private:
    explicit Model(shared_handle<distill::Model> handle) : handle_(std::move(handle)) {}

    DLTensor parameter_view(int64_t index) const {
        return call([&] { return (*handle_).parameter(index); });
    }
    static int64_t element_count(const DLTensor & view) {
        int64_t count = 1;
        for (int32_t d = 0; d < view.ndim; ++d) count *= view.shape[d];
        return count;
    }
    void run_predict(const Context * context, FloatArray inputs, int64_t rows, Output output,
                     FloatArray out) {
        const int64_t features = columns_of(inputs.length, rows, "inputs");
        expect_length(out.length, rows * outputs(), "out");
        TensorView inputs_t(inputs.data, float32, rows, features, 2);
        TensorView out_t(out.data, float32, rows, outputs(), 2);
        const distill::Context & on = require(context, "context").native();
        call([&] {
            (*handle_).predict(on, inputs_t.tensor, out_t.tensor,
                               static_cast<distill_output>(output));
        });
    }

    shared_handle<distill::Model> handle_;
};

}  // namespace distill_swig
