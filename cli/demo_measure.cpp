#include "demo_measure.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace distill_cli {
namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

}  // namespace

void measure_inference(const distill::Context & cpu, distill::Model & model,
                       const distill::Dataset & test, int repeats, model_row & row) {
    const DLTensor inputs = *test.field(DISTILL_DATASET_INPUTS);
    const auto * x = static_cast<const float *>(inputs.data);
    const int64_t batch = std::min<int64_t>(256, test.rows());
    model.predict(cpu, x, batch);  // warm-up: workspaces, caches
    std::vector<double> rates;
    for (int repeat = 0; repeat < repeats; ++repeat) {
        int runs = 0;
        const auto start = clock_type::now();
        while (runs < 5 || seconds_since(start) < 0.2) {
            model.predict(cpu, x, batch);
            ++runs;
        }
        rates.push_back(double(runs * batch) / seconds_since(start));
    }
    std::sort(rates.begin(), rates.end());
    const size_t n = rates.size();
    row.samples_per_second_batch256 =
        n % 2 ? rates[n / 2] : 0.5 * (rates[n / 2 - 1] + rates[n / 2]);
    row.samples_per_second_min = rates.front();
    row.samples_per_second_max = rates.back();
    int runs = 0;
    const auto start = clock_type::now();
    while (runs < 20 || seconds_since(start) < 0.2) {
        model.predict(cpu, x + (runs % batch) * inputs.shape[1], 1);
        ++runs;
    }
    row.latency_ms_batch1 = 1000.0 * seconds_since(start) / runs;
}

std::vector<int64_t> predictions(const std::vector<float> & outputs, int64_t classes) {
    std::vector<int64_t> out(outputs.size() / size_t(classes));
    for (size_t r = 0; r < out.size(); ++r) {
        const float * row = outputs.data() + r * size_t(classes);
        out[r] = std::max_element(row, row + classes) - row;
    }
    return out;
}

std::vector<double> per_class_accuracy(const std::vector<float> & probabilities,
                                       const int64_t * labels, int64_t classes) {
    const std::vector<int64_t> predicted = predictions(probabilities, classes);
    std::vector<int64_t> right(size_t(classes), 0), seen(size_t(classes), 0);
    for (size_t i = 0; i < predicted.size(); ++i) {
        const auto label = size_t(labels[i]);
        ++seen[label];
        right[label] += predicted[i] == labels[i];
    }
    std::vector<double> accuracy(static_cast<size_t>(classes));
    for (size_t c = 0; c < accuracy.size(); ++c)
        accuracy[c] = seen[c] ? double(right[c]) / double(seen[c]) : not_measured;
    return accuracy;
}

std::vector<reliability_bin> reliability_bins(const std::vector<float> & probabilities,
                                              const int64_t * labels, int64_t classes, int bins) {
    std::vector<reliability_bin> out(static_cast<size_t>(bins));
    std::vector<double> confidence_sum(size_t(bins), 0.0), right(size_t(bins), 0.0);
    for (int b = 0; b < bins; ++b) {
        out[size_t(b)].lower = double(b) / bins;
        out[size_t(b)].upper = double(b + 1) / bins;
    }
    const std::vector<int64_t> predicted = predictions(probabilities, classes);
    for (size_t i = 0; i < predicted.size(); ++i) {
        const double confidence = probabilities[i * size_t(classes) + size_t(predicted[i])];
        const auto b = size_t(std::clamp(int(std::ceil(confidence * bins)) - 1, 0, bins - 1));
        ++out[b].count;
        confidence_sum[b] += confidence;
        right[b] += predicted[i] == labels[i];
    }
    for (size_t b = 0; b < out.size(); ++b)
        if (out[b].count > 0) {
            out[b].mean_confidence = confidence_sum[b] / double(out[b].count);
            out[b].accuracy = right[b] / double(out[b].count);
        }
    return out;
}

}  // namespace distill_cli
