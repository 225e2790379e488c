#include "lm/cross_entropy.h"

#include <cmath>
#include <string>
#include <vector>

#include "common/error.h"
#include "students/layers/elementwise.h"

namespace distill::lm {

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
    layers::elementwise(N, 65536 / V, [&](int64_t n) {
        const T * x = logits + n * V;
        T * d = d_logits ? d_logits + n * V : nullptr;
        if (targets[n] == ignore_target) {
            if (d)
                for (int64_t v = 0; v < V; ++v) d[v] = T(0);
            return;
        }
        double max = x[0];
        for (int64_t v = 1; v < V; ++v) max = std::max(max, double(x[v]));
        double sum = 0;
        for (int64_t v = 0; v < V; ++v) sum += std::exp(double(x[v]) - max);
        const double lse = max + std::log(sum);
        row_loss[size_t(n)] = lse - double(x[targets[n]]);
        if (d) {
            for (int64_t v = 0; v < V; ++v) d[v] = T(std::exp(double(x[v]) - lse) * inv_count);
            d[targets[n]] = T((std::exp(double(x[targets[n]]) - lse) - 1.0) * inv_count);
        }
    });
    double total = 0;
    for (double value : row_loss) total += value;
    return total * inv_count;
}

template double cross_entropy<float>(float *, const float *, const int32_t *, int64_t, int64_t);
template double cross_entropy<double>(double *, const double *, const int32_t *, int64_t, int64_t);

}  // namespace distill::lm
