#include "train/optimizer.h"

#include "common/error.h"
#include "common/json_fields.h"
#include "students/layers/thread_team.h"

#include <algorithm>
#include <cmath>

#include "common/openmp.h"

namespace distill {
namespace {

// Chunks of the parameters: a power of two up to 64, of at least 4096
// elements each, fixed by the count alone; chunk c is
// [count·c/chunks, count·(c+1)/chunks). Two threads thus take the two
// halves of the parameters — the halves of the first weight matrix that
// the same threads computed in forward and backward (a student's
// feature blocks, students/model.cpp), still in their cores' caches. (A
// 100k parameter AdamW update took 15 µs on data in its core's cache and
// 46 µs on data last written by the other core.)
int64_t chunk_count(int64_t count) {
    int64_t chunks = 1;
    while (chunks < 64 && 2 * chunks * 4096 <= count) chunks *= 2;
    return chunks;
}

// Below this many elements the chunks run on the calling thread: waking
// another would cost more than the update.
constexpr int64_t parallel_elements = 65536;

// Calls fn(begin, end, chunk) for the chunks of [0, count), each thread of
// the students' thread_team (students/layers/thread_team.h: it sleeps
// rather than spins when idle) taking a contiguous range of chunks.
template <class Fn>
void for_each_chunk(int64_t count, int num_threads, Fn && fn) {
    const int64_t chunks = chunk_count(count);
    const int threads = count < parallel_elements ? 1
                        : num_threads > 0        ? num_threads
                                                 : layers::thread_team::size();
    layers::thread_team::run(threads, [&](int member, int team) {
        const int64_t end = layers::thread_team::first_block(chunks, member + 1, team);
        for (int64_t chunk = layers::thread_team::first_block(chunks, member, team); chunk < end;
             ++chunk)
            fn(count * chunk / chunks, count * (chunk + 1) / chunks, chunk);
    });
}

// torch.lerp's formula (the two branches keep it exact at both ends).
inline float lerp(float start, float end, float weight) {
    return weight < 0.5f ? start + weight * (end - start) : end - (end - start) * (1.0f - weight);
}

// The element loops are compiled for AVX-512, AVX2 and baseline x86-64 and
// picked at load time (GCC function multi-versioning): the AdamW update's
// sqrt and division dominate a small student's step otherwise. ISO C++ mode
// keeps FMA contraction off, so every version computes the same bits.
// Not under ThreadSanitizer: it instruments the resolvers, which the loader
// runs before the sanitizer's runtime has started (a crash at load).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_THREAD__)
#define DISTILL_ELEMENTWISE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DISTILL_ELEMENTWISE_CLONES
#endif

DISTILL_ELEMENTWISE_CLONES
void sgd_update(const sgd_config & config, float * parameters, const float * gradients,
                float * momentum_buffer, bool first_step, double lr, int64_t begin, int64_t end) {
    const float weight_decay = float(config.weight_decay);
    const float momentum = float(config.momentum);
    const float step = float(-lr);
    for (int64_t i = begin; i < end; ++i) {
        float g = gradients[i];
        if (weight_decay != 0.0f) g = g + weight_decay * parameters[i];
        if (momentum_buffer) {
            const float buf = first_step ? g : momentum * momentum_buffer[i] + g;
            momentum_buffer[i] = buf;
            g = config.nesterov ? g + momentum * buf : buf;
        }
        parameters[i] = parameters[i] + step * g;
    }
}

struct adamw_factors {
    float decay;  // 1 − lr · weight_decay
    float one_minus_beta1, beta2, one_minus_beta2;
    float bias_correction2_sqrt;  // √(1 − β2^t)
    float eps;
    float step_size;  // −lr / (1 − β1^t)
};

DISTILL_ELEMENTWISE_CLONES
void adamw_update(const adamw_factors & f, float * parameters, const float * gradients,
                  float * exp_avg, float * exp_avg_sq, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
        const float g = gradients[i];
        const float p = parameters[i] * f.decay;
        const float m = lerp(exp_avg[i], g, f.one_minus_beta1);
        const float v = exp_avg_sq[i] * f.beta2 + f.one_minus_beta2 * g * g;
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        const float denom = std::sqrt(v) / f.bias_correction2_sqrt + f.eps;
        parameters[i] = p + f.step_size * (m / denom);
    }
}

// Σ gradients[i]² over [begin, end) in double, in 16 lanes (lane j takes
// i ≡ j mod 16 from begin) added in a fixed tree at the end: the same bits
// for every clone, and vectorised, where one running sum would wait on each
// addition's latency (it took a quarter of a small student's step).
DISTILL_ELEMENTWISE_CLONES
double sum_of_squares(const float * gradients, int64_t begin, int64_t end) {
    constexpr int lanes = 16;
    double lane[lanes] = {};
    int64_t i = begin;
    for (; i + lanes <= end; i += lanes)
        for (int j = 0; j < lanes; ++j) {
            const double g = gradients[i + j];
            lane[j] += g * g;
        }
    for (int j = 0; i < end; ++i, ++j) {
        const double g = gradients[i];
        lane[j] += g * g;
    }
    for (int width = lanes / 2; width > 0; width /= 2)
        for (int j = 0; j < width; ++j) lane[j] += lane[j + width];
    return lane[0];
}

}  // namespace

optimizer::optimizer(const optimizer_config & config, int64_t parameter_count)
    : config_(config), parameter_count_(parameter_count) {
    validate(config_);
    if (parameter_count < 0)
        fail_invalid("parameter_count: expected a value >= 0, got " +
                     std::to_string(parameter_count));
    const auto zeros = std::vector<float>(size_t(parameter_count), 0.0f);
    if (const auto * sgd = std::get_if<sgd_config>(&config_)) {
        if (sgd->momentum != 0.0) state_.push_back({"momentum_buffer", zeros});
    } else {
        state_.push_back({"exp_avg", zeros});
        state_.push_back({"exp_avg_sq", zeros});
    }
}

float * optimizer::buffer(std::string_view name) {
    for (optimizer_state_buffer & state : state_)
        if (state.name == name) return state.values.data();
    return nullptr;
}

void optimizer::step(std::span<float> parameters, std::span<const float> gradients, double lr,
                     int num_threads) {
    if (int64_t(parameters.size()) != parameter_count_)
        fail_invalid("parameters: expected " + std::to_string(parameter_count_) + " values, got " +
                     std::to_string(parameters.size()));
    if (int64_t(gradients.size()) != parameter_count_)
        fail_invalid("gradients: expected " + std::to_string(parameter_count_) + " values, got " +
                     std::to_string(gradients.size()));
    if (!(lr >= 0.0) || !std::isfinite(lr))
        fail_invalid("lr: expected a finite value >= 0, got " + json_fields::number_text(lr));

    float * p = parameters.data();
    const float * g = gradients.data();
    if (const auto * sgd = std::get_if<sgd_config>(&config_)) {
        float * momentum_buffer = buffer("momentum_buffer");
        const bool first_step = step_count_ == 0;
        for_each_chunk(parameter_count_, num_threads, [&](int64_t begin, int64_t end, int64_t) {
            sgd_update(*sgd, p, g, momentum_buffer, first_step, lr, begin, end);
        });
    } else {
        const adamw_config & adamw = std::get<adamw_config>(config_);
        const double t = double(step_count_ + 1);
        const adamw_factors factors{
            float(1.0 - lr * adamw.weight_decay),
            float(1.0 - adamw.beta1),
            float(adamw.beta2),
            float(1.0 - adamw.beta2),
            float(std::sqrt(1.0 - std::pow(adamw.beta2, t))),
            float(adamw.eps),
            float(-(lr / (1.0 - std::pow(adamw.beta1, t)))),
        };
        float * exp_avg = buffer("exp_avg");
        float * exp_avg_sq = buffer("exp_avg_sq");
        for_each_chunk(parameter_count_, num_threads, [&](int64_t begin, int64_t end, int64_t) {
            adamw_update(factors, p, g, exp_avg, exp_avg_sq, begin, end);
        });
    }
    ++step_count_;
}

void optimizer::set_step_count(int64_t step_count) {
    if (step_count < 0)
        fail_invalid("step_count: expected a value >= 0, got " + std::to_string(step_count));
    step_count_ = step_count;
}

void optimizer::set_state(std::string_view name, std::span<const float> values) {
    float * target = buffer(name);
    if (!target) {
        std::string names;
        for (const optimizer_state_buffer & state : state_)
            names += (names.empty() ? "" : ", ") + state.name;
        fail_invalid("optimizer state: expected one of [" + names + "], got '" + std::string(name) +
                     "'");
    }
    if (int64_t(values.size()) != parameter_count_)
        fail_invalid("optimizer state '" + std::string(name) + "': expected " +
                     std::to_string(parameter_count_) + " values, got " +
                     std::to_string(values.size()));
    std::copy(values.begin(), values.end(), target);
}

double global_grad_norm(std::span<const float> gradients, int num_threads) {
    const int64_t count = int64_t(gradients.size());
    std::vector<double> partial(size_t(chunk_count(count)), 0.0);
    for_each_chunk(count, num_threads, [&](int64_t begin, int64_t end, int64_t chunk) {
        partial[size_t(chunk)] = sum_of_squares(gradients.data(), begin, end);
    });
    double total = 0.0;
    for (double sum : partial) total += sum;
    return std::sqrt(total);
}

double clip_grad_norm(std::span<float> gradients, double max_norm, int num_threads) {
    if (!(max_norm > 0.0) || !std::isfinite(max_norm))
        fail_invalid("max_norm: expected a finite value > 0, got " +
                     json_fields::number_text(max_norm));
    const double norm = global_grad_norm(gradients, num_threads);
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) {
        const float scale = float(coef);
        for_each_chunk(int64_t(gradients.size()), num_threads,
                       [&](int64_t begin, int64_t end, int64_t) {
            for (int64_t i = begin; i < end; ++i) gradients[i] *= scale;
        });
    }
    return norm;
}

update_outcome clipped_update(optimizer & opt, const lr_schedule_config & schedule,
                              std::span<float> parameters, std::span<float> gradients,
                              double max_grad_norm, int64_t step, int num_threads) {
    update_outcome outcome;
    outcome.grad_norm = max_grad_norm > 0.0 ? clip_grad_norm(gradients, max_grad_norm, num_threads)
                                            : global_grad_norm(gradients, num_threads);
    if (!std::isfinite(outcome.grad_norm))
        fail_invalid("batch: the gradient norm is not finite at step " + std::to_string(step + 1) +
                     "; the update was skipped and the model is unchanged");
    outcome.learning_rate = learning_rate_at(schedule, base_learning_rate(opt.config()), step);
    opt.step(parameters, gradients, outcome.learning_rate, num_threads);
    return outcome;
}

}  // namespace distill
