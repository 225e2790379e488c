// distill_model_*: built-in students behind a shared reference, and the
// model teacher (distill_teacher_create_model).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "api_guard.h"
#include "common/scoped_omp_threads.h"
#include "context_handle.h"
#include "student_handles.h"
#include "students/device_student.h"
#include "students/model.h"
#include "teacher_handle.h"
#include "teachers/model_teacher.h"
#include "teachers/request_key.h"
#include "tensor/tensor_checks.h"
#include "lm/transformer.h"
#include "train/model_file.h"
#include "train/transformer_file.h"
#include "train/host_tensor.h"
#include "versioned_struct.h"

namespace distill::capi {

namespace {

// Why a call of section 11 does not take a transformer, and what to call.
[[noreturn]] void refuse_transformer() {
    fail_invalid(
        "model: expected an MLP or CNN model, got a transformer; a transformer runs through "
        "distill.h section 15 (distill_lm_logits, distill_lm_evaluate, "
        "distill_trainer_step_tokens, distill_trainer_fit_text)");
}

}  // namespace

distill::model & unwrap(distill_model * model) {
    require_pointer(model, "model", "a model from distill_model_create or distill_model_load");
    if (!model->impl) refuse_transformer();
    return *model->impl;
}
const distill::model & unwrap(const distill_model * model) {
    require_pointer(model, "model", "a model from distill_model_create or distill_model_load");
    if (!model->impl) refuse_transformer();
    return *model->impl;
}

shared_transformer & unwrap_transformer(distill_model * model, const char * name) {
    require_pointer(model, name, "a transformer model from distill_model_create or distill_model_load");
    if (!model->lm)
        fail_invalid(std::string(name) + ": expected a transformer model (config kind "
                     "\"transformer\"), got " + model->config_json);
    return *model->lm;
}

distill_model * wrap_transformer(std::shared_ptr<lm::transformer> m) {
    auto handle = std::make_unique<distill_model>();
    handle->config_json = canonical_json(lm::to_json(m->config()));
    handle->lm = std::make_shared<shared_transformer>();
    handle->lm->model = std::move(m);
    return handle.release();
}

distill_model * wrap_model(std::shared_ptr<distill::model> m) {
    auto handle = std::make_unique<distill_model>();
    handle->config_json = canonical_json(to_json(m->config()));
    handle->impl = std::move(m);
    return handle.release();
}

}  // namespace distill::capi

using distill::capi::guarded;
using distill::capi::require_pointer;
using distill::capi::unwrap;

namespace {

// Softmax or log-softmax of each row of out [rows, columns], in place.
void normalise_rows(float * out, int64_t rows, int64_t columns, bool log_space) {
    for (int64_t r = 0; r < rows; ++r) {
        float * row = out + r * columns;
        double max_value = row[0];
        for (int64_t c = 1; c < columns; ++c) max_value = std::max(max_value, double(row[c]));
        double total = 0.0;
        for (int64_t c = 0; c < columns; ++c) total += std::exp(double(row[c]) - max_value);
        const double log_total = max_value + std::log(total);
        for (int64_t c = 0; c < columns; ++c)
            row[c] = log_space ? float(double(row[c]) - log_total)
                               : float(std::exp(double(row[c]) - log_total));
    }
}

}  // namespace

extern "C" {

distill_status distill_model_create(const char * config_json, uint64_t seed, distill_model ** out) {
    return guarded([&] {
        require_pointer(config_json, "config_json", "the model's JSON config");
        require_pointer(out, "out", "a place for the new model");
        const nlohmann::json config = distill::parse_json_argument(config_json, "config_json");
        if (config.is_object() && config.value("kind", "") == "transformer") {
            *out = distill::capi::wrap_transformer(std::make_shared<distill::lm::transformer>(
                distill::lm::parse_transformer_config(config, "config_json"), seed));
            return;
        }
        *out = distill::capi::wrap_model(
            std::make_shared<distill::model>(distill::parse_model_config(config, "config_json"), seed));
    });
}

distill_status distill_model_load(const char * path, distill_model ** out) {
    return guarded([&] {
        require_pointer(path, "path", "a checkpoint directory or a model file");
        require_pointer(out, "out", "a place for the loaded model");
        if (distill::stored_model_kind(path) == "transformer") {
            *out = distill::capi::wrap_transformer(distill::load_transformer_model(path));
            return;
        }
        *out = distill::capi::wrap_model(distill::load_model(path));
    });
}

distill_status distill_model_save(const distill_model * model, const char * path) {
    return guarded([&] {
        require_pointer(model, "model", "a model from distill_model_create or distill_model_load");
        require_pointer(path, "path", "the model file to write");
        if (model->lm) {
            const std::lock_guard lock(model->lm->mutex);
            distill::save_transformer_weights(path, *model->lm->model);
            return;
        }
        distill::save_model(unwrap(model), path);
    });
}

void distill_model_free(distill_model * model) { delete model; }

distill_status distill_model_config_json(const distill_model * model, const char ** out) {
    return guarded([&] {
        require_pointer(model, "model", "a model from distill_model_create or distill_model_load");
        require_pointer(out, "out", "a place for the config");
        *out = model->config_json.c_str();
    });
}

distill_status distill_model_sizes(const distill_model * model, int64_t * out_inputs,
                                   int64_t * out_outputs, int64_t * out_parameters,
                                   int64_t * out_tensors) {
    return guarded([&] {
        require_pointer(model, "model", "a model from distill_model_create or distill_model_load");
        if (model->lm) {
            const distill::lm::transformer & t = *model->lm->model;
            if (out_inputs) *out_inputs = t.config().context;
            if (out_outputs) *out_outputs = t.config().vocab;
            if (out_parameters) *out_parameters = t.parameter_count();
            if (out_tensors) *out_tensors = int64_t(t.parameter_table().size());
            return;
        }
        const distill::model & m = unwrap(model);
        if (out_inputs) *out_inputs = m.input_size();
        if (out_outputs) *out_outputs = m.output_size();
        if (out_parameters) *out_parameters = m.parameter_count();
        if (out_tensors) *out_tensors = int64_t(m.parameter_table().size());
    });
}

distill_status distill_model_parameter(distill_model * model, int64_t index, const char ** out_name,
                                       DLTensor * out) {
    return guarded([&] {
        require_pointer(model, "model", "a model from distill_model_create or distill_model_load");
        require_pointer(out, "out", "a DLTensor to fill");
        const std::span<float> parameters =
            model->lm ? model->lm->model->parameters() : unwrap(model).parameters();
        const auto & table =
            model->lm ? model->lm->model->parameter_table() : unwrap(model).parameter_table();
        if (index < 0 || index >= int64_t(table.size()))
            distill::fail_invalid("index: expected 0 ≤ index < " + std::to_string(table.size()) +
                                  " (the model's parameter tensors), got " + std::to_string(index));
        const distill::parameter_info & p = table[size_t(index)];
        // The shape lives in the model's own table: valid as long as the
        // data it describes, even after this handle is freed.
        *out = distill::host_tensor(parameters.data() + p.offset,
                                    const_cast<int64_t *>(p.shape.data()), int32_t(p.shape.size()));
        if (out_name) *out_name = p.name.c_str();
    });
}

distill_status distill_model_predict(const distill_context * context, distill_model * model,
                                     const DLTensor * inputs, int32_t output, DLTensor * out) {
    return guarded([&] {
        const distill::context & ctx = unwrap(context);
        distill::model & m = unwrap(model);
        if (output < DISTILL_OUTPUT_RAW || output > DISTILL_OUTPUT_LOG_PROBABILITIES)
            distill::fail_invalid(
                "output: expected a distill_output (0 RAW, 1 PROBABILITIES, 2 "
                "LOG_PROBABILITIES), got " +
                std::to_string(output));
        if (output != DISTILL_OUTPUT_RAW && m.config().output == distill::output_kind::embedding)
            distill::fail_invalid(
                "output: probabilities need a \"logits\" model; this one outputs "
                "an embedding (use DISTILL_OUTPUT_RAW)");
        int64_t rows = 0, columns = 0;
        const float * x =
            distill::require_host_matrix(inputs, "inputs", m.input_size(), &rows, &columns);
        int64_t out_rows = 0, out_columns = 0;
        const float * y =
            distill::require_host_matrix(out, "out", m.output_size(), &out_rows, &out_columns);
        if (out_rows != rows)
            distill::fail_invalid("out: expected shape [" + std::to_string(rows) + ", " +
                                  std::to_string(m.output_size()) + "] (rows of inputs), got " +
                                  distill::shape_string(*out));
        distill::require_no_overlap(*out, "out", *inputs, "inputs");
        // Computed aside: a refused result leaves `out` untouched.
        std::vector<float> result(size_t(rows * out_columns));
        {
            std::lock_guard lock(m.usage_mutex());
            const distill::scoped_omp_threads threads(ctx.num_threads);
            if (ctx.cuda) {
                // Inputs and out stay host tensors: upload, run, download.
                // A session and the buffers per call (the model keeps none).
                distill::device_student device(ctx, m);
                device.upload_parameters();
                device.forward(x, rows, false, 0);
                device.download_logits(result.data());
            } else {
                m.forward(x, rows, result.data(), false, 0);
            }
            distill::require_finite_outputs(m, result.data(), x, rows);
        }
        if (output != DISTILL_OUTPUT_RAW)
            normalise_rows(result.data(), rows, out_columns,
                           output == DISTILL_OUTPUT_LOG_PROBABILITIES);
        std::copy(result.begin(), result.end(), const_cast<float *>(y));
    });
}

distill_status distill_model_teacher_options_init(distill_model_teacher_options * options) {
    return guarded([&] {
        require_pointer(options, "options", "a distill_model_teacher_options to fill");
        *options = distill_model_teacher_options{};
        options->struct_size = sizeof(distill_model_teacher_options);
        options->name = "model";
        options->top_k = 0;
        options->temperature = 1.0f;
    });
}

distill_status distill_teacher_create_model(const distill_context * context, distill_model * model,
                                            const distill_model_teacher_options * options,
                                            distill_teacher ** out) {
    return guarded([&] {
        const distill::context & ctx = unwrap(context);
        unwrap(model);
        require_pointer(out, "out", "a place for the new teacher");
        distill_model_teacher_options defaults{};
        distill_model_teacher_options_init(&defaults);
        const distill_model_teacher_options o =
            distill::capi::read_versioned(options, defaults, "options");
        require_pointer(o.name, "options.name", "the teacher's name");
        auto handle = std::make_unique<distill_teacher>();
        handle->impl = std::make_unique<distill::model_teacher>(*model->impl, o.name, o.top_k,
                                                                o.temperature, ctx);
        *out = handle.release();
    });
}

}  // extern "C"
