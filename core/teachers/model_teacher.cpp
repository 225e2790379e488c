#include "teachers/model_teacher.h"

#include <cmath>

#include "common/error.h"
#include "common/scoped_omp_threads.h"
#include "common/sha256.h"
#include "students/device_student.h"
#include "students/model.h"
#include "teachers/example_wire.h"

namespace distill {
namespace {

std::string model_fingerprint(const model & m) {
    const std::span<const float> weights = m.parameters();
    const std::string config = to_json(m.config()).dump();
    std::string bytes(config);
    bytes.append(reinterpret_cast<const char *>(weights.data()), weights.size_bytes());
    return sha256_hex(bytes);
}

std::unique_ptr<model> locked_copy(const model & m) {
    std::lock_guard lock(m.usage_mutex());
    return std::make_unique<model>(m);
}
}  // namespace

model_teacher::model_teacher(const model & m, std::string name, int32_t top_k, float temperature,
                             const context & ctx)
    : model_(locked_copy(m)),
      top_k_(top_k),
      num_threads_(ctx.num_threads),
      temperature_(temperature) {
    if (top_k < 0)
        fail_invalid("top_k: expected ≥ 0 (0 = every class), got " + std::to_string(top_k));
    if (!(temperature > 0.0f) || !std::isfinite(temperature))
        fail_invalid("temperature: expected a finite value > 0, got " +
                     std::to_string(temperature));
    name_ = std::move(name);
    fingerprint_ = model_fingerprint(*model_);
    identity_ = {{"kind", "model"}, {"name", name_}, {"model_sha256", fingerprint_}};
    parameters_ = {{"top_k", top_k}, {"temperature", temperature}};
    if (ctx.cuda) {
        device_ = std::make_unique<device_student>(ctx, *model_);
        device_->upload_parameters();  // once: the copy never changes
    }
}

model_teacher::~model_teacher() = default;

void model_teacher::ask(const nlohmann::json & request, teacher_record & record) {
    ask_batch(std::span<const nlohmann::json>(&request, 1), std::span<teacher_record>(&record, 1));
}

void model_teacher::ask_batch(std::span<const nlohmann::json> requests,
                              std::span<teacher_record> records) {
    const int64_t features = model_->input_size();
    const int64_t outputs = model_->output_size();
    const bool embedding = model_->config().output == output_kind::embedding;
    // Decode every request; a malformed one fails alone, as a record.
    std::vector<float> inputs;
    std::vector<size_t> answered;
    inputs.reserve(requests.size() * size_t(features));
    for (size_t i = 0; i < requests.size(); ++i) {
        teacher_record & record = records[i];
        record.origin.provider = "model";
        record.origin.endpoint = name_;
        record.origin.model = fingerprint_.substr(0, 16);
        record.kind = logprob_kind::raw;
        try {
            const std::vector<float> row = example_request_features(requests[i], features);
            inputs.insert(inputs.end(), row.begin(), row.end());
            answered.push_back(i);
        } catch (const error & failure) {
            record.error_status = int32_t(failure.code());
            record.error_message = failure.what();
        }
    }
    if (answered.empty()) return;
    std::vector<float> out(answered.size() * size_t(outputs));
    {
        std::lock_guard lock(model_->usage_mutex());
        const scoped_omp_threads threads(num_threads_);
        if (device_) {
            device_->forward(inputs.data(), int64_t(answered.size()), false, 0);
            device_->download_logits(out.data());
        } else {
            model_->forward(inputs.data(), int64_t(answered.size()), out.data(), false, 0);
        }
    }
    for (size_t j = 0; j < answered.size(); ++j) {
        teacher_record & record = records[answered[j]];
        const float * row = out.data() + j * size_t(outputs);
        if (embedding) {
            record.embeddings.emplace_back(row, row + outputs);
            continue;
        }
        try {
            set_classification_answer(record, row, outputs, temperature_, top_k_);
        } catch (const error & failure) {  // logits a diverged model made (NaN)
            record.error_status = int32_t(failure.code());
            record.error_message = failure.what();
        }
    }
}

}  // namespace distill
