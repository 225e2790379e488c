#include "train/metrics.h"

#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace distill {
namespace {

// Sizes agree and every logit is finite (NaN would make argmax and the
// softmax meaningless without a word).
void check_logits(std::span<const float> logits, int64_t rows, int64_t classes, const char * name) {
    if (rows < 0 || classes <= 0)
        fail_invalid(std::string(name) + ": expected rows >= 0 and classes > 0, got [" +
                     std::to_string(rows) + ", " + std::to_string(classes) + "]");
    if (rows > int64_t(logits.size()) / classes || int64_t(logits.size()) != rows * classes)
        fail_invalid(std::string(name) + ": expected " + std::to_string(rows) + " × " +
                     std::to_string(classes) + " values, got " + std::to_string(logits.size()));
    for (size_t i = 0; i < logits.size(); ++i)
        if (!std::isfinite(logits[i]))
            fail_invalid(std::string(name) + ": expected finite values, got " +
                         std::to_string(logits[i]) + " at row " +
                         std::to_string(int64_t(i) / classes) + ", class " +
                         std::to_string(int64_t(i) % classes));
}

void check_ids(std::span<const int64_t> ids, int64_t rows, int64_t classes, const char * name) {
    if (int64_t(ids.size()) != rows)
        fail_invalid(std::string(name) + ": expected " + std::to_string(rows) + " ids, got " +
                     std::to_string(ids.size()));
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= classes)
            fail_invalid(std::string(name) + ": expected ids in [0, " + std::to_string(classes) +
                         "), got " + std::to_string(ids[i]) + " at row " + std::to_string(i));
}

// log Σ exp(row), in double.
double row_log_sum_exp(const float * row, int64_t classes) {
    const double max = *std::max_element(row, row + classes);
    double sum = 0.0;
    for (int64_t c = 0; c < classes; ++c) sum += std::exp(double(row[c]) - max);
    return max + std::log(sum);
}

}  // namespace

std::vector<int64_t> top1_ids(std::span<const float> logits, int64_t rows, int64_t classes) {
    check_logits(logits, rows, classes, "logits");
    std::vector<int64_t> ids(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r)
        ids[size_t(r)] = top1_class(&logits[size_t(r * classes)], classes);
    return ids;
}

void top1_match_accumulator::add(std::span<const float> logits, int64_t rows, int64_t classes,
                                 std::span<const int64_t> reference_ids) {
    const std::vector<int64_t> ids = top1_ids(logits, rows, classes);
    check_ids(reference_ids, rows, classes, "reference_ids");
    for (int64_t r = 0; r < rows; ++r) matches_ += ids[size_t(r)] == reference_ids[size_t(r)];
    rows_ += rows;
}

void top1_match_accumulator::add_teacher_logits(std::span<const float> logits,
                                                std::span<const float> teacher_logits, int64_t rows,
                                                int64_t classes) {
    check_logits(teacher_logits, rows, classes, "teacher_logits");
    add(logits, rows, classes, top1_ids(teacher_logits, rows, classes));
}

double top1_match_accumulator::value() const {
    return rows_ ? double(matches_) / double(rows_) : 0.0;
}

void kl_divergence_accumulator::add_teacher_logits(std::span<const float> logits,
                                                   std::span<const float> teacher_logits,
                                                   int64_t rows, int64_t classes) {
    check_logits(logits, rows, classes, "student_logits");
    check_logits(teacher_logits, rows, classes, "teacher_logits");
    for (int64_t r = 0; r < rows; ++r) {
        const float * student = &logits[size_t(r * classes)];
        const float * teacher = &teacher_logits[size_t(r * classes)];
        const double student_lse = row_log_sum_exp(student, classes);
        const double teacher_lse = row_log_sum_exp(teacher, classes);
        double kl = 0.0;
        for (int64_t c = 0; c < classes; ++c) {
            const double teacher_logprob = double(teacher[c]) - teacher_lse;
            const double student_logprob = double(student[c]) - student_lse;
            kl += std::exp(teacher_logprob) * (teacher_logprob - student_logprob);
        }
        sum_ += kl;
    }
    rows_ += rows;
}

void kl_divergence_accumulator::add_teacher_logprobs(std::span<const float> logits,
                                                     std::span<const float> teacher_logprobs,
                                                     int64_t rows, int64_t classes) {
    check_logits(logits, rows, classes, "student_logits");
    if (int64_t(teacher_logprobs.size()) != int64_t(logits.size()))
        fail_invalid("teacher_logprobs: expected " + std::to_string(logits.size()) +
                     " values, got " + std::to_string(teacher_logprobs.size()));
    const float negative_infinity = -std::numeric_limits<float>::infinity();
    for (int64_t r = 0; r < rows; ++r) {
        const float * student = &logits[size_t(r * classes)];
        const float * teacher = &teacher_logprobs[size_t(r * classes)];
        const double student_lse = row_log_sum_exp(student, classes);
        double kl = 0.0;
        double mass = 0.0;
        for (int64_t c = 0; c < classes; ++c) {
            if (teacher[c] == negative_infinity) continue;
            if (!(teacher[c] <= 0.0f))
                fail_invalid("teacher_logprobs: expected log-probabilities (<= 0 or -inf), got " +
                             std::to_string(teacher[c]) + " at row " + std::to_string(r) +
                             ", class " + std::to_string(c));
            const double teacher_prob = std::exp(double(teacher[c]));
            mass += teacher_prob;
            kl += teacher_prob * (double(teacher[c]) - (double(student[c]) - student_lse));
        }
        if (std::abs(mass - 1.0) > 1e-3)
            fail_invalid("teacher_logprobs: expected each row's probabilities to sum to 1, got " +
                         std::to_string(mass) + " at row " + std::to_string(r));
        sum_ += kl;
    }
    rows_ += rows;
}

double kl_divergence_accumulator::mean() const { return rows_ ? sum_ / double(rows_) : 0.0; }

void calibration_accumulator::add(std::span<const float> logits, int64_t rows, int64_t classes,
                                  std::span<const int64_t> labels) {
    check_logits(logits, rows, classes, "logits");
    check_ids(labels, rows, classes, "labels");
    for (int64_t r = 0; r < rows; ++r) {
        const float * row = &logits[size_t(r * classes)];
        const int64_t predicted = top1_class(row, classes);
        // max softmax probability = exp(max − logsumexp), in (0, 1].
        const double confidence = std::exp(double(row[predicted]) - row_log_sum_exp(row, classes));
        // Bin m (1-based) holds ((m − 1)/M, m/M]: index ⌈conf·M⌉ − 1.
        const int bin = std::clamp(int(std::ceil(confidence * bins)) - 1, 0, bins - 1);
        bin_rows_[bin] += 1;
        bin_correct_[bin] += predicted == labels[size_t(r)];
        bin_confidence_sum_[bin] += confidence;
    }
    rows_ += rows;
}

double calibration_accumulator::expected_calibration_error() const {
    if (rows_ == 0) return 0.0;
    double ece = 0.0;
    for (int b = 0; b < bins; ++b) {
        if (bin_rows_[b] == 0) continue;
        const double accuracy = double(bin_correct_[b]) / double(bin_rows_[b]);
        const double confidence = bin_confidence_sum_[b] / double(bin_rows_[b]);
        ece += double(bin_rows_[b]) / double(rows_) * std::abs(accuracy - confidence);
    }
    return ece;
}

confusion_matrix::confusion_matrix(int64_t classes) : classes_(classes) {
    if (classes <= 0 || classes > 16384)
        fail_invalid("classes: expected a value in [1, 16384] (a C × C table of counts), got " +
                     std::to_string(classes));
    counts_.assign(size_t(classes * classes), 0);
}

void confusion_matrix::add(std::span<const int64_t> reference_ids,
                           std::span<const int64_t> other_ids) {
    const int64_t rows = int64_t(reference_ids.size());
    check_ids(reference_ids, rows, classes_, "reference_ids");
    check_ids(other_ids, rows, classes_, "other_ids");
    for (int64_t r = 0; r < rows; ++r)
        counts_[size_t(reference_ids[size_t(r)] * classes_ + other_ids[size_t(r)])] += 1;
}

int64_t confusion_matrix::count(int64_t reference, int64_t other) const {
    if (reference < 0 || reference >= classes_ || other < 0 || other >= classes_)
        fail_invalid("count: expected (reference, other) in [0, " + std::to_string(classes_) +
                     ")², got (" + std::to_string(reference) + ", " + std::to_string(other) + ")");
    return counts_[size_t(reference * classes_ + other)];
}

}  // namespace distill
