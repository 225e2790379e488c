#include "train/lm_evaluation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/openmp.h"
#include "common/scoped_omp_threads.h"
#include "lm/cross_entropy.h"
#include "train/token_distillation.h"

namespace distill {
namespace {

// One position's figures, summed in order afterwards.
struct position_figures {
    double nll = 0.0;
    double kl = 0.0;
    bool correct = false;
    bool agrees = false;
};

int64_t argmax(const float * row, int64_t V) {
    return int64_t(std::max_element(row, row + V) - row);
}

double log_sum_exp(const float * row, int64_t V) {
    const double top = *std::max_element(row, row + V);
    double total = 0.0;
    for (int64_t v = 0; v < V; ++v) total += std::exp(double(row[v]) - top);
    return top + std::log(total);
}

// Σ_v p_t(v) (log p_t(v) − log q_s(v)) for one row of each.
double kl_row(const float * teacher, double teacher_lse, const float * student,
              double student_lse, int64_t V) {
    double kl = 0.0;
    for (int64_t v = 0; v < V; ++v) {
        const double log_p = double(teacher[v]) - teacher_lse;
        kl += std::exp(log_p) * (log_p - (double(student[v]) - student_lse));
    }
    return kl;
}

}  // namespace

lm_eval_result evaluate_language_model(lm::transformer & student, lm::transformer * teacher,
                                       const text::text_dataset & data,
                                       const lm_eval_settings & settings) {
    const lm::transformer_config & config = student.config();
    data.check_fits_model(config.vocab, config.context);
    if (settings.batch_windows < 1)
        fail_invalid("batch_windows: expected ≥ 1 windows per forward, got " +
                     std::to_string(settings.batch_windows));
    if (settings.max_windows < 0)
        fail_invalid("max_windows: expected ≥ 0 (0 = every window), got " +
                     std::to_string(settings.max_windows));
    const int64_t available = int64_t(data.windows(settings.split));
    if (available == 0)
        fail_invalid(std::string("data: the ") + text::split_name(settings.split) +
                     " split of '" + data.path().string() + "' has no window to evaluate");
    if (teacher != nullptr) {
        require_teacher_fits(teacher->config(), config, int64_t(data.context()));
    }
    const int64_t count =
        settings.max_windows > 0 ? std::min(settings.max_windows, available) : available;
    const int64_t T = data.context(), V = config.vocab;
    const scoped_omp_threads threads(settings.num_threads);

    // Per batch, summed in position order after it: memory of one batch.
    std::vector<position_figures> figures;
    double nll = 0.0, kl = 0.0;
    int64_t correct = 0, agrees = 0;
    std::vector<int32_t> tokens, targets;
    std::vector<uint64_t> windows;
    for (int64_t first = 0; first < count; first += settings.batch_windows) {
        const int64_t B = std::min(settings.batch_windows, count - first);
        windows.resize(size_t(B));
        for (int64_t b = 0; b < B; ++b) windows[size_t(b)] = uint64_t(first + b);
        tokens.resize(size_t(B * T));
        targets.resize(size_t(B * T));
        data.copy_batch(settings.split, windows.data(), uint64_t(B), tokens.data(), targets.data());
        const float * teacher_rows = nullptr;
        if (teacher != nullptr) {
            const std::span<const float> t = teacher->forward(tokens.data(), B, T);
            teacher_rows = t.data();
        }
        const float * student_rows = student.forward(tokens.data(), B, T).data();
        const int64_t N = B * T;
        figures.assign(size_t(N), position_figures{});
        position_figures * out = figures.data();
#pragma omp parallel for schedule(static)
        for (int64_t n = 0; n < N; ++n) {
            const float * s = student_rows + n * V;
            const double s_lse = log_sum_exp(s, V);
            const int64_t s_top = argmax(s, V);
            position_figures & f = out[n];
            f.nll = s_lse - double(s[targets[size_t(n)]]);
            f.correct = s_top == targets[size_t(n)];
            if (teacher_rows != nullptr) {
                const float * t = teacher_rows + n * V;
                f.agrees = s_top == argmax(t, V);
                f.kl = kl_row(t, log_sum_exp(t, V), s, s_lse, V);
            }
        }
        for (const position_figures & f : figures) {
            nll += f.nll;
            kl += f.kl;
            correct += f.correct;
            agrees += f.agrees;
        }
    }

    lm_eval_result result;
    result.windows = count;
    result.positions = count * T;
    const double n = double(result.positions);
    result.loss = nll / n;
    result.perplexity = std::exp(result.loss);
    result.accuracy = double(correct) / n;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    result.agreement = teacher != nullptr ? double(agrees) / n : nan;
    result.mean_kl = teacher != nullptr ? kl / n : nan;
    return result;
}

lm_eval_result evaluate_on_completions(lm::transformer & student, const completion_rows & rows,
                                       const lm_eval_settings & settings) {
    if (settings.batch_windows < 1 || settings.max_windows < 0)
        fail_invalid("batch_windows, max_windows: expected ≥ 1 and ≥ 0, got " +
                     std::to_string(settings.batch_windows) + ", " +
                     std::to_string(settings.max_windows));
    if (rows.rows < 1) fail_invalid("rows: expected at least one completion row, got none");
    const lm::transformer_config & config = student.config();
    if (rows.T > config.context)
        fail_invalid("rows: rows of " + std::to_string(rows.T) +
                     " positions are longer than the student's context of " +
                     std::to_string(config.context));
    const int64_t count =
        settings.max_windows > 0 ? std::min(settings.max_windows, rows.rows) : rows.rows;
    const int64_t T = rows.T, K = rows.K, V = config.vocab;
    const scoped_omp_threads threads(settings.num_threads);
    std::vector<position_figures> figures;
    double nll = 0.0;
    int64_t correct = 0, agrees = 0, positions = 0, with_targets = 0;
    for (int64_t first = 0; first < count; first += settings.batch_windows) {
        const int64_t B = std::min(settings.batch_windows, count - first);
        const int32_t * tokens = rows.tokens.data() + first * T;
        const int32_t * labels = rows.labels.data() + first * T;
        const int32_t * ids = rows.ids.data() + first * T * K;
        const float * logits = student.forward(tokens, B, T).data();
        const int64_t N = B * T;
        figures.assign(size_t(N), position_figures{});
#pragma omp parallel for schedule(static)
        for (int64_t n = 0; n < N; ++n) {
            if (labels[n] == lm::ignore_target) continue;
            const float * s = logits + n * V;
            const int64_t top = argmax(s, V);
            figures[size_t(n)].nll = log_sum_exp(s, V) - double(s[labels[n]]);
            figures[size_t(n)].correct = top == labels[n];
            figures[size_t(n)].agrees = top == ids[n * K];
        }
        for (int64_t n = 0; n < N; ++n) {
            if (labels[n] == lm::ignore_target) continue;
            ++positions;
            nll += figures[size_t(n)].nll;
            correct += figures[size_t(n)].correct;
            if (rows.has_targets[size_t(first + n / T)]) {
                ++with_targets;
                agrees += figures[size_t(n)].agrees;
            }
        }
    }
    lm_eval_result result;
    result.windows = count;
    result.positions = positions;
    const double n = double(std::max<int64_t>(positions, 1));
    result.loss = nll / n;
    result.perplexity = std::exp(result.loss);
    result.accuracy = double(correct) / n;
    result.agreement = with_targets > 0 ? double(agrees) / double(with_targets)
                                        : std::numeric_limits<double>::quiet_NaN();
    result.mean_kl = std::numeric_limits<double>::quiet_NaN();
    return result;
}

}  // namespace distill
