// A built-in student (students/model.h) run on a GPU through the CUDA
// backend's student primitives (backend/cuda_backend_api.h). This file holds
// no CUDA code: it walks model::ops() and calls the function table, so the
// same code runs against the real backend or a host emulation of it
// (tests/core/emulated_cuda_backend.h).
//
// Who owns what. The host model stays the owner of the parameters: a
// training step uploads them before the forward (the host optimiser has
// just updated them) and downloads the gradients after the backward, into
// model::gradients(). So the optimiser and its state stay on the host, and
// checkpoints, resume and everything that reads the parameters (evaluation,
// save, a model teacher) work unchanged. The cost is 2 × the parameter bytes
// over PCIe per step (an MLP of 2M parameters: 16 MB, about 1 ms on PCIe 4),
// small next to the batch's GEMMs for the students this library builds.
//
// Dimensions:  B  rows of the batch;  O  the model's outputs
// Device buffers, all fp32 unless said, grown with the batch (never shrunk):
//   parameters, gradients  [parameter_count]
//   activations[i]         [B, ops[i].in_size]: the input of op i; the last
//                          one [B, O] holds the logits
//   argmax[i]              int32 [B, ops[i].out_size], maxpool2d ops only
//   gradient_a, _b         [B, widest]: the gradients of two neighbouring
//                          activations during backward
//
// Not thread-safe: the caller holds the model's usage_mutex() around each
// use (upload reads the parameters, backward writes the gradients).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "backend/context.h"

namespace distill {

class model;

// Throws distill::error(status `code`, "<what>: <message>") when a backend
// call failed (code ≠ 0); codes outside distill_status become internal.
void check_backend_call(int32_t code, const char * what, const char * message);

// A backend session on the context's device and stream (session_create).
class device_session {
public:
    // Throws distill::error(unsupported) for a context without a backend.
    explicit device_session(const context & ctx);
    ~device_session();
    device_session(const device_session &) = delete;
    device_session & operator=(const device_session &) = delete;

    const distill_cuda_backend_v1 & backend() const { return *backend_; }
    void * handle() const { return handle_; }

    // direction: 0 host → device, 1 device → host (waits), 2 device → device.
    void copy(void * destination, const void * source, size_t bytes, int32_t direction);

private:
    const distill_cuda_backend_v1 * backend_;
    void * handle_ = nullptr;
};

// One device allocation of a session (memory_alloc / memory_free), grown on
// demand. Move-only; must not outlive its session.
class device_buffer {
public:
    explicit device_buffer(device_session & session) : session_(&session) {}
    ~device_buffer();
    device_buffer(device_buffer && other) noexcept;
    device_buffer & operator=(device_buffer && other) = delete;
    device_buffer(const device_buffer &) = delete;
    device_buffer & operator=(const device_buffer &) = delete;

    // At least `bytes` (contents are not kept when it grows).
    void reserve(size_t bytes);
    // reserve(bytes), then host → device.
    void upload(const void * host, size_t bytes);
    template <class T>
    T * as() const {
        return static_cast<T *>(data_);
    }

private:
    device_session * session_;
    void * data_ = nullptr;
    size_t bytes_ = 0;
};

class device_student {
public:
    // The model must outlive this object. Allocates the parameter and
    // gradient buffers; activations come with the first forward.
    device_student(const context & ctx, model & m);
    ~device_student();
    device_student(const device_student &) = delete;
    device_student & operator=(const device_student &) = delete;

    // model.parameters() (host) → the device.
    void upload_parameters();

    // host_inputs[batch, inputs] (host memory) → the logits [batch, outputs]
    // on the device (valid until the next forward), as model::forward:
    // training applies dropout with model::layer_dropout_seed(dropout_seed,
    // op) and keeps what backward needs. batch ≥ 1.
    const float * forward(const float * host_inputs, int64_t batch, bool training,
                          uint64_t dropout_seed);

    // device_d_logits[batch, outputs] (device memory), the loss gradient for
    // the logits of the last forward(training = true). Overwrites the device
    // gradients of every parameter, then downloads them into
    // model.gradients() (host).
    void backward(const float * device_d_logits);

    // The logits of the last forward → host_out[batch, outputs] (waits).
    void download_logits(float * host_out);

    device_session & session() { return session_; }

private:
    void reserve(int64_t batch);

    model & model_;
    device_session session_;  // first: destroyed after the buffers
    device_buffer parameters_, gradients_;
    std::vector<device_buffer> activations_;  // ops + 1
    std::vector<device_buffer> argmax_;       // per op; maxpool2d only
    device_buffer gradient_a_, gradient_b_;
    int64_t capacity_ = 0;        // the batch the buffers hold
    int64_t batch_ = 0;           // of the last forward
    bool kept_training_ = false;  // the last forward was a training one
    uint64_t kept_dropout_seed_ = 0;
};

}  // namespace distill
