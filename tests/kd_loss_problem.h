// Test helper: a random distillation problem, run through the C ABI and
// through the fp64 reference on exactly the values the library saw.
#pragma once

#include <distill/distill.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "host_tensor.h"
#include "reference_kd_loss.h"

namespace test {

enum class teacher_form { dense, topk_renormalize, topk_bucket };

struct problem_spec {
    int64_t rows = 3;
    int64_t vocab = 7;
    int64_t k = 3;  // top-k forms only
    teacher_form form = teacher_form::dense;
    storage student_type = storage::f32;
    storage teacher_type = storage::f32;  // dense logits or top-k log-probs
    storage label_type = storage::i64;
    storage id_type = storage::i64;
    bool with_labels = false;
    bool ignore_some_rows = false;  // label of row 1 (if any) = ignore_index
    double logit_scale = 2.0;
    uint32_t seed = 1;
};

struct problem {
    problem_spec spec;
    host_tensor student;
    host_tensor teacher_logits;
    host_tensor topk_ids;
    host_tensor topk_logprobs;
    host_tensor labels;

    explicit problem(const problem_spec & s)
        : spec(s),
          student(s.student_type, {s.rows, s.vocab}),
          teacher_logits(s.teacher_type, {s.rows, s.vocab}),
          topk_ids(s.id_type, {s.rows, s.k}),
          topk_logprobs(s.teacher_type, {s.rows, s.k}),
          labels(s.label_type, {s.rows}) {
        std::mt19937 rng(s.seed);
        std::normal_distribution<double> normal(0.0, s.logit_scale);
        std::uniform_int_distribution<int64_t> label_of(0, s.vocab - 1);
        std::vector<double> teacher_row(s.vocab);
        for (int64_t row = 0; row < s.rows; ++row) {
            for (int64_t i = 0; i < s.vocab; ++i) {
                student.set(row * s.vocab + i, normal(rng));
                teacher_row[i] = normal(rng);
                teacher_logits.set(row * s.vocab + i, teacher_row[i]);
            }
            // Top-k: the teacher's k most likely ids and their log-probs.
            std::vector<int64_t> order(s.vocab);
            std::iota(order.begin(), order.end(), 0);
            std::stable_sort(order.begin(), order.end(),
                             [&](int64_t a, int64_t b) { return teacher_row[a] > teacher_row[b]; });
            const std::vector<double> log_p = softmax(teacher_row).log_prob;
            for (int64_t j = 0; j < s.k && j < s.vocab; ++j) {
                topk_ids.set(row * s.k + j, static_cast<double>(order[j]));
                topk_logprobs.set(row * s.k + j, log_p[order[j]]);
            }
            labels.set(row, static_cast<double>(label_of(rng)));
        }
        if (s.ignore_some_rows && s.rows > 1) labels.set(1, -100);
    }

    std::vector<int64_t> label_values() const {
        if (!spec.with_labels) return {};
        std::vector<int64_t> out;
        for (double v : labels.values()) out.push_back(static_cast<int64_t>(v));
        return out;
    }

    reference_teacher reference() const {
        reference_teacher t;
        if (spec.form == teacher_form::dense) {
            t.logits = teacher_logits.values();
            return t;
        }
        t.k = spec.k;
        for (double v : topk_ids.values()) t.topk_ids.push_back(static_cast<int64_t>(v));
        t.topk_logprobs = topk_logprobs.values();
        return t;
    }
};

inline distill_kd_loss_options to_options(const reference_options & r) {
    distill_kd_loss_options o;
    distill_kd_loss_options_init(&o);
    o.divergence = r.divergence;
    o.beta = static_cast<float>(r.beta);
    o.temperature = static_cast<float>(r.temperature);
    o.scale_by_t2 = r.scale_by_t2 ? 1 : 0;
    o.soft_weight = static_cast<float>(r.soft_weight);
    o.hard_weight = static_cast<float>(r.hard_weight);
    o.ignore_index = r.ignore_index;
    o.reduction = r.reduction;
    o.tail = r.tail_bucket ? DISTILL_TAIL_BUCKET : DISTILL_TAIL_RENORMALIZE;
    return o;
}

struct library_result {
    distill_status status = DISTILL_STATUS_OK;
    std::string message;
    std::vector<double> loss;  // [1] or [N]
    std::vector<double> grad;  // [N, V], empty when not asked
};

// Runs the problem through distill_kd_loss / distill_kd_loss_topk.
inline library_result run_library(const distill_context * context, const reference_options & r,
                                  problem & pb, bool want_grad = true) {
    const distill_kd_loss_options options = to_options(r);
    const int64_t rows = pb.spec.rows;
    host_tensor loss(storage::f32,
                     r.reduction == 2 ? std::vector<int64_t>{rows} : std::vector<int64_t>{});
    host_tensor grad(pb.spec.student_type, {rows, pb.spec.vocab});
    // Poison the gradient so that an entry the kernel forgets shows up.
    for (size_t i = 0; i < grad.size(); ++i) grad.set(i, 12345.0);
    DLTensor * labels = pb.spec.with_labels ? pb.labels.dl() : nullptr;
    DLTensor * grad_out = want_grad ? grad.dl() : nullptr;
    library_result result;
    if (pb.spec.form == teacher_form::dense)
        result.status = distill_kd_loss(context, &options, pb.student.dl(), pb.teacher_logits.dl(),
                                        labels, loss.dl(), grad_out);
    else
        result.status = distill_kd_loss_topk(context, &options, pb.student.dl(), pb.topk_ids.dl(),
                                             pb.topk_logprobs.dl(), labels, loss.dl(), grad_out);
    result.message = distill_last_error_message();
    result.loss = loss.values();
    if (want_grad) result.grad = grad.values();
    return result;
}

inline reference_options with_tail(reference_options r, const problem & pb) {
    r.tail_bucket = pb.spec.form == teacher_form::topk_bucket;
    return r;
}

// |a − b| ≤ abs + rel·|b|, also true when both are the same infinity.
inline bool close(double a, double b, double abs_tol, double rel_tol) {
    if (std::isinf(a) || std::isinf(b)) return a == b;
    return std::fabs(a - b) <= abs_tol + rel_tol * std::fabs(b);
}

}  // namespace test
