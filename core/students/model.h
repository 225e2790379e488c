// A built-in student: an MLP or a small CNN (students/model_config.h), fp32
// on the CPU, its parameters and their gradients each in one contiguous
// buffer.
//
// The parameters are named as the state_dict of this PyTorch module, so a
// safetensors file of them loads with load_state_dict
// (tests/python/student_torch_reference.py builds it from the same JSON):
//
//   act(): nn.ReLU() or nn.GELU() (exact erf form)
//   MLP:  self.layers = nn.Sequential(
//             nn.Linear(inputs, hidden[0]), act(), nn.Dropout(dropout),
//             ...                                  (three modules per hidden layer)
//             nn.Linear(hidden[-1] or inputs, outputs))
//         forward(x) = self.layers(x.flatten(1))
//         names: layers.{3i}.weight [hidden[i], in], layers.{3i}.bias [hidden[i]],
//                layers.{3·len(hidden)}.weight / .bias for the output layer
//   CNN:  self.features = nn.Sequential(
//             nn.Conv2d(C, conv[0].channels, conv[0].kernel, padding=conv[0].padding),
//             act(), nn.MaxPool2d(2),
//             ...)                                 (three modules per convolution)
//         self.head = the MLP's Sequential above, inputs = the flattened features
//         forward(x) = self.head(self.features(x.reshape(-1, C, H, W)).flatten(1))
//         names: features.{3i}.weight [channels, in_channels, kernel, kernel],
//                features.{3i}.bias, then head.{3j}.weight / .bias as for the MLP
//
// The nn.Dropout modules are there even with dropout = 0, so the indices do
// not depend on it. The buffer holds the tensors in that (state_dict)
// order, each row-major.
//
// Initialisation is PyTorch's default for nn.Linear and nn.Conv2d: weights
// and biases uniform in [−1/√fan_in, 1/√fan_in) (fan_in = in features, or
// in_channels · kernel²), drawn tensor by tensor in table order from a
// splitmix64 stream of the seed: the same values on every machine.
//
// Not thread-safe: one model, one thread calling at a time (each call uses
// OpenMP and OpenBLAS threads itself). Results are bit-identical from call
// to call for fixed thread counts.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "students/layers/conv2d.h"
#include "students/model_config.h"

namespace distill {

struct parameter_info {
    std::string name;            // e.g. "layers.0.weight"
    std::vector<int64_t> shape;  // e.g. {1200, 784}
    int64_t offset;              // first element in parameters()
    int64_t count;               // product of the shape
};

class model {
public:
    // Throws distill::error for an invalid config (parse_model_config's checks).
    model(const model_config & config, uint64_t seed);

    const model_config & config() const { return config_; }
    int64_t input_size() const { return config_.inputs; }
    int64_t output_size() const { return config_.outputs; }
    int64_t parameter_count() const { return static_cast<int64_t>(parameters_.size()); }
    std::span<float> parameters() { return parameters_; }
    std::span<const float> parameters() const { return parameters_; }
    std::span<float> gradients() { return gradients_; }
    const std::vector<parameter_info> & parameter_table() const { return table_; }

    // inputs[batch, input_size] → outputs[batch, output_size], fp32 row-major
    // (a CNN reads each row as C × H × W). training = true applies dropout
    // and keeps what backward needs; each mask is a hash of (dropout_seed,
    // layer, index in the batch), the same for any thread count. training =
    // false is inference (no dropout) and forgets a kept training batch.
    // batch may change from call to call (buffers grow, never shrink).
    void forward(const float * inputs, int64_t batch, float * outputs, bool training,
                 uint64_t dropout_seed);

    // d_outputs[batch, output_size], the loss gradient for the outputs of the
    // last forward(training = true); OVERWRITES gradients() with the
    // gradient of the loss for every parameter.
    void backward(const float * d_outputs);

    // One user at a time: a model keeps its activations (and, after a
    // training forward, what backward needs), so predict, evaluation, a
    // trainer's step and a model teacher's answers lock this around their
    // use. A copy of the model gets its own, unlocked.
    std::mutex & usage_mutex() const { return usage_mutex_.mutex; }

    // The forward pass as a list of steps, for another executor of the same
    // model (students/device_student.h runs it on a GPU).
    enum class op_type { linear, conv2d, relu, gelu, dropout, maxpool2d };
    // One step of the forward pass; sizes are values per sample.
    struct op {
        op_type type;
        int64_t in_size, out_size;
        int64_t weight_offset = 0, bias_offset = 0;  // linear, conv2d
        layers::conv2d_dims conv{};                  // conv2d (N set per call); maxpool2d: C, H, W
    };
    const std::vector<op> & ops() const { return ops_; }
    // The dropout seed of step `op_index` for a forward's `dropout_seed`.
    static uint64_t layer_dropout_seed(uint64_t dropout_seed, size_t op_index);

private:

    // Build ops_ and table_ from config_; add_parameter returns the offset.
    int64_t add_parameter(const std::string & name, std::vector<int64_t> shape);
    void add_activation(int64_t size);
    void add_features();
    void add_head(const std::string & prefix, int64_t inputs);
    void initialise(uint64_t seed);
    void reserve(int64_t batch);

    model_config config_;
    std::vector<parameter_info> table_;
    std::vector<op> ops_;
    std::vector<float> parameters_, gradients_;
    // activations_[i]: the input of ops_[i] for the batch; the last is the output.
    std::vector<std::vector<float>> activations_;
    std::vector<std::vector<int32_t>> argmax_;  // per op; used by maxpool2d only
    std::vector<float> conv_workspace_;
    std::vector<float> grad_a_, grad_b_;  // gradients of two neighbouring activations
    int64_t capacity_ = 0;                // the batch the buffers hold
    int64_t cached_batch_ = -1;           // batch of the kept training forward; -1: none
    uint64_t cached_dropout_seed_ = 0;
    struct fresh_mutex {
        mutable std::mutex mutex;
        fresh_mutex() = default;
        fresh_mutex(const fresh_mutex &) {}
        fresh_mutex & operator=(const fresh_mutex &) { return *this; }
    };
    fresh_mutex usage_mutex_;
};

// NaN in is an error, one rule for every front end: predict and evaluation
// refuse outputs[rows, m.output_size()] holding a NaN or an infinity (relu
// and maxpool propagate a NaN, as PyTorch does, so a bad weight or input
// shows here). The message names the first such row and output, and what
// holds the bad value: a weight of `m` (by parameter name) or the input row.
void require_finite_outputs(const model & m, const float * outputs, const float * inputs,
                            int64_t rows);

}  // namespace distill
