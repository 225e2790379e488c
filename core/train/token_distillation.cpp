#include "train/token_distillation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "common/error.h"
#include "common/json_fields.h"
#include "lm/cross_entropy.h"
#include "losses/kd_loss_validation.h"
#include "students/layers/elementwise.h"
#include "train/host_tensor.h"

namespace distill {
namespace {

using json_fields::number_text;

// The soft term's options as kd_loss runs it: the divergence alone
// (weights and T² applied here, so the part can be reported unweighted),
// summed over rows (the mean is taken here over the positions that count,
// also when rows are gathered by top-k size).
kd_loss_options soft_only(const kd_loss_options & options) {
    kd_loss_options soft = options;
    soft.soft_weight = 1.0f;
    soft.hard_weight = 0.0f;
    soft.scale_by_t2 = false;
    soft.reduction = int32_t(reduction_kind::sum);
    soft.ignore_index = lm::ignore_target;
    return soft;
}

// Σ over the rows of the divergence against a dense teacher; grad[N, V] the
// gradient of that sum (zero on masked rows).
double dense_soft_sum(const float * logits, const float * teacher, const int32_t * labels,
                      int64_t N, int64_t V, const kd_loss_options & soft, float * grad,
                      int num_threads) {
    context ctx;
    ctx.num_threads = num_threads;
    int64_t shape[2] = {N, V};
    int64_t label_shape[1] = {N};
    float total = 0.0f;
    DLTensor student = host_tensor(const_cast<float *>(logits), shape, 2);
    DLTensor teacher_t = host_tensor(const_cast<float *>(teacher), shape, 2);
    DLTensor label_t = host_tensor(const_cast<int32_t *>(labels), label_shape, 1);
    DLTensor loss = host_tensor(&total, nullptr, 0);
    DLTensor grad_t = host_tensor(grad, shape, 2);
    kd_loss_dense(ctx, soft, &student, &teacher_t, &label_t, &loss, &grad_t);
    return double(total);
}

// The same against top-k targets whose rows may hold empty slots (−1).
// kd_loss takes K ids per row, so rows are gathered by how many ids they
// have, each group compacted to its k and run as one call; a row with none
// (no alternative the student knows) carries no teacher information and
// contributes 0. When every row is full the batch runs as it is.
double topk_soft_sum(const float * logits, const int32_t * ids, const float * logprobs,
                     int64_t K, const int32_t * labels, int64_t N, int64_t V,
                     const kd_loss_options & soft, float * grad, int num_threads) {
    context ctx;
    ctx.num_threads = num_threads;
    std::vector<int64_t> filled(size_t(N), 0);
    bool all_full = true;
    for (int64_t n = 0; n < N; ++n) {
        for (int64_t k = 0; k < K; ++k) {
            const int32_t id = ids[n * K + k];
            if (id < -1 || id >= V)
                fail_invalid("teacher top-k ids[" + std::to_string(n) + ", " + std::to_string(k) +
                             "]: expected a token id in [0, " + std::to_string(V) +
                             ") (the student's vocabulary) or -1 (an empty slot), got " +
                             std::to_string(id));
            if (id >= 0) ++filled[size_t(n)];
        }
        all_full = all_full && filled[size_t(n)] == K;
    }
    int64_t label_shape[1] = {N};
    DLTensor label_t = host_tensor(const_cast<int32_t *>(labels), label_shape, 1);
    if (all_full) {
        int64_t shape[2] = {N, V}, topk_shape[2] = {N, K};
        float total = 0.0f;
        DLTensor student = host_tensor(const_cast<float *>(logits), shape, 2);
        DLTensor ids_t = host_tensor(const_cast<int32_t *>(ids), topk_shape, 2);
        DLTensor logprobs_t = host_tensor(const_cast<float *>(logprobs), topk_shape, 2);
        DLTensor loss = host_tensor(&total, nullptr, 0);
        DLTensor grad_t = host_tensor(grad, shape, 2);
        kd_loss_topk(ctx, soft, &student, &ids_t, &logprobs_t, &label_t, &loss, &grad_t);
        return double(total);
    }
    std::fill(grad, grad + N * V, 0.0f);
    std::vector<int64_t> rows;
    std::vector<float> group_logits, group_grad, group_logprobs;
    std::vector<int32_t> group_ids;
    double total = 0.0;
    for (int64_t k = 1; k <= K; ++k) {
        rows.clear();
        for (int64_t n = 0; n < N; ++n)
            if (labels[n] != lm::ignore_target && filled[size_t(n)] == k) rows.push_back(n);
        if (rows.empty()) continue;
        const int64_t R = int64_t(rows.size());
        group_logits.resize(size_t(R * V));
        group_grad.resize(size_t(R * V));
        group_ids.clear();
        group_logprobs.clear();
        for (int64_t r = 0; r < R; ++r) {
            const int64_t n = rows[size_t(r)];
            std::copy(logits + n * V, logits + (n + 1) * V, group_logits.begin() + r * V);
            for (int64_t slot = 0; slot < K; ++slot)
                if (ids[n * K + slot] >= 0) {
                    group_ids.push_back(ids[n * K + slot]);
                    group_logprobs.push_back(logprobs[n * K + slot]);
                }
        }
        int64_t shape[2] = {R, V}, topk_shape[2] = {R, k};
        float part = 0.0f;
        DLTensor student = host_tensor(group_logits.data(), shape, 2);
        DLTensor ids_t = host_tensor(group_ids.data(), topk_shape, 2);
        DLTensor logprobs_t = host_tensor(group_logprobs.data(), topk_shape, 2);
        DLTensor loss = host_tensor(&part, nullptr, 0);
        DLTensor grad_t = host_tensor(group_grad.data(), shape, 2);
        kd_loss_topk(ctx, soft, &student, &ids_t, &logprobs_t, nullptr, &loss, &grad_t);
        total += double(part);
        for (int64_t r = 0; r < R; ++r)
            std::copy(group_grad.begin() + r * V, group_grad.begin() + (r + 1) * V,
                      grad + rows[size_t(r)] * V);
    }
    return total;
}

// Refuses a label outside [0, V) that is not −100, naming its row.
void check_labels(const int32_t * labels, int64_t N, int64_t V) {
    for (int64_t n = 0; n < N; ++n)
        if (labels[n] != lm::ignore_target && (labels[n] < 0 || labels[n] >= V))
            fail_invalid("labels[" + std::to_string(n) + "]: expected a token id in [0, " +
                         std::to_string(V) + ") or " + std::to_string(lm::ignore_target) +
                         " (a masked position), got " + std::to_string(labels[n]));
}

// d[n] = soft_scale · d[n] + hard_scale · (softmax(logits[n]) − onehot(label))
// on the rows that count (masked rows hold zeros and keep them); returns
// Σ of their cross-entropies, summed in row order (the same bits at any
// thread count).
double add_hard_term(float * d, const float * logits, const int32_t * labels, int64_t N,
                     int64_t V, float soft_scale, double hard_scale) {
    std::vector<double> row_loss(size_t(N), 0.0);
    layers::elementwise(N, 65536 / V, [&](int64_t n) {
        if (labels[n] == lm::ignore_target) return;
        const float * x = logits + n * V;
        float * g = d + n * V;
        double max = x[0];
        for (int64_t v = 1; v < V; ++v) max = std::max(max, double(x[v]));
        double sum = 0;
        for (int64_t v = 0; v < V; ++v) sum += std::exp(double(x[v]) - max);
        const double lse = max + std::log(sum);
        row_loss[size_t(n)] = lse - double(x[labels[n]]);
        if (hard_scale == 0.0) {
            for (int64_t v = 0; v < V; ++v) g[v] *= soft_scale;
            return;
        }
        for (int64_t v = 0; v < V; ++v)
            g[v] = float(double(soft_scale) * g[v] + hard_scale * std::exp(double(x[v]) - lse));
        g[labels[n]] = float(double(g[labels[n]]) - hard_scale);
    });
    double total = 0;
    for (double value : row_loss) total += value;
    return total;
}

// Refuses both forms at once, or an incomplete top-k.
void check_teacher_form(const token_teacher_targets & teacher) {
    if (teacher.dense() && teacher.sparse())
        fail_invalid("teacher targets: expected dense logits or top-k ids and log-probabilities, "
                     "got both");
    if (teacher.sparse() &&
        (teacher.topk_ids == nullptr || teacher.topk_logprobs == nullptr || teacher.topk < 1))
        fail_invalid("teacher top-k targets: expected ids, log-probabilities and K >= 1, got ids " +
                     std::string(teacher.topk_ids ? "given" : "null") + ", log-probabilities " +
                     (teacher.topk_logprobs ? "given" : "null") + ", K " +
                     std::to_string(teacher.topk));
}

}  // namespace

void check_token_loss_options(const kd_loss_options & options) {
    resolve_options(options);  // the family's own checks
    if (options.reduction != int32_t(reduction_kind::batchmean))
        fail_invalid("loss.reduction: expected BATCHMEAN (0; the mean over the positions that "
                     "count) for token distillation, got " + std::to_string(options.reduction));
    if (options.ignore_index != lm::ignore_target)
        fail_invalid("loss.ignore_index: expected " + std::to_string(lm::ignore_target) +
                     " (the label of a masked position in a token batch), got " +
                     std::to_string(options.ignore_index));
    if (options.soft_weight + options.hard_weight <= 0.0f)
        fail_invalid("loss: expected soft_weight >= 0 and hard_weight >= 0, not both 0; got " +
                     number_text(options.soft_weight) + " and " + number_text(options.hard_weight));
}

token_loss_parts token_distillation_loss(const float * logits, const int32_t * labels, int64_t N,
                                         int64_t V, const token_teacher_targets & teacher,
                                         const kd_loss_options & options, float * d_logits,
                                         int num_threads) {
    if (logits == nullptr || labels == nullptr || d_logits == nullptr)
        fail_invalid("token_distillation_loss: logits, labels and d_logits: expected pointers, "
                     "got null");
    check_teacher_form(teacher);
    check_token_loss_options(options);

    check_labels(labels, N, V);
    token_loss_parts parts;
    for (int64_t n = 0; n < N; ++n)
        if (labels[n] != lm::ignore_target) ++parts.positions;
    if (!teacher.any()) {
        // The next-token path, as basic_transformer::train_step runs it.
        parts.hard = lm::cross_entropy(d_logits, logits, labels, N, V);
        parts.loss = parts.hard;
        parts.soft = std::numeric_limits<double>::quiet_NaN();
        return parts;
    }
    // The soft term's gradient straight into d_logits (of the sum; zero on
    // masked rows), then scaled and the hard term's added row by row in the
    // same buffer: no second [N, V] array, which at a real vocabulary is
    // the size of the logits themselves.
    const kd_loss_options soft = soft_only(options);
    const double soft_sum =
        teacher.dense()
            ? dense_soft_sum(logits, teacher.logits, labels, N, V, soft, d_logits, num_threads)
            : topk_soft_sum(logits, teacher.topk_ids, teacher.topk_logprobs, teacher.topk, labels,
                            N, V, soft, d_logits, num_threads);
    const double inv_count = parts.positions > 0 ? 1.0 / double(parts.positions) : 0.0;
    parts.soft = soft_sum * inv_count;
    const double t2 = options.scale_by_t2 ? double(options.temperature) * options.temperature : 1.0;
    const double soft_scale = double(options.soft_weight) * t2;
    parts.hard = add_hard_term(d_logits, logits, labels, N, V, float(soft_scale * inv_count),
                               double(options.hard_weight) * inv_count) *
                 inv_count;
    parts.loss = soft_scale * parts.soft + double(options.hard_weight) * parts.hard;
    return parts;
}

token_loss_parts distillation_gradients(lm::transformer & student, const int32_t * tokens,
                                        const int32_t * labels, int64_t B, int64_t T,
                                        const token_teacher_targets & teacher,
                                        const kd_loss_options & options,
                                        std::vector<float> & d_logits, int num_threads) {
    if (labels == nullptr) fail_invalid("labels: expected a pointer to [B, T] ids, got null");
    check_teacher_form(teacher);  // before the forward: a refusal costs nothing
    check_token_loss_options(options);
    student.forward(tokens, B, T);
    const int64_t V = student.config().vocab;
    const std::span<float> logits = student.writable_logits();
    // Without teacher targets the cross-entropy's gradient takes the logits'
    // place (it reads each row before writing it): no second [B · T, V]
    // buffer. The divergences write theirs beside the logits.
    float * gradient = logits.data();
    if (teacher.any()) {
        d_logits.resize(size_t(B * T * V));
        gradient = d_logits.data();
    }
    const token_loss_parts parts = token_distillation_loss(logits.data(), labels, B * T, V, teacher,
                                                           options, gradient, num_threads);
    student.backward(gradient);
    return parts;
}

void require_same_vocabulary(const lm::transformer_config & teacher,
                             const lm::transformer_config & student) {
    if (teacher.vocab != student.vocab)
        fail_invalid("teacher: its vocabulary has " + std::to_string(teacher.vocab) +
                     " tokens, the student's " + std::to_string(student.vocab) +
                     "; dense token targets need the same vocabulary (distil across "
                     "vocabularies through top-k targets mapped by token text, or train on the "
                     "teacher's completions)");
}

void require_teacher_fits(const lm::transformer_config & teacher,
                          const lm::transformer_config & student, int64_t positions) {
    require_same_vocabulary(teacher, student);
    if (teacher.context < positions)
        fail_invalid("teacher: its context of " + std::to_string(teacher.context) +
                     " positions is shorter than the dataset's windows of " +
                     std::to_string(positions));
}

void teacher_logits(lm::transformer & teacher, const lm::transformer_config & student,
                    const int32_t * tokens, int64_t B, int64_t T, std::vector<float> & out) {
    require_same_vocabulary(teacher.config(), student);
    const std::span<const float> logits = teacher.forward(tokens, B, T);
    out.assign(logits.begin(), logits.end());
}

}  // namespace distill
