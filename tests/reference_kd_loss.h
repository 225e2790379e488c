// The loss family written the plain way, in fp64, straight from the
// definitions in distill.h: build p and q as whole distributions, then sum.
// Slow and obviously correct; the kernels are checked against it, and its
// finite differences check the kernels' gradients.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace test {

struct reference_options {
    int divergence = 0;  // 0 forward KL, 1 reverse KL, 2 JSD, 3 TVD
    double beta = 0.5;
    double temperature = 1.0;
    bool scale_by_t2 = true;
    double soft_weight = 1.0;
    double hard_weight = 0.0;
    int64_t ignore_index = -100;
    int reduction = 0;  // 0 batchmean, 1 sum, 2 none
    bool tail_bucket = false;
};

// A teacher: dense logits [N, V], or top-k ids and log-probabilities [N, K].
struct reference_teacher {
    std::vector<double> logits;
    std::vector<int64_t> topk_ids;
    std::vector<double> topk_logprobs;
    int64_t k = 0;
    bool dense() const { return k == 0; }
};

// A distribution carried as probabilities and their logs (computed in log
// space, so that e^-20000 still has a finite log).
struct distribution {
    std::vector<double> prob;
    std::vector<double> log_prob;
};

inline distribution from_log_probs(std::vector<double> log_prob) {
    distribution d{std::vector<double>(log_prob.size()), std::move(log_prob)};
    for (size_t i = 0; i < d.prob.size(); ++i) d.prob[i] = std::exp(d.log_prob[i]);
    return d;
}

inline distribution softmax(const std::vector<double> & x) {
    double max = -std::numeric_limits<double>::infinity();
    for (double v : x) max = std::max(max, v);
    double sum = 0.0;
    for (double v : x) sum += std::exp(v - max);
    const double lse = max + std::log(sum);
    std::vector<double> log_prob(x.size());
    for (size_t i = 0; i < x.size(); ++i) log_prob[i] = x[i] - lse;
    return from_log_probs(std::move(log_prob));
}

// KL(a‖b) with 0·log 0 = 0.
inline double kl(const distribution & a, const distribution & b) {
    double total = 0.0;
    for (size_t i = 0; i < a.prob.size(); ++i)
        if (a.prob[i] > 0.0) total += a.prob[i] * (a.log_prob[i] - b.log_prob[i]);
    return total;
}

inline double divergence(const reference_options & o, const distribution & p,
                         const distribution & q) {
    int d = o.divergence;
    if (d == 2 && o.beta == 0.0) d = 0;
    if (d == 2 && o.beta == 1.0) d = 1;
    if (d == 0) return kl(p, q);
    if (d == 1) return kl(q, p);
    if (d == 2) {
        std::vector<double> log_m(p.prob.size());
        for (size_t i = 0; i < log_m.size(); ++i)
            log_m[i] = std::log(o.beta * p.prob[i] + (1.0 - o.beta) * q.prob[i]);
        const distribution m = from_log_probs(std::move(log_m));
        return o.beta * kl(p, m) + (1.0 - o.beta) * kl(q, m);
    }
    double total = 0.0;
    for (size_t i = 0; i < p.prob.size(); ++i) total += std::fabs(p.prob[i] - q.prob[i]);
    return 0.5 * total;
}

// The soft part of one row: D(p, q) as distill.h defines it.
inline double row_divergence(const reference_options & o, const double * z, int64_t vocab,
                             const reference_teacher & teacher, int64_t row) {
    const double T = o.temperature;
    std::vector<double> s(z, z + vocab);
    for (double & v : s) v /= T;
    const distribution q = softmax(s);
    if (teacher.dense()) {
        std::vector<double> t(teacher.logits.begin() + row * vocab,
                              teacher.logits.begin() + (row + 1) * vocab);
        for (double & v : t) v /= T;
        return divergence(o, softmax(t), q);
    }
    const int64_t k = teacher.k;
    const double neg_inf = -std::numeric_limits<double>::infinity();
    std::vector<double> tempered(k);  // l / T
    double mass = 0.0;
    for (int64_t j = 0; j < k; ++j) {
        const double l = teacher.topk_logprobs[row * k + j];
        tempered[j] = l / T;
        mass += std::exp(l);
    }
    if (!o.tail_bucket) {  // p over the whole vocabulary, renormalised top-k
        const distribution top = softmax(tempered);
        std::vector<double> log_p(vocab, neg_inf);
        for (int64_t j = 0; j < k; ++j) log_p[teacher.topk_ids[row * k + j]] = top.log_prob[j];
        return divergence(o, from_log_probs(std::move(log_p)), q);
    }
    double tail = 1.0 - mass;
    if (tail < 1e-6) tail = 0.0;  // the documented rounding floor
    std::vector<double> teacher_categories = tempered;
    teacher_categories.push_back(tail > 0.0 ? std::log(tail) / T : neg_inf);
    std::vector<double> log_q(k + 1);
    std::vector<bool> in_topk(vocab, false);
    for (int64_t j = 0; j < k; ++j) {
        const int64_t id = teacher.topk_ids[row * k + j];
        log_q[j] = q.log_prob[id];
        in_topk[id] = true;
    }
    double q_rest = 0.0;  // Σ over the entries outside the top-k (= 1 − Σ q_k)
    for (int64_t i = 0; i < vocab; ++i)
        if (!in_topk[i]) q_rest += q.prob[i];
    log_q[k] = std::log(q_rest);
    return divergence(o, softmax(teacher_categories), from_log_probs(std::move(log_q)));
}

// Row losses [N] (0 for ignored rows). labels: empty, or [N].
inline std::vector<double> reference_row_losses(const reference_options & o,
                                                const std::vector<double> & student, int64_t rows,
                                                int64_t vocab, const reference_teacher & teacher,
                                                const std::vector<int64_t> & labels) {
    std::vector<double> out(rows, 0.0);
    for (int64_t row = 0; row < rows; ++row) {
        if (!labels.empty() && labels[row] == o.ignore_index) continue;
        const double * z = student.data() + row * vocab;
        double loss = 0.0;
        if (o.soft_weight != 0.0) {
            const double t2 = o.scale_by_t2 ? o.temperature * o.temperature : 1.0;
            loss += o.soft_weight * t2 * row_divergence(o, z, vocab, teacher, row);
        }
        if (o.hard_weight != 0.0) {
            const distribution sigma = softmax(std::vector<double>(z, z + vocab));
            loss += o.hard_weight * -sigma.log_prob[labels[row]];
        }
        out[row] = loss;
    }
    return out;
}

// The reduced loss (the sum of rows for NONE: what the gradient is of).
inline double reference_loss(const reference_options & o, const std::vector<double> & student,
                             int64_t rows, int64_t vocab, const reference_teacher & teacher,
                             const std::vector<int64_t> & labels) {
    const std::vector<double> per_row =
        reference_row_losses(o, student, rows, vocab, teacher, labels);
    double total = 0.0;
    for (double v : per_row) total += v;
    if (o.reduction != 0) return total;
    int64_t active = rows;
    if (!labels.empty())
        active = std::count_if(labels.begin(), labels.end(),
                               [&](int64_t l) { return l != o.ignore_index; });
    return active > 0 ? total / double(active) : 0.0;
}

// Central finite differences of reference_loss w.r.t. every student logit.
inline std::vector<double> reference_gradient(const reference_options & o,
                                              std::vector<double> student, int64_t rows,
                                              int64_t vocab, const reference_teacher & teacher,
                                              const std::vector<int64_t> & labels) {
    std::vector<double> grad(student.size());
    for (size_t i = 0; i < student.size(); ++i) {
        const double original = student[i];
        const double h = 1e-6 * std::max(1.0, std::fabs(original));
        student[i] = original + h;
        const double up = reference_loss(o, student, rows, vocab, teacher, labels);
        student[i] = original - h;
        const double down = reference_loss(o, student, rows, vocab, teacher, labels);
        student[i] = original;
        grad[i] = (up - down) / (2.0 * h);
    }
    return grad;
}

}  // namespace test
