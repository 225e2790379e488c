#include "students/model.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>

#include "common/error.h"
#include "students/feature_split_mlp.h"
#include "students/layers/dropout.h"
#include "students/layers/gelu.h"
#include "students/layers/linear.h"
#include "students/layers/maxpool2d.h"
#include "students/layers/relu.h"

namespace distill {
namespace {

// splitmix64: a tiny generator whose stream is fixed by the seed alone.
class splitmix64 {
public:
    explicit splitmix64(uint64_t seed) : state_(seed) {}
    uint64_t next() { return layers::mix64(state_ += 0x9e3779b97f4a7c15ull); }
    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
    uint64_t state_;
};

}  // namespace

// A different dropout stream per layer from the caller's one seed.
uint64_t model::layer_dropout_seed(uint64_t dropout_seed, size_t op_index) {
    return layers::mix64(dropout_seed ^ layers::mix64(op_index + 1));
}

model::model(const model_config & config, uint64_t seed)
    : config_(parse_model_config(to_json(config))) {
    if (config_.kind == model_kind::cnn) {
        add_features();
        add_head("head", ops_.back().out_size);
    } else {
        add_head("layers", config_.inputs);
    }
    const int64_t count = table_.back().offset + table_.back().count;
    parameters_.resize(count);
    gradients_.assign(count, 0.0f);
    activations_.resize(ops_.size() + 1);
    argmax_.resize(ops_.size());
    initialise(seed);
}

int64_t model::add_parameter(const std::string & name, std::vector<int64_t> shape) {
    const int64_t offset = table_.empty() ? 0 : table_.back().offset + table_.back().count;
    int64_t count = 1;
    for (int64_t extent : shape) count *= extent;
    table_.push_back({name, std::move(shape), offset, count});
    return offset;
}

void model::add_activation(int64_t size) {
    ops_.push_back(
        {config_.activation == activation_kind::relu ? op_type::relu : op_type::gelu, size, size});
}

// features.{3i}: Conv2d, activation, MaxPool2d(2) per convolution.
void model::add_features() {
    int64_t channels = config_.input_shape[0], height = config_.input_shape[1],
            width = config_.input_shape[2];
    for (size_t i = 0; i < config_.conv.size(); ++i) {
        const conv_layer_config & c = config_.conv[i];
        const std::string prefix = "features." + std::to_string(3 * i);
        op conv{op_type::conv2d, channels * height * width, 0};
        conv.conv = {0, channels, height, width, c.channels, c.kernel, c.kernel, c.padding};
        conv.out_size = c.channels * conv.conv.out_height() * conv.conv.out_width();
        conv.weight_offset =
            add_parameter(prefix + ".weight", {c.channels, channels, c.kernel, c.kernel});
        conv.bias_offset = add_parameter(prefix + ".bias", {c.channels});
        ops_.push_back(conv);
        add_activation(conv.out_size);
        op pool{op_type::maxpool2d, conv.out_size, 0};
        pool.conv = {0, c.channels, conv.conv.out_height(), conv.conv.out_width(), 0, 2, 2, 0};
        channels = c.channels;
        height = pool.conv.H / 2;
        width = pool.conv.W / 2;
        pool.out_size = channels * height * width;
        ops_.push_back(pool);
    }
}

// prefix.{3i}: Linear, activation, Dropout per hidden layer, then the
// output Linear.
void model::add_head(const std::string & prefix, int64_t inputs) {
    int64_t features = inputs;
    for (size_t i = 0; i <= config_.hidden.size(); ++i) {
        const bool last = i == config_.hidden.size();
        const int64_t width = last ? config_.outputs : config_.hidden[i];
        const std::string name = prefix + "." + std::to_string(3 * i);
        op linear{op_type::linear, features, width};
        linear.weight_offset = add_parameter(name + ".weight", {width, features});
        linear.bias_offset = add_parameter(name + ".bias", {width});
        ops_.push_back(linear);
        if (last) return;
        add_activation(width);
        // Dropout with p = 0 is the identity: no step (the torch index stays).
        if (config_.dropout > 0) ops_.push_back({op_type::dropout, width, width});
        features = width;
    }
}

void model::initialise(uint64_t seed) {
    splitmix64 rng(seed);
    // The table is (weight, bias) pairs; both draw within the weight's
    // 1/√fan_in, fan_in being its elements per output row.
    for (size_t i = 0; i < table_.size(); i += 2) {
        const parameter_info & weight = table_[i];
        const double bound = 1.0 / std::sqrt(double(weight.count / weight.shape[0]));
        for (const parameter_info * p : {&table_[i], &table_[i + 1]})
            for (int64_t j = 0; j < p->count; ++j)
                parameters_[p->offset + j] =
                    static_cast<float>(bound * (2.0 * rng.uniform() - 1.0));
    }
}

void model::reserve(int64_t batch) {
    if (batch <= capacity_) return;
    // Every buffer holds at most 2^31 − 1 values, so that each GEMM size fits
    // OpenBLAS's int; per_sample values for each of `batch` samples.
    const auto check = [batch](int64_t per_sample, const std::string & what) {
        const int64_t most = INT_MAX / per_sample;
        if (batch > most)
            fail_invalid("forward: batch: expected at most " + std::to_string(most) +
                         " samples for this model (" + what + " takes " +
                         std::to_string(per_sample) + " values per sample, 2^31 - 1 in all), got " +
                         std::to_string(batch));
    };
    int64_t widest = config_.inputs, workspace_per_sample = 0;
    for (const op & o : ops_) {
        widest = std::max(widest, o.out_size);
        if (o.type != op_type::conv2d) continue;
        layers::conv2d_dims one = o.conv;
        one.N = 1;
        workspace_per_sample = std::max(workspace_per_sample, layers::conv2d_workspace_size(one));
    }
    check(widest, "the widest layer");
    if (workspace_per_sample > 0) check(workspace_per_sample, "the im2col matrix of a convolution");
    activations_[0].resize(batch * config_.inputs);
    for (size_t i = 0; i < ops_.size(); ++i) {
        activations_[i + 1].resize(batch * ops_[i].out_size);
        if (ops_[i].type == op_type::maxpool2d) argmax_[i].resize(batch * ops_[i].out_size);
    }
    conv_workspace_.resize(batch * workspace_per_sample);
    // grad_a_ also holds, one after another, the gradients of activations
    // 1 … ops − 1 for backward_by_features.
    int64_t stacked = 0;
    for (size_t i = 1; i < ops_.size(); ++i) stacked += ops_[i].in_size;
    grad_a_.resize(batch * std::max(widest, stacked));
    grad_b_.resize(batch * widest);
    capacity_ = batch;
}

void model::forward(const float * inputs, int64_t batch, float * outputs, bool training,
                    uint64_t dropout_seed) {
    if (batch < 0) fail_invalid("forward: batch: expected >= 0, got " + std::to_string(batch));
    if (batch > 0 && inputs == nullptr)
        fail_invalid("forward: inputs: expected a pointer, got null");
    if (batch > 0 && outputs == nullptr)
        fail_invalid("forward: outputs: expected a pointer, got null");
    cached_batch_ = -1;
    reserve(batch);
    const float * w = parameters_.data();
    if (batch > 0 && by_features(ops_)) {
        forward_by_features(ops_, activations_, w, inputs, outputs, batch, training);
    } else if (batch > 0) {
        // Step by step over the whole batch. Training keeps a copy of the
        // inputs (backward needs them after the caller may have reused its
        // buffer); inference reads them where they are. The last step writes
        // the outputs directly (backward never reads them).
        if (training) std::copy(inputs, inputs + batch * config_.inputs, activations_[0].data());
        for (size_t i = 0; i < ops_.size(); ++i) {
            const op & o = ops_[i];
            const float * in = i == 0 && !training ? inputs : activations_[i].data();
            float * out = i + 1 == ops_.size() ? outputs : activations_[i + 1].data();
            const int64_t n = batch * o.in_size;  // values in, for the elementwise steps
            switch (o.type) {
            case op_type::linear:
                layers::linear_forward(out, in, w + o.weight_offset, w + o.bias_offset, batch,
                                       o.in_size, o.out_size);
                break;
            case op_type::conv2d: {
                layers::conv2d_dims d = o.conv;
                d.N = batch;
                layers::conv2d_forward(out, conv_workspace_.data(), in, w + o.weight_offset,
                                       w + o.bias_offset, d);
                break;
            }
            case op_type::relu: layers::relu_forward(out, in, n); break;
            case op_type::gelu: layers::gelu_forward(out, in, n); break;
            case op_type::dropout:
                if (training)
                    layers::dropout_forward(out, in, n, config_.dropout,
                                            layer_dropout_seed(dropout_seed, i));
                else
                    std::copy(in, in + n, out);
                break;
            case op_type::maxpool2d:
                layers::maxpool2d_forward(out, argmax_[i].data(), in, batch, o.conv.C, o.conv.H,
                                          o.conv.W);
                break;
            }
        }
    }
    if (training) {
        cached_batch_ = batch;
        cached_dropout_seed_ = dropout_seed;
    }
}

void model::backward(const float * d_outputs) {
    if (cached_batch_ < 0)
        fail_invalid(
            "backward: expected a forward(training = true) before it, got none since the model "
            "was made or since the last inference forward");
    const int64_t batch = cached_batch_;
    if (batch > 0 && d_outputs == nullptr)
        fail_invalid("backward: d_outputs: expected a pointer, got null");
    const float * w = parameters_.data();
    float * g = gradients_.data();
    if (batch > 0 && by_features(ops_)) {
        backward_by_features(ops_, activations_, w, g, grad_a_.data(), d_outputs, batch);
        return;
    }
    // d_act[i] is the gradient of activations_[i]: they alternate between
    // the two buffers, d_act[ops] starting with d_outputs.
    const auto d_act = [&](size_t i) {
        return (i % 2 == ops_.size() % 2 ? grad_a_ : grad_b_).data();
    };
    if (batch > 0)
        std::memcpy(d_act(ops_.size()), d_outputs, sizeof(float) * batch * config_.outputs);
    for (size_t i = ops_.size(); i-- > 0;) {
        const op & o = ops_[i];
        const float * in = activations_[i].data();
        const float * d_out = d_act(i + 1);
        float * d_in = i == 0 ? nullptr : d_act(i);
        switch (o.type) {
        case op_type::linear:
            layers::linear_backward(d_in, g + o.weight_offset, g + o.bias_offset, d_out, in,
                                    w + o.weight_offset, batch, o.in_size, o.out_size);
            break;
        case op_type::conv2d: {
            layers::conv2d_dims d = o.conv;
            d.N = batch;
            layers::conv2d_backward(d_in, g + o.weight_offset, g + o.bias_offset,
                                    conv_workspace_.data(), d_out, in, w + o.weight_offset, d);
            break;
        }
        case op_type::relu: layers::relu_backward(d_in, d_out, in, batch * o.in_size); break;
        case op_type::gelu: layers::gelu_backward(d_in, d_out, in, batch * o.in_size); break;
        case op_type::dropout:
            layers::dropout_backward(d_in, d_out, batch * o.in_size, config_.dropout,
                                     layer_dropout_seed(cached_dropout_seed_, i));
            break;
        case op_type::maxpool2d:
            layers::maxpool2d_backward(d_in, d_out, argmax_[i].data(), batch, o.conv.C, o.conv.H,
                                       o.conv.W);
            break;
        }
    }
}

void require_finite_outputs(const model & m, const float * outputs, const float * inputs,
                            int64_t rows) {
    const int64_t columns = m.output_size();
    const float * end = outputs + rows * columns;
    const float * bad = std::find_if(outputs, end, [](float v) { return !std::isfinite(v); });
    if (bad == end) return;
    const int64_t row = (bad - outputs) / columns, column = (bad - outputs) % columns;
    // Only on failure: find the cause, a weight first (it spoils every row).
    std::string cause;
    const std::span<const float> parameters = m.parameters();
    for (const parameter_info & p : m.parameter_table()) {
        const auto first = parameters.begin() + p.offset;
        const auto found =
            std::find_if(first, first + p.count, [](float v) { return !std::isfinite(v); });
        if (found != first + p.count) {
            cause = "the model's weight '" + p.name + "' holds " + std::to_string(*found) +
                    " at element " + std::to_string(found - first);
            break;
        }
    }
    if (cause.empty()) {
        const float * input = inputs + row * m.input_size();
        const float * found =
            std::find_if(input, input + m.input_size(), [](float v) { return !std::isfinite(v); });
        cause = found != input + m.input_size()
                    ? "input row " + std::to_string(row) + " holds " + std::to_string(*found) +
                          " at feature " + std::to_string(found - input)
                    : "the weights and the input are finite: the values overflowed";
    }
    fail_invalid("outputs: expected finite values, got " + std::to_string(*bad) + " at row " +
                 std::to_string(row) + ", output " + std::to_string(column) + " (" + cause + ")");
}

}  // namespace distill
