#include "lm/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/error.h"
#include "kernels/cpu/cpu_math.h"
#include "lm/vector_clones.h"
#include "students/layers/elementwise.h"

namespace distill::lm {
namespace {

// One row's loss and gradient, fp64 throughout (the fp64 instantiation, for
// the finite-difference tests). Reads the target's logit before writing
// the gradient, so d may be x.
void row_loss_and_gradient(double * d, const double * x, int32_t target, int64_t V,
                           double inv_count, double & loss) {
    double max = x[0];
    for (int64_t v = 1; v < V; ++v) max = std::max(max, x[v]);
    double sum = 0;
    for (int64_t v = 0; v < V; ++v) sum += std::exp(x[v] - max);
    const double lse = max + std::log(sum), target_logit = x[target];
    loss = lse - target_logit;
    if (d) {
        for (int64_t v = 0; v < V; ++v) d[v] = std::exp(x[v] - lse) * inv_count;
        d[target] = (std::exp(target_logit - lse) - 1.0) * inv_count;
    }
}

// The fp32 row: the exps in fp32 by cpu_math's vectorisable fast_exp
// (~2 ulp); the log-sum-exp and the loss in fp64. Reads
// the target's logit before writing the gradient, so d may be x.
DISTILL_LM_VECTOR_CLONES void row_loss_and_gradient(float * d, const float * x, int32_t target,
                                                    int64_t V, double inv_count, double & loss) {
    using kernels::cpu::DISTILL_CPU_ISA::fast_exp;
    float max = x[0];
#pragma omp simd reduction(max : max)
    for (int64_t v = 1; v < V; ++v) max = x[v] > max ? x[v] : max;
    // Σ exp in fp32 over chunks of 256 (64 terms per SSE lane), the chunks
    // summed in fp64: the error of a chunk's sum stays within a few ulp.
    double sum = 0;
    for (int64_t v0 = 0; v0 < V; v0 += 256) {
        const int64_t v1 = std::min(V, v0 + 256);
        float chunk = 0;
#pragma omp simd reduction(+ : chunk)
        for (int64_t v = v0; v < v1; ++v) chunk += fast_exp(x[v] - max);
        sum += chunk;
    }
    const double lse = double(max) + std::log(sum);
    const double target_logit = x[target];
    loss = lse - target_logit;
    if (d) {
        const float shift = float(lse), scale = float(inv_count);
        // x − lse in fp32: |x − lse| is at most the row's spread, whose
        // rounding is the same as that of the fp32 logits themselves.
#pragma omp simd
        for (int64_t v = 0; v < V; ++v) d[v] = fast_exp(x[v] - shift) * scale;
        d[target] = float((std::exp(target_logit - lse) - 1.0) * inv_count);
    }
}

}  // namespace

template <class T>
double cross_entropy(T * d_logits, const T * logits, const int32_t * targets, int64_t N,
                     int64_t V) {
    int64_t count = 0;
    for (int64_t n = 0; n < N; ++n) {
        if (targets[n] == ignore_target) continue;
        if (targets[n] < 0 || targets[n] >= V)
            fail_invalid("targets[" + std::to_string(n) + "]: expected a token id in [0, " +
                         std::to_string(V) + ") or " + std::to_string(ignore_target) +
                         " (no target), got " + std::to_string(targets[n]));
        ++count;
    }
    std::vector<double> row_loss(size_t(N), 0.0);
    const double inv_count = count > 0 ? 1.0 / double(count) : 0.0;
    layers::team_elementwise(N, 65536 / V, [&](int64_t n) {
        const T * x = logits + n * V;
        T * d = d_logits ? d_logits + n * V : nullptr;
        if (targets[n] == ignore_target) {
            if (d)
                for (int64_t v = 0; v < V; ++v) d[v] = T(0);
            return;
        }
        row_loss_and_gradient(d, x, targets[n], V, inv_count, row_loss[size_t(n)]);
    });
    double total = 0;
    for (double value : row_loss) total += value;
    return total * inv_count;
}

template double cross_entropy<float>(float *, const float *, const int32_t *, int64_t, int64_t);
template double cross_entropy<double>(double *, const double *, const int32_t *, int64_t, int64_t);

}  // namespace distill::lm
