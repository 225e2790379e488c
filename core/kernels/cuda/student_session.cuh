// The student session (the `void * session` of the backend table's student
// primitives) and the frame every primitive runs in: argument checks with
// messages that name the argument, the expected and the received value;
// the session's device made current; no exception escaping; launch sizes
// for grid-stride kernels.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "backend_status.cuh"
#include "student_libraries.cuh"

namespace distill::kernels::cuda {

struct student_session {
    int32_t device = 0;
    cudaStream_t stream = nullptr;  // the caller's; must outlive the session
    const student_libraries * libraries = nullptr;
    cublasHandle_t cublas = nullptr;  // bound to `stream`, default (fp32, no TF32) math
    cudnnHandle_t cudnn = nullptr;    // created by the first convolution
    void * workspace = nullptr;       // cuDNN's scratch, grown on demand
    size_t workspace_bytes = 0;
};

// The session's cuDNN handle, created on first use (bound to the
// session's stream). UNSUPPORTED when cuDNN could not be loaded.
int32_t session_cudnn(student_session & session, cudnnHandle_t * out, char * error,
                      size_t capacity);

// At least `bytes` of device scratch, valid until the next call that asks
// for more (growing waits for the stream, so no queued work still uses
// the old buffer).
int32_t session_workspace(student_session & session, size_t bytes, void ** out, char * error,
                          size_t capacity);

// "CUBLAS_STATUS_X" / cuDNN's error string, for messages.
int32_t report_cublas(const student_session & session, cublasStatus_t failure, const char * what,
                      char * error, size_t capacity);
int32_t report_cudnn(const student_session & session, cudnnStatus_t failure, const char * what,
                     char * error, size_t capacity);

// Argument checks of one primitive. The first failed check writes
// "CUDA backend: <op>: <argument> expected <what>, got <value>" and makes
// status() invalid-argument; later checks do nothing.
class argument_checks {
public:
    argument_checks(const char * op, char * error, size_t capacity)
        : op_(op), error_(error), capacity_(capacity) {}

    int32_t status() const { return status_; }

    argument_checks & session(const void * session) {
        if (ok() && session == nullptr)
            fail("session expected a session from session_create, got NULL");
        return *this;
    }
    argument_checks & non_negative(const char * name, int64_t value) {
        if (ok() && value < 0)
            fail("%s expected >= 0, got %lld", name, static_cast<long long>(value));
        return *this;
    }
    argument_checks & positive(const char * name, int64_t value) {
        if (ok() && value < 1)
            fail("%s expected >= 1, got %lld", name, static_cast<long long>(value));
        return *this;
    }
    // minimum_text says where the bound comes from ("k", "max(1, n)").
    argument_checks & at_least(const char * name, int64_t value, int64_t minimum,
                               const char * minimum_text) {
        if (ok() && value < minimum)
            fail("%s expected >= %s = %lld, got %lld", name, minimum_text,
                 static_cast<long long>(minimum), static_cast<long long>(value));
        return *this;
    }
    argument_checks & at_most(const char * name, int64_t value, int64_t maximum, const char * why) {
        if (ok() && value > maximum)
            fail("%s expected <= %lld (%s), got %lld", name, static_cast<long long>(maximum), why,
                 static_cast<long long>(value));
        return *this;
    }
    argument_checks & one_of_two(const char * name, int32_t value, const char * meaning) {
        if (ok() && value != 0 && value != 1)
            fail("%s expected 0 or 1 (%s), got %d", name, meaning, static_cast<int>(value));
        return *this;
    }
    // A pointer that the call reads or writes (`used`) must not be NULL.
    argument_checks & pointer(const char * name, const void * pointer, bool used) {
        if (ok() && used && pointer == nullptr)
            fail("%s expected a non-NULL pointer, got NULL", name);
        return *this;
    }
    // Any other rule: fails with the printf-style message when `condition`
    // is false ("<argument> expected <what>, got <value>").
    template <class... Values>
    argument_checks & require(bool condition, const char * format, Values... values) {
        if (ok() && !condition) fail(format, values...);
        return *this;
    }
    // *product = a · b · c, failing when it overflows int64 (sizes are
    // already known to be non-negative).
    argument_checks & product(const char * name, int64_t a, int64_t b, int64_t c,
                              int64_t * product_out) {
        int64_t ab = 0, abc = 0;
        if (ok() && (__builtin_mul_overflow(a, b, &ab) || __builtin_mul_overflow(ab, c, &abc)))
            fail("%s expected to fit in int64, got %lld * %lld * %lld", name,
                 static_cast<long long>(a), static_cast<long long>(b), static_cast<long long>(c));
        *product_out = ok() ? abc : 0;
        return *this;
    }

private:
    bool ok() const { return status_ == status_ok; }

    template <class... Values>
    void fail(const char * format, Values... values) {
        status_ = status_invalid_argument;
        if (error_ == nullptr || capacity_ == 0) return;
        const int prefix = std::snprintf(error_, capacity_, "CUDA backend: %s: ", op_);
        if (prefix < 0 || static_cast<size_t>(prefix) >= capacity_) return;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
        std::snprintf(error_ + prefix, capacity_ - static_cast<size_t>(prefix), format, values...);
#pragma GCC diagnostic pop
    }

    const char * op_;
    char * error_;
    size_t capacity_;
    int32_t status_ = status_ok;
};

// body(session) → status, run with the session's device current and with
// any stale, non-sticky CUDA error of earlier unrelated work cleared (it
// would otherwise be reported as this call's launch failure). The session
// pointer has been checked by argument_checks::session.
template <class Body>
int32_t run_on_session(void * session_handle, char * error, size_t capacity, Body && body) {
    return without_exceptions(error, capacity, [&]() -> int32_t {
        student_session & session = *static_cast<student_session *>(session_handle);
        const device_scope scope(session.device);
        if (scope.status() != cudaSuccess)
            return report_cuda(scope.status(), "making the session's device current", error,
                               capacity);
        (void)cudaGetLastError();
        return body(session);
    });
}

// The launch's error, as a status ("<what> failed: cudaErrorX").
inline int32_t report_launch(const char * what, char * error, size_t capacity) {
    const cudaError_t launched = cudaGetLastError();
    return launched == cudaSuccess ? status_ok : report_cuda(launched, what, error, capacity);
}

// ---- grid-stride launches -------------------------------------------------

inline constexpr int elementwise_threads = 256;
// Enough blocks to fill any current GPU; the loop strides over the rest.
inline constexpr int64_t max_elementwise_blocks = 8192;

inline unsigned elementwise_blocks(int64_t n) {
    const int64_t blocks = (n + elementwise_threads - 1) / elementwise_threads;
    return static_cast<unsigned>(blocks < max_elementwise_blocks ? blocks : max_elementwise_blocks);
}

__device__ __forceinline__ int64_t grid_first() {
    return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_stride() {
    return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

}  // namespace distill::kernels::cuda
