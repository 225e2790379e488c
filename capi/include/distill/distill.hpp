// distill.hpp — a header-only C++17 wrapper over the C ABI (distill.h):
// RAII handles and exceptions. It adds no symbols to libdistill.so, so it
// is as stable as the C ABI under it.
//
//   distill::Context cpu;                               // CPU, all cores
//   distill::KdLossOptions options;                     // the C defaults
//   options.get().temperature = 2.0f;
//   distill::kd_loss(cpu, options, student, teacher, nullptr, loss, &grad);
#pragma once

#include <distill/distill.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace distill {

// A failed call: the status and the library's message.
class Exception : public std::runtime_error {
public:
    Exception(distill_status status, const std::string & message)
        : std::runtime_error(std::string(distill_status_name(status)) + ": " + message),
          status_(status) {}
    distill_status status() const noexcept { return status_; }

private:
    distill_status status_;
};

// Throws Exception for a non-OK status, with the thread's last message.
inline void check(distill_status status) {
    if (status != DISTILL_STATUS_OK) throw Exception(status, distill_last_error_message());
}

// Throws when the library is older than the header or of another major
// version (a header/library mismatch).
inline void check_library_version() {
    const std::string version = distill_version();
    const std::string major = std::to_string(DISTILL_VERSION_MAJOR) + ".";
    if (version.compare(0, major.size(), major) != 0 || distill_abi_version() < DISTILL_ABI_VERSION)
        throw Exception(DISTILL_STATUS_UNSUPPORTED,
                        "libdistill " + version + " (ABI " + std::to_string(distill_abi_version()) +
                            ") does not match distill.h " DISTILL_VERSION_STRING " (ABI " +
                            std::to_string(DISTILL_ABI_VERSION) + ")");
}

class ContextOptions {
public:
    ContextOptions() { check(distill_context_options_init(&options_)); }
    distill_context_options & get() noexcept { return options_; }
    const distill_context_options & get() const noexcept { return options_; }

    static ContextOptions cpu(int32_t num_threads = 0) {
        ContextOptions o;
        o.options_.num_threads = num_threads;
        return o;
    }
    static ContextOptions cuda(int32_t device_id = 0, void * stream = nullptr) {
        ContextOptions o;
        o.options_.device_type = DISTILL_DEVICE_CUDA;
        o.options_.device_id = device_id;
        o.options_.cuda_stream = stream;
        return o;
    }

private:
    distill_context_options options_{};
};

// Owns a distill_context. Movable, not copyable.
class Context {
public:
    Context() : Context(ContextOptions{}) {}
    explicit Context(const ContextOptions & options) {
        check(distill_context_create(&options.get(), &handle_));
    }
    Context(Context && other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Context & operator=(Context && other) noexcept {
        if (this != &other) {
            distill_context_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Context(const Context &) = delete;
    Context & operator=(const Context &) = delete;
    ~Context() { distill_context_free(handle_); }

    const distill_context * get() const noexcept { return handle_; }

private:
    distill_context * handle_ = nullptr;
};

inline int32_t cuda_device_count() {
    int32_t count = 0;
    check(distill_cuda_device_count(&count));
    return count;
}

class KdLossOptions {
public:
    KdLossOptions() { check(distill_kd_loss_options_init(&options_)); }
    distill_kd_loss_options & get() noexcept { return options_; }
    const distill_kd_loss_options & get() const noexcept { return options_; }
    distill_kd_loss_options * operator->() noexcept { return &options_; }
    const distill_kd_loss_options * operator->() const noexcept { return &options_; }

private:
    distill_kd_loss_options options_{};
};

// distill_kd_loss; throws Exception on failure. labels and grad may be null.
inline void kd_loss(const Context & context, const KdLossOptions & options,
                    const DLTensor & student_logits, const DLTensor & teacher_logits,
                    const DLTensor * labels, DLTensor & loss,
                    DLTensor * grad_student_logits = nullptr) {
    check(distill_kd_loss(context.get(), &options.get(), &student_logits, &teacher_logits, labels,
                          &loss, grad_student_logits));
}

// distill_kd_loss_topk; throws Exception on failure.
inline void kd_loss_topk(const Context & context, const KdLossOptions & options,
                         const DLTensor & student_logits, const DLTensor & teacher_topk_ids,
                         const DLTensor & teacher_topk_logprobs, const DLTensor * labels,
                         DLTensor & loss, DLTensor * grad_student_logits = nullptr) {
    check(distill_kd_loss_topk(context.get(), &options.get(), &student_logits, &teacher_topk_ids,
                               &teacher_topk_logprobs, labels, &loss, grad_student_logits));
}

}  // namespace distill
