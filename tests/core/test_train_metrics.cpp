// Metrics on hand-made logits whose values are worked out in the comments.
#include <doctest/doctest.h>

#include "common/error.h"
#include "train/host_tensor.h"
#include "train/metrics.h"
#include "train/step_metrics.h"

#include <cmath>
#include <limits>
#include <vector>

TEST_CASE("accuracy and top-1 agreement count matching argmaxes across batches") {
    // Rows' argmax: 2, 0, 1, 1 (row 3 has a tie between 1 and 2: the first wins).
    const std::vector<float> logits = {0, 1, 5, 9, 2, 3, -1, 4, 0, 0, 7, 7};
    CHECK(distill::top1_ids(logits, 4, 3) == std::vector<int64_t>{2, 0, 1, 1});
    distill::top1_match_accumulator accuracy;
    accuracy.add(std::span(logits).first(6), 2, 3, std::vector<int64_t>{2, 1});
    accuracy.add(std::span(logits).subspan(6), 2, 3, std::vector<int64_t>{1, 1});
    CHECK(accuracy.rows() == 4);
    CHECK(accuracy.matches() == 3);
    CHECK(accuracy.value() == 0.75);

    const std::vector<float> teacher = {0, 0, 1, 0, 1, 0, 3, 2, 1, 0, 0, 1};  // 2, 1, 0, 2
    distill::top1_match_accumulator agreement;
    agreement.add_teacher_logits(logits, teacher, 4, 3);
    CHECK(agreement.value() == 0.25);

    CHECK_THROWS_WITH(accuracy.add(logits, 4, 3, std::vector<int64_t>{0, 1, 3, 0}),
                      "reference_ids: expected ids in [0, 3), got 3 at row 2");
    CHECK_THROWS_WITH(accuracy.add(logits, 3, 3, std::vector<int64_t>{0, 1, 2}),
                      "logits: expected 3 × 3 values, got 12");
    std::vector<float> with_nan = logits;
    with_nan[4] = std::nanf("");
    CHECK_THROWS_WITH(distill::top1_ids(with_nan, 4, 3),
                      "logits: expected finite values, got nan at row 1, class 1");
}

TEST_CASE("mean KL(teacher || student) from teacher logits and from teacher log-probs") {
    // Row 0: teacher [0, ln 3] → p_t = (1/4, 3/4); student [0, 0] → (1/2, 1/2):
    //   KL = 1/4 ln(1/2) + 3/4 ln(3/2).
    // Row 1: identical distributions → 0.
    const float ln3 = float(std::log(3.0));
    const std::vector<float> teacher = {0, ln3, 2, -1};
    const std::vector<float> student = {0, 0, 5, 2};
    const double row0 = 0.25 * std::log(0.5) + 0.75 * std::log(1.5);
    distill::kl_divergence_accumulator kl;
    kl.add_teacher_logits(student, teacher, 2, 2);
    CHECK(kl.rows() == 2);
    CHECK(kl.mean() == doctest::Approx(row0 / 2).epsilon(1e-6));

    const std::vector<float> teacher_logprobs = {float(std::log(0.25)), float(std::log(0.75)),
                                                 float(-std::log1p(std::exp(-3.0))),
                                                 float(-3 - std::log1p(std::exp(-3.0)))};
    distill::kl_divergence_accumulator from_logprobs;
    from_logprobs.add_teacher_logprobs(student, teacher_logprobs, 2, 2);
    CHECK(from_logprobs.mean() == doctest::Approx(row0 / 2).epsilon(1e-6));

    // A class the teacher gives probability 0 adds nothing: KL = ln 2 − 0 for
    // teacher (1, 0) against student (1/2, 1/2).
    const float minus_inf = -std::numeric_limits<float>::infinity();
    distill::kl_divergence_accumulator certain;
    certain.add_teacher_logprobs(std::vector<float>{0, 0}, std::vector<float>{0, minus_inf}, 1, 2);
    CHECK(certain.mean() == doctest::Approx(std::log(2.0)));

    CHECK_THROWS_WITH(
        certain.add_teacher_logprobs(std::vector<float>{0, 0}, std::vector<float>{0, 0}, 1, 2),
        "teacher_logprobs: expected each row's probabilities to sum to 1, got 2.000000 at row 0");
    CHECK_THROWS_WITH(
        certain.add_teacher_logprobs(std::vector<float>{0, 0}, std::vector<float>{0.5f, 0}, 1, 2),
        "teacher_logprobs: expected log-probabilities (<= 0 or -inf), got 0.500000 at row 0, "
        "class 0");
}

TEST_CASE("expected calibration error over 15 bins, exactly as Guo et al. define it") {
    // Two classes, logits (0, z): confidence = sigmoid(|z|), prediction 1 if z > 0.
    auto logit_for = [](double confidence) {
        return float(std::log(confidence / (1 - confidence)));
    };
    const float z90 = logit_for(0.9), z62 = logit_for(0.62);
    // Bin 14 of 15 ((13/15, 14/15]) gets the two 0.9 rows, one right:
    //   |1/2 − 0.9| · 2/4 = 0.2.
    // Bin 10 ((9/15, 10/15]) gets the two 0.62 rows, both right:
    //   |1 − 0.62| · 2/4 = 0.19.       ECE = 0.39.
    const std::vector<float> logits = {0, z90, 0, z90, 0, -z62, 0, z62};
    const std::vector<int64_t> labels = {1, 0, 0, 1};
    distill::calibration_accumulator one_batch;
    one_batch.add(logits, 4, 2, labels);
    CHECK(one_batch.expected_calibration_error() == doctest::Approx(0.39).epsilon(1e-6));
    CHECK(one_batch.bin_rows()[13] == 2);
    CHECK(one_batch.bin_rows()[9] == 2);
    CHECK(one_batch.bin_correct()[13] == 1);
    CHECK(one_batch.bin_correct()[9] == 2);

    distill::calibration_accumulator two_batches;
    two_batches.add(std::span(logits).first(2), 1, 2, std::span(labels).first(1));
    two_batches.add(std::span(logits).subspan(2), 3, 2, std::span(labels).subspan(1));
    CHECK(two_batches.expected_calibration_error() ==
          doctest::Approx(one_batch.expected_calibration_error()).epsilon(1e-12));

    // Perfectly calibrated: confidence 1 (a huge margin) and always right.
    distill::calibration_accumulator sure;
    sure.add(std::vector<float>{0, 100}, 1, 2, std::vector<int64_t>{1});
    CHECK(sure.expected_calibration_error() == doctest::Approx(0.0).epsilon(1e-12));
    CHECK(sure.bin_rows()[14] == 1);
    // Uniform over 4 classes: confidence 1/4 lands in bin 4 ((3/15, 4/15]);
    // the tie goes to class 0, the label: accuracy 1, ECE = 1 − 1/4.
    distill::calibration_accumulator uniform;
    uniform.add(std::vector<float>{1, 1, 1, 1}, 1, 4, std::vector<int64_t>{0});
    CHECK(uniform.bin_rows()[3] == 1);
    CHECK(uniform.expected_calibration_error() == doctest::Approx(0.75));
}

TEST_CASE("confusion matrix: rows are the reference, columns the other prediction") {
    distill::confusion_matrix matrix(3);
    matrix.add(std::vector<int64_t>{0, 0, 1, 2, 2}, std::vector<int64_t>{0, 1, 1, 0, 2});
    matrix.add(std::vector<int64_t>{0}, std::vector<int64_t>{1});
    CHECK(matrix.counts() == std::vector<int64_t>{1, 2, 0, 0, 1, 0, 1, 0, 1});
    CHECK(matrix.count(0, 1) == 2);
    CHECK_THROWS_WITH(matrix.add(std::vector<int64_t>{0, 1}, std::vector<int64_t>{0}),
                      "other_ids: expected 2 ids, got 1");
    CHECK_THROWS_WITH(matrix.add(std::vector<int64_t>{-1}, std::vector<int64_t>{0}),
                      "reference_ids: expected ids in [0, 3), got -1 at row 0");
    CHECK_THROWS_WITH(distill::confusion_matrix(0),
                      "classes: expected a value in [1, 16384] (a C × C table of counts), got 0");
}

TEST_CASE("a training step's metrics: top-1 as the metrics take it, ignore_index rows skipped") {
    // Student rows' top-1: 2, 0, 1 (row 2 ties 1 and 2: the first wins).
    std::vector<float> student = {0, 1, 5, 9, 2, 3, 0, 7, 7};
    std::vector<int64_t> labels = {2, -100, 2};  // row 1 unlabelled: accuracy 1 of 2
    int64_t label_shape[1] = {3};
    const DLTensor labels_tensor = distill::host_tensor(labels.data(), label_shape, 1);
    distill::checked_batch batch;
    batch.rows = 3;
    batch.labels = labels.data();
    distill::batch_tensors tensors;
    tensors.labels = &labels_tensor;

    distill::step_metrics m = distill::batch_step_metrics(student.data(), 3, batch, tensors, -100);
    CHECK(m.accuracy == 0.5f);
    CHECK(std::isnan(m.agreement));

    // A dense teacher whose top-1 are 2, 1, 1: two of three agree.
    std::vector<float> teacher = {0, 0, 1, 0, 1, 0, 3, 4, 4};
    int64_t teacher_shape[2] = {3, 3};
    const DLTensor teacher_tensor = distill::host_tensor(teacher.data(), teacher_shape, 2);
    batch.dense = true;
    tensors.teacher_logits = &teacher_tensor;
    m = distill::batch_step_metrics(student.data(), 3, batch, tensors, -100);
    CHECK(m.agreement == doctest::Approx(2.0 / 3.0));

    // A top-k teacher (K = 2), its ids int32 or int64: the id of the
    // largest log-probability, the first of equal ones: 2, 0, 2.
    std::vector<float> logprobs = {-0.1f, -2.0f, -3.0f, -0.2f, -0.7f, -0.7f};
    std::vector<int32_t> ids32 = {2, 0, 1, 0, 2, 1};
    std::vector<int64_t> ids64(ids32.begin(), ids32.end());
    int64_t topk_shape[2] = {3, 2};
    const DLTensor logprobs_tensor = distill::host_tensor(logprobs.data(), topk_shape, 2);
    const DLTensor ids32_tensor = distill::host_tensor(ids32.data(), topk_shape, 2);
    const DLTensor ids64_tensor = distill::host_tensor(ids64.data(), topk_shape, 2);
    batch.dense = false;
    batch.topk = true;
    batch.labels = nullptr;
    tensors = {};
    tensors.teacher_topk_logprobs = &logprobs_tensor;
    for (const DLTensor * ids : {&ids32_tensor, &ids64_tensor}) {
        tensors.teacher_topk_ids = ids;
        m = distill::batch_step_metrics(student.data(), 3, batch, tensors, -100);
        CHECK(std::isnan(m.accuracy));
        CHECK(m.agreement == doctest::Approx(2.0 / 3.0));  // rows 0 and 1; row 2 picks id 2
    }
    CHECK(distill::topk_top1_class(ids32.data() + 4, logprobs.data() + 4, 2) == 2);
}
