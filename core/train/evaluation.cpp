#include "train/evaluation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "students/device_student.h"
#include "students/model.h"
#include "train/metrics.h"

namespace distill {
namespace {

constexpr int64_t evaluation_batch = 512;

// log-softmax of one row, in double.
void log_softmax_row(const float * logits, int64_t n, std::vector<double> & out) {
    out.resize(size_t(n));
    const double max_value = *std::max_element(logits, logits + n);
    double total = 0.0;
    for (int64_t c = 0; c < n; ++c) total += std::exp(double(logits[c]) - max_value);
    const double log_total = max_value + std::log(total);
    for (int64_t c = 0; c < n; ++c) out[size_t(c)] = double(logits[c]) - log_total;
}

// KL(teacher ‖ student) of one row over the teacher's top-k classes, both
// distributions renormalised over those k classes (exact when k = C).
double topk_kl_row(const std::vector<double> & student_logprobs, const int32_t * ids,
                   const float * teacher_logprobs, int64_t k) {
    double teacher_mass = 0.0, student_mass = 0.0;
    for (int64_t j = 0; j < k; ++j) {
        teacher_mass += std::exp(double(teacher_logprobs[j]));
        student_mass += std::exp(student_logprobs[size_t(ids[j])]);
    }
    const double log_teacher_mass = std::log(teacher_mass),
                 log_student_mass = std::log(student_mass);
    double kl = 0.0;
    for (int64_t j = 0; j < k; ++j) {
        const double pt = double(teacher_logprobs[j]) - log_teacher_mass;
        if (std::isinf(pt)) continue;
        kl += std::exp(pt) * (pt - (student_logprobs[size_t(ids[j])] - log_student_mass));
    }
    return kl;
}

}  // namespace

void check_evaluation_set(const model & m, const example_set & set, const std::string & name) {
    if (m.config().output != output_kind::logits)
        fail_unsupported("model: evaluation needs a classifier (output \"logits\"); this model "
                         "outputs an embedding");
    if (set.features != m.input_size())
        fail_invalid(name + ": expected " + std::to_string(m.input_size()) +
                     " features per example (the model's inputs), got " +
                     std::to_string(set.features));
    const int64_t classes = m.output_size();
    if (set.has_teacher_logits() && set.teacher_classes != classes)
        fail_invalid(name + ": its teacher logits have " + std::to_string(set.teacher_classes) +
                     " classes, the model " + std::to_string(classes));
    for (int64_t i = 0; i < int64_t(set.teacher_topk_ids.size()); ++i)
        if (set.teacher_topk_ids[size_t(i)] >= classes)
            fail_invalid(name + ": teacher class id " +
                         std::to_string(set.teacher_topk_ids[size_t(i)]) + " at example " +
                         std::to_string(i / set.teacher_k) + " is outside the model's " +
                         std::to_string(classes) + " classes");
    for (int64_t label : set.labels)
        if (label >= classes)
            fail_invalid(name + ": label " + std::to_string(label) + " is outside the model's " +
                         std::to_string(classes) + " classes");
}

evaluation evaluate_model(model & m, const example_set & set, const context & ctx,
                          device_student * given_device) {
    check_evaluation_set(m, set, "dataset");
    // On a GPU: the parameters go up once, each batch's logits come down.
    std::optional<device_student> own_device;
    device_student * device = nullptr;
    if (ctx.cuda && set.rows > 0) {
        device = given_device;
        if (device == nullptr) device = &own_device.emplace(ctx, m);
        device->upload_parameters();
    }
    const int64_t classes = m.output_size();
    top1_match_accumulator accuracy, agreement;
    calibration_accumulator calibration;
    double kl_sum = 0.0, cross_entropy_sum = 0.0;
    std::vector<float> logits;
    std::vector<double> row_logprobs;
    for (int64_t begin = 0; begin < set.rows; begin += evaluation_batch) {
        const int64_t count = std::min(evaluation_batch, set.rows - begin);
        logits.resize(size_t(count * classes));
        const float * inputs = set.inputs.data() + begin * set.features;
        if (device) {
            device->forward(inputs, count, false, 0);
            device->download_logits(logits.data());
        } else {
            m.forward(inputs, count, logits.data(), false, 0);
        }
        require_finite_outputs(m, logits.data(), inputs, count);
        const std::span<const float> batch_logits(logits);
        if (set.has_labels()) {
            const std::span<const int64_t> labels(set.labels.data() + begin, size_t(count));
            accuracy.add(batch_logits, count, classes, labels);
            calibration.add(batch_logits, count, classes, labels);
        }
        if (set.has_teacher_logits())
            agreement.add_teacher_logits(
                batch_logits,
                std::span<const float>(set.teacher_logits.data() + begin * classes,
                                       size_t(count * classes)),
                count, classes);
        std::vector<int64_t> teacher_top1;
        for (int64_t r = 0; r < count; ++r) {
            const int64_t row = begin + r;
            log_softmax_row(logits.data() + r * classes, classes, row_logprobs);
            if (set.has_labels())
                cross_entropy_sum -= row_logprobs[size_t(set.labels[size_t(row)])];
            if (set.has_teacher_logits()) {
                std::vector<double> teacher;
                log_softmax_row(set.teacher_logits.data() + row * classes, classes, teacher);
                for (int64_t c = 0; c < classes; ++c)
                    kl_sum += std::exp(teacher[size_t(c)]) *
                              (teacher[size_t(c)] - row_logprobs[size_t(c)]);
            } else if (set.has_teacher_topk()) {
                const int32_t * ids = set.teacher_topk_ids.data() + row * set.teacher_k;
                const float * lp = set.teacher_topk_logprobs.data() + row * set.teacher_k;
                kl_sum += topk_kl_row(row_logprobs, ids, lp, set.teacher_k);
                teacher_top1.push_back(topk_top1_class(ids, lp, set.teacher_k));
            }
        }
        if (set.has_teacher_topk()) agreement.add(batch_logits, count, classes, teacher_top1);
    }
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    const double n = double(set.rows);
    evaluation result;
    result.examples = set.rows;
    result.accuracy = set.has_labels() && set.rows > 0 ? accuracy.value() : nan;
    result.ece = set.has_labels() && set.rows > 0 ? calibration.expected_calibration_error() : nan;
    result.loss = set.has_labels() && set.rows > 0 ? cross_entropy_sum / n : nan;
    result.agreement = set.has_teacher() && set.rows > 0 ? agreement.value() : nan;
    result.mean_kl = set.has_teacher() && set.rows > 0 ? kl_sum / n : nan;
    return result;
}

}  // namespace distill
