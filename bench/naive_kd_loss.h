// The obviously-correct reference the benchmark compares the kernels with:
// forward KL at temperature T with its gradient, one row at a time, whole
// distributions materialised, libm's exp, one thread. Shapes: [N, V].
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace bench {

// Returns the batchmean loss (× T²); writes grad [N, V] (of the batchmean).
inline float naive_forward_kl(float * grad, const float * student, const float * teacher,
                              int64_t rows, int64_t vocab, float temperature) {
    std::vector<double> q(vocab), p(vocab);
    double total = 0.0;
    for (int64_t row = 0; row < rows; ++row) {
        const float * z = student + row * vocab;
        const float * t = teacher + row * vocab;
        double zmax = -INFINITY, tmax = -INFINITY;
        for (int64_t i = 0; i < vocab; ++i) {
            zmax = std::max<double>(zmax, z[i] / temperature);
            tmax = std::max<double>(tmax, t[i] / temperature);
        }
        double zsum = 0.0, tsum = 0.0;
        for (int64_t i = 0; i < vocab; ++i) {
            q[i] = std::exp(z[i] / temperature - zmax);
            p[i] = std::exp(t[i] / temperature - tmax);
            zsum += q[i];
            tsum += p[i];
        }
        double kl = 0.0;
        for (int64_t i = 0; i < vocab; ++i) {
            q[i] /= zsum;
            p[i] /= tsum;
            if (p[i] > 0.0) kl += p[i] * (std::log(p[i]) - std::log(q[i]));
        }
        total += kl * temperature * temperature;
        for (int64_t i = 0; i < vocab; ++i)
            grad[row * vocab + i] = static_cast<float>((q[i] - p[i]) * temperature / rows);
    }
    return static_cast<float>(total / rows);
}

// The same against a top-k teacher, renormalised: p is zero off the ids.
inline float naive_forward_kl_topk(float * grad, const float * student, const int64_t * ids,
                                   const float * logprobs, int64_t rows, int64_t vocab, int64_t k,
                                   float temperature) {
    std::vector<double> q(vocab), p(vocab);
    double total = 0.0;
    for (int64_t row = 0; row < rows; ++row) {
        const float * z = student + row * vocab;
        double zmax = -INFINITY;
        for (int64_t i = 0; i < vocab; ++i) zmax = std::max<double>(zmax, z[i] / temperature);
        double zsum = 0.0;
        for (int64_t i = 0; i < vocab; ++i) zsum += q[i] = std::exp(z[i] / temperature - zmax);
        std::fill(p.begin(), p.end(), 0.0);
        double psum = 0.0;
        for (int64_t j = 0; j < k; ++j)
            psum += p[ids[row * k + j]] = std::exp(logprobs[row * k + j] / temperature);
        double kl = 0.0;
        for (int64_t i = 0; i < vocab; ++i) {
            q[i] /= zsum;
            p[i] /= psum;
            if (p[i] > 0.0) kl += p[i] * (std::log(p[i]) - std::log(q[i]));
        }
        total += kl * temperature * temperature;
        for (int64_t i = 0; i < vocab; ++i)
            grad[row * vocab + i] = static_cast<float>((q[i] - p[i]) * temperature / rows);
    }
    return static_cast<float>(total / rows);
}

}  // namespace bench
