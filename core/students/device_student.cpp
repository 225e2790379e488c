#include "students/device_student.h"

#include <algorithm>
#include <limits>
#include <span>
#include <string>
#include <utility>

#include "common/error.h"
#include "students/model.h"

namespace distill {
namespace {

// Room for the backend's message of one call.
struct backend_message {
    char text[512] = {0};
};

constexpr int32_t host_to_device = 0, device_to_host = 1, device_to_device = 2;
constexpr int32_t relu_activation = 0, gelu_activation = 1;

}  // namespace

void check_backend_call(int32_t code, const char * what, const char * message) {
    if (code == 0) return;
    const bool known = code > int32_t(status::ok) && code <= int32_t(status::cancelled);
    throw error(known ? static_cast<status>(code) : status::internal,
                std::string(what) + ": " + (message[0] ? message : "the CUDA backend failed") +
                    (known ? "" : " (status " + std::to_string(code) + ")"));
}

// ---- device_session -------------------------------------------------------------------

device_session::device_session(const context & ctx) : backend_(ctx.cuda_backend) {
    if (!ctx.cuda || backend_ == nullptr)
        fail_unsupported("context: expected a CUDA context with a loaded backend, got " +
                         std::string(ctx.cuda ? "one without a backend" : "a CPU context"));
    backend_message m;
    check_backend_call(
        backend_->session_create(ctx.device_id, ctx.cuda_stream, &handle_, m.text, sizeof m.text),
        "CUDA session", m.text);
}

device_session::~device_session() { backend_->session_destroy(handle_); }

void device_session::copy(void * destination, const void * source, size_t bytes,
                          int32_t direction) {
    if (bytes == 0) return;
    backend_message m;
    check_backend_call(
        backend_->copy(handle_, destination, source, bytes, direction, m.text, sizeof m.text),
        direction == host_to_device   ? "copy to the device"
        : direction == device_to_host ? "copy to the host"
                                      : "copy on the device",
        m.text);
}

// ---- device_buffer --------------------------------------------------------------------

device_buffer::~device_buffer() { session_->backend().memory_free(session_->handle(), data_); }

device_buffer::device_buffer(device_buffer && other) noexcept
    : session_(other.session_), data_(other.data_), bytes_(other.bytes_) {
    other.data_ = nullptr;
    other.bytes_ = 0;
}

void device_buffer::reserve(size_t bytes) {
    if (bytes <= bytes_) return;
    const distill_cuda_backend_v1 & backend = session_->backend();
    backend.memory_free(session_->handle(), data_);
    data_ = nullptr;
    bytes_ = 0;
    backend_message m;
    check_backend_call(
        backend.memory_alloc(session_->handle(), bytes, &data_, m.text, sizeof m.text),
        ("device memory of " + std::to_string(bytes) + " bytes").c_str(), m.text);
    bytes_ = bytes;
}

void device_buffer::upload(const void * host, size_t bytes) {
    reserve(bytes);
    session_->copy(data_, host, bytes, host_to_device);
}

// ---- device_student -------------------------------------------------------------------

device_student::device_student(const context & ctx, model & m)
    : model_(m),
      session_(ctx),
      parameters_(session_),
      gradients_(session_),
      gradient_a_(session_),
      gradient_b_(session_) {
    const size_t ops = m.ops().size();
    activations_.reserve(ops + 1);
    argmax_.reserve(ops);
    for (size_t i = 0; i <= ops; ++i) activations_.emplace_back(session_);
    for (size_t i = 0; i < ops; ++i) argmax_.emplace_back(session_);
    const size_t parameter_bytes = sizeof(float) * size_t(m.parameter_count());
    parameters_.reserve(parameter_bytes);
    gradients_.reserve(parameter_bytes);
}

device_student::~device_student() = default;

void device_student::reserve(int64_t batch) {
    if (batch <= capacity_) return;
    const std::vector<model::op> & ops = model_.ops();
    int64_t widest = model_.input_size();
    for (const model::op & o : ops) widest = std::max(widest, o.out_size);
    // Byte counts must fit size_t on the way (a batch no device holds
    // anyway, refused with the numbers rather than wrapped).
    if (batch > std::numeric_limits<int64_t>::max() / int64_t(sizeof(float)) / widest)
        fail_invalid("forward: batch: " + std::to_string(batch) + " samples of up to " +
                     std::to_string(widest) + " values each overflow a byte count");
    const auto bytes = [batch](int64_t per_sample, size_t element) {
        return size_t(batch * per_sample) * element;
    };
    activations_[0].reserve(bytes(model_.input_size(), sizeof(float)));
    for (size_t i = 0; i < ops.size(); ++i) {
        activations_[i + 1].reserve(bytes(ops[i].out_size, sizeof(float)));
        if (ops[i].type == model::op_type::maxpool2d)
            argmax_[i].reserve(bytes(ops[i].out_size, sizeof(int32_t)));
    }
    gradient_a_.reserve(bytes(widest, sizeof(float)));
    gradient_b_.reserve(bytes(widest, sizeof(float)));
    capacity_ = batch;
}

void device_student::upload_parameters() {
    const std::span<const float> host = std::as_const(model_).parameters();
    parameters_.upload(host.data(), sizeof(float) * host.size());
}

const float * device_student::forward(const float * host_inputs, int64_t batch, bool training,
                                      uint64_t dropout_seed) {
    if (batch < 1) fail_invalid("forward: batch: expected >= 1, got " + std::to_string(batch));
    if (host_inputs == nullptr) fail_invalid("forward: inputs: expected a pointer, got null");
    kept_training_ = false;
    reserve(batch);
    batch_ = batch;
    session_.copy(activations_[0].as<float>(), host_inputs,
                  sizeof(float) * size_t(batch * model_.input_size()), host_to_device);
    const distill_cuda_backend_v1 & b = session_.backend();
    void * s = session_.handle();
    const float * w = parameters_.as<float>();
    const double dropout = model_.config().dropout;
    const std::vector<model::op> & ops = model_.ops();
    backend_message m;
    for (size_t i = 0; i < ops.size(); ++i) {
        const model::op & o = ops[i];
        const float * in = activations_[i].as<float>();
        float * out = activations_[i + 1].as<float>();
        const int64_t n = batch * o.in_size;
        switch (o.type) {
        case model::op_type::linear:
            // out[B, OUT] = in[B, IN] · W[OUT, IN]ᵀ, then + bias[OUT] per row.
            check_backend_call(b.gemm(s, 0, 1, batch, o.out_size, o.in_size, 1.0f, in, o.in_size,
                                      w + o.weight_offset, o.in_size, 0.0f, out, o.out_size, m.text,
                                      sizeof m.text),
                               "linear forward (gemm)", m.text);
            check_backend_call(
                b.bias_add(s, out, w + o.bias_offset, batch, o.out_size, 1, m.text, sizeof m.text),
                "linear forward (bias_add)", m.text);
            break;
        case model::op_type::conv2d: {
            const layers::conv2d_dims & c = o.conv;
            const int64_t dims[8] = {batch, c.C, c.H, c.W, c.OC, c.KH, c.KW, c.P};
            check_backend_call(b.conv2d_forward(s, dims, out, in, w + o.weight_offset,
                                                w + o.bias_offset, m.text, sizeof m.text),
                               "conv2d forward", m.text);
            break;
        }
        case model::op_type::relu:
        case model::op_type::gelu:
            check_backend_call(
                b.activation_forward(
                    s, o.type == model::op_type::relu ? relu_activation : gelu_activation, out, in,
                    n, m.text, sizeof m.text),
                "activation forward", m.text);
            break;
        case model::op_type::dropout:
            if (training)
                check_backend_call(
                    b.dropout(s, out, in, n, dropout, model::layer_dropout_seed(dropout_seed, i),
                              m.text, sizeof m.text),
                    "dropout forward", m.text);
            else
                session_.copy(out, in, sizeof(float) * size_t(n), device_to_device);
            break;
        case model::op_type::maxpool2d:
            check_backend_call(
                b.maxpool2d_forward(s, out, argmax_[i].as<int32_t>(), in, batch, o.conv.C, o.conv.H,
                                    o.conv.W, m.text, sizeof m.text),
                "maxpool2d forward", m.text);
            break;
        }
    }
    kept_training_ = training;
    kept_dropout_seed_ = dropout_seed;
    return activations_.back().as<float>();
}

void device_student::backward(const float * device_d_logits) {
    if (!kept_training_)
        fail_invalid(
            "backward: expected a forward(training = true) before it, got none since the device "
            "student was made or since the last inference forward");
    if (device_d_logits == nullptr)
        fail_invalid("backward: d_logits: expected a device pointer, got null");
    const distill_cuda_backend_v1 & b = session_.backend();
    void * s = session_.handle();
    const int64_t batch = batch_;
    const float * w = parameters_.as<float>();
    float * g = gradients_.as<float>();
    const std::vector<model::op> & ops = model_.ops();
    // d_act(i), the gradient of activations[i], alternates between the two
    // buffers; the logits' gradient is the caller's.
    const auto d_act = [&](size_t i) {
        return (i % 2 == ops.size() % 2 ? gradient_a_ : gradient_b_).as<float>();
    };
    backend_message m;
    for (size_t i = ops.size(); i-- > 0;) {
        const model::op & o = ops[i];
        const float * in = activations_[i].as<float>();
        const float * d_out = i + 1 == ops.size() ? device_d_logits : d_act(i + 1);
        float * d_in = i == 0 ? nullptr : d_act(i);  // the inputs need no gradient
        const int64_t n = batch * o.in_size;
        switch (o.type) {
        case model::op_type::linear:
            // d_in[B, IN] = d_out[B, OUT] · W[OUT, IN]
            if (d_in != nullptr)
                check_backend_call(b.gemm(s, 0, 0, batch, o.in_size, o.out_size, 1.0f, d_out,
                                          o.out_size, w + o.weight_offset, o.in_size, 0.0f, d_in,
                                          o.in_size, m.text, sizeof m.text),
                                   "linear backward (gemm, inputs)", m.text);
            // dW[OUT, IN] = d_out[B, OUT]ᵀ · in[B, IN]
            check_backend_call(
                b.gemm(s, 1, 0, o.out_size, o.in_size, batch, 1.0f, d_out, o.out_size, in,
                       o.in_size, 0.0f, g + o.weight_offset, o.in_size, m.text, sizeof m.text),
                "linear backward (gemm, weights)", m.text);
            check_backend_call(b.bias_grad(s, g + o.bias_offset, d_out, batch, o.out_size, 1,
                                           m.text, sizeof m.text),
                               "linear backward (bias_grad)", m.text);
            break;
        case model::op_type::conv2d: {
            const layers::conv2d_dims & c = o.conv;
            const int64_t dims[8] = {batch, c.C, c.H, c.W, c.OC, c.KH, c.KW, c.P};
            check_backend_call(
                b.conv2d_backward(s, dims, d_in, g + o.weight_offset, g + o.bias_offset, d_out, in,
                                  w + o.weight_offset, m.text, sizeof m.text),
                "conv2d backward", m.text);
            break;
        }
        case model::op_type::relu:
        case model::op_type::gelu:
            if (d_in != nullptr)
                check_backend_call(
                    b.activation_backward(
                        s, o.type == model::op_type::relu ? relu_activation : gelu_activation, d_in,
                        d_out, in, n, m.text, sizeof m.text),
                    "activation backward", m.text);
            break;
        case model::op_type::dropout:
            if (d_in != nullptr)
                check_backend_call(b.dropout(s, d_in, d_out, n, model_.config().dropout,
                                             model::layer_dropout_seed(kept_dropout_seed_, i),
                                             m.text, sizeof m.text),
                                   "dropout backward", m.text);
            break;
        case model::op_type::maxpool2d:
            if (d_in != nullptr)
                check_backend_call(
                    b.maxpool2d_backward(s, d_in, d_out, argmax_[i].as<int32_t>(), batch, o.conv.C,
                                         o.conv.H, o.conv.W, m.text, sizeof m.text),
                    "maxpool2d backward", m.text);
            break;
        }
    }
    const std::span<float> host = model_.gradients();
    session_.copy(host.data(), g, sizeof(float) * host.size(), device_to_host);
}

void device_student::download_logits(float * host_out) {
    if (batch_ < 1) fail_invalid("download_logits: expected a forward before it, got none");
    session_.copy(host_out, activations_.back().as<float>(),
                  sizeof(float) * size_t(batch_ * model_.output_size()), device_to_host);
}

}  // namespace distill
