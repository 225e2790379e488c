// Evaluation metrics of a classifier student, fed batch by batch.
//
// Logits are row-major fp32 [N, C] (N rows of C classes); labels and class
// ids are int64 in [0, C). Every accumulator checks its inputs (sizes,
// finite logits, ids in range) and refuses bad ones with distill::error.
// Softmaxes and sums run in double, so the values do not depend on how the
// data was split into batches beyond the last bits.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace distill {

// The top-1 class of one row of C logits: the argmax, the first of equal
// maxima. The one definition of top-1 every metric, the trainer's step
// metrics and evaluation use. Unchecked: the callers check the row.
inline int64_t top1_class(const float * logits, int64_t classes) {
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c)
        if (logits[c] > logits[best]) best = c;
    return best;
}

// The top-1 class of a top-k teacher row: ids [K] (int32 or int64) beside
// their log-probabilities [K]; the id of the largest (the first of equal
// ones), as top1_class picks it.
template <class Id>
int64_t topk_top1_class(const Id * ids, const float * logprobs, int64_t k) {
    return int64_t(ids[top1_class(logprobs, k)]);
}

// top1_class of each row, N ids; refuses sizes that disagree and
// non-finite logits.
std::vector<int64_t> top1_ids(std::span<const float> logits, int64_t rows, int64_t classes);

// Fraction of rows whose top-1 id equals a reference id: accuracy against
// labels, or top-1 agreement with a teacher (its logits or its top-1 ids).
class top1_match_accumulator {
public:
    void add(std::span<const float> logits, int64_t rows, int64_t classes,
             std::span<const int64_t> reference_ids);
    void add_teacher_logits(std::span<const float> logits, std::span<const float> teacher_logits,
                            int64_t rows, int64_t classes);
    int64_t rows() const { return rows_; }
    int64_t matches() const { return matches_; }
    double value() const;  // matches / rows; 0 before any row

private:
    int64_t rows_ = 0;
    int64_t matches_ = 0;
};

// Mean over rows of KL(teacher ‖ student) = Σ_c p_t(c) (log p_t(c) − log p_s(c))
// at temperature 1, in nats, with p_s = softmax(student logits) and p_t
//  * softmax(teacher logits) (add_teacher_logits), or
//  * exp(teacher log-probs) (add_teacher_logprobs): a full distribution as
//    log_softmax gives it, used as is; −inf entries (probability 0) add
//    nothing, and a row whose probabilities do not sum to 1 within 1e-3 is
//    refused rather than silently renormalised.
class kl_divergence_accumulator {
public:
    void add_teacher_logits(std::span<const float> logits, std::span<const float> teacher_logits,
                            int64_t rows, int64_t classes);
    void add_teacher_logprobs(std::span<const float> logits,
                              std::span<const float> teacher_logprobs, int64_t rows,
                              int64_t classes);
    int64_t rows() const { return rows_; }
    double mean() const;  // 0 before any row

private:
    int64_t rows_ = 0;
    double sum_ = 0.0;
};

// Expected calibration error (Guo et al. 2017, "On Calibration of Modern
// Neural Networks"): confidence = max softmax probability, binned into
// M = 15 equal-width bins B_m = ((m − 1)/M, m/M], m = 1 … M;
//   ECE = Σ_m |B_m| / n · |accuracy(B_m) − mean confidence(B_m)|.
class calibration_accumulator {
public:
    static constexpr int bins = 15;
    void add(std::span<const float> logits, int64_t rows, int64_t classes,
             std::span<const int64_t> labels);
    double expected_calibration_error() const;  // 0 before any row
    int64_t rows() const { return rows_; }
    // Per bin: rows, correct rows, sum of confidences.
    const std::array<int64_t, bins> & bin_rows() const { return bin_rows_; }
    const std::array<int64_t, bins> & bin_correct() const { return bin_correct_; }
    const std::array<double, bins> & bin_confidence_sum() const { return bin_confidence_sum_; }

private:
    int64_t rows_ = 0;
    std::array<int64_t, bins> bin_rows_{};
    std::array<int64_t, bins> bin_correct_{};
    std::array<double, bins> bin_confidence_sum_{};
};

// C × C counts: count(r, o) = rows whose reference prediction (labels, or
// the teacher) is r and whose other prediction (the student) is o.
class confusion_matrix {
public:
    explicit confusion_matrix(int64_t classes);
    void add(std::span<const int64_t> reference_ids, std::span<const int64_t> other_ids);
    int64_t classes() const { return classes_; }
    int64_t count(int64_t reference, int64_t other) const;
    const std::vector<int64_t> & counts() const { return counts_; }  // [C, C], row-major

private:
    int64_t classes_;
    std::vector<int64_t> counts_;
};

}  // namespace distill
