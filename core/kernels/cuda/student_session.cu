// Student sessions: the device, the caller's stream, the cuBLAS handle
// (created with the session), the cuDNN handle and workspace (created by
// the first convolution); and the memory primitives over them.
//
// Memory is cudaMalloc/cudaFree, not the stream-ordered allocator: a
// student allocates its parameters and activations once, the pointers are
// then valid on any stream at once (the kd-loss entries take their own
// stream), and memory_free first waits for the session's stream so that
// no queued kernel still reads the buffer. The cuDNN workspace is grown
// the same way (rarely: to the largest convolution seen).
#include <memory>

#include "student_primitives.cuh"
#include "student_session.cuh"

namespace distill::kernels::cuda {
namespace {

// Frees what the session holds. The session's device must be current.
void release(student_session * session) {
    if (session->workspace != nullptr) {
        (void)cudaStreamSynchronize(session->stream);
        (void)cudaFree(session->workspace);
    }
    if (session->cudnn != nullptr) (void)session->libraries->cudnn.destroy(session->cudnn);
    if (session->cublas != nullptr) (void)session->libraries->cublas.destroy(session->cublas);
    (void)cudaGetLastError();  // nothing to report to: do not leak it to the next call
    delete session;
}

struct session_release {
    void operator()(student_session * session) const { release(session); }
};

}  // namespace

int32_t report_cublas(const student_session & session, cublasStatus_t failure, const char * what,
                      char * error, size_t capacity) {
    report_format(status_internal, error, capacity, "CUDA backend: %s failed: %s", what,
                  session.libraries->cublas.status_name(failure));
    switch (failure) {
    case CUBLAS_STATUS_ALLOC_FAILED: return status_out_of_memory;
    case CUBLAS_STATUS_ARCH_MISMATCH:
    case CUBLAS_STATUS_NOT_SUPPORTED: return status_unsupported;
    default: return status_internal;
    }
}

int32_t report_cudnn(const student_session & session, cudnnStatus_t failure, const char * what,
                     char * error, size_t capacity) {
    report_format(status_internal, error, capacity, "CUDA backend: %s failed: %s", what,
                  session.libraries->cudnn.error_string(failure));
    if (failure == CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED ||
        failure == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED)
        return status_out_of_memory;
    if (CUDNN_STATUS_CATEGORY(failure) == CUDNN_STATUS_NOT_SUPPORTED) return status_unsupported;
    return status_internal;
}

int32_t session_cudnn(student_session & session, cudnnHandle_t * out, char * error,
                      size_t capacity) {
    if (session.cudnn == nullptr) {
        const student_libraries & libraries = *session.libraries;
        if (!libraries.cudnn_loaded)
            return report_message(status_unsupported, libraries.cudnn_failure.c_str(), error,
                                  capacity);
        cudnnHandle_t handle = nullptr;
        const cudnnStatus_t created = libraries.cudnn.create(&handle);
        if (created != CUDNN_STATUS_SUCCESS)
            return report_cudnn(session, created, "cudnnCreate", error, capacity);
        const cudnnStatus_t bound = libraries.cudnn.set_stream(handle, session.stream);
        if (bound != CUDNN_STATUS_SUCCESS) {
            (void)libraries.cudnn.destroy(handle);
            return report_cudnn(session, bound, "cudnnSetStream", error, capacity);
        }
        session.cudnn = handle;
    }
    *out = session.cudnn;
    return status_ok;
}

int32_t session_workspace(student_session & session, size_t bytes, void ** out, char * error,
                          size_t capacity) {
    if (bytes > session.workspace_bytes) {
        if (session.workspace != nullptr) {
            const cudaError_t drained = cudaStreamSynchronize(session.stream);
            if (drained != cudaSuccess)
                return report_cuda(drained,
                                   "waiting for the stream before growing the cuDNN "
                                   "workspace (cudaStreamSynchronize)",
                                   error, capacity);
            const cudaError_t freed = cudaFree(session.workspace);
            session.workspace = nullptr;
            session.workspace_bytes = 0;
            if (freed != cudaSuccess)
                return report_cuda(freed, "freeing the cuDNN workspace (cudaFree)", error,
                                   capacity);
        }
        void * grown = nullptr;
        const cudaError_t allocated = cudaMalloc(&grown, bytes);
        if (allocated != cudaSuccess) {
            (void)cudaGetLastError();
            return report_cuda(allocated, "allocating the cuDNN workspace (cudaMalloc)", error,
                               capacity);
        }
        session.workspace = grown;
        session.workspace_bytes = bytes;
    }
    *out = session.workspace;
    return status_ok;
}

int32_t session_create(int32_t device_id, void * stream, void ** out_session, char * error,
                       size_t error_capacity) {
    return without_exceptions(error, error_capacity, [&]() -> int32_t {
        if (out_session == nullptr)
            return report_message(status_invalid_argument,
                                  "CUDA backend: session_create: out_session expected a "
                                  "pointer, got NULL",
                                  error, error_capacity);
        int count = 0;
        if (cudaGetDeviceCount(&count) != cudaSuccess) {  // no driver or no GPU: 0 devices
            (void)cudaGetLastError();
            count = 0;
        }
        if (device_id < 0 || device_id >= count)
            return report_format(status_invalid_argument, error, error_capacity,
                                 "CUDA backend: session_create: device_id expected in [0, %d), "
                                 "got %d",
                                 count, static_cast<int>(device_id));
        const student_libraries & libraries = load_student_libraries();
        if (!libraries.cublas_loaded)
            return report_message(status_unsupported, libraries.cublas_failure.c_str(), error,
                                  error_capacity);

        const device_scope scope(device_id);
        if (scope.status() != cudaSuccess)
            return report_cuda(scope.status(), "making the session's device current", error,
                               error_capacity);
        (void)cudaGetLastError();

        std::unique_ptr<student_session, session_release> session(new student_session);
        session->device = device_id;
        session->stream = static_cast<cudaStream_t>(stream);
        session->libraries = &libraries;
        const cublasStatus_t created = libraries.cublas.create(&session->cublas);
        if (created != CUBLAS_STATUS_SUCCESS) {
            session->cublas = nullptr;
            return report_cublas(*session, created, "cublasCreate", error, error_capacity);
        }
        const cublasStatus_t bound = libraries.cublas.set_stream(session->cublas, session->stream);
        if (bound != CUBLAS_STATUS_SUCCESS)
            return report_cublas(*session, bound, "cublasSetStream", error, error_capacity);
        // Plain fp32 multiply-adds: CUBLAS_DEFAULT_MATH never uses TF32 (that
        // takes CUBLAS_TF32_TENSOR_OP_MATH), so the GEMMs match the CPU's
        // to rounding. Set explicitly, not left to the handle's default.
        const cublasStatus_t math =
            libraries.cublas.set_math_mode(session->cublas, CUBLAS_DEFAULT_MATH);
        if (math != CUBLAS_STATUS_SUCCESS)
            return report_cublas(*session, math, "cublasSetMathMode", error, error_capacity);
        *out_session = session.release();
        return status_ok;
    });
}

void session_destroy(void * session_handle) {
    if (session_handle == nullptr) return;
    auto * session = static_cast<student_session *>(session_handle);
    const device_scope scope(session->device);
    release(session);
}

int32_t memory_alloc(void * session, size_t bytes, void ** out, char * error,
                     size_t error_capacity) {
    argument_checks checks("memory_alloc", error, error_capacity);
    checks.session(session).pointer("out", out, true);
    if (checks.status() != status_ok) return checks.status();
    if (bytes == 0) {
        *out = nullptr;
        return status_ok;
    }
    return run_on_session(session, error, error_capacity, [&](student_session &) -> int32_t {
        void * allocated = nullptr;
        const cudaError_t result = cudaMalloc(&allocated, bytes);
        if (result != cudaSuccess) {
            (void)cudaGetLastError();
            char what[96];
            std::snprintf(what, sizeof what, "allocating %zu bytes of device memory (cudaMalloc)",
                          bytes);
            return report_cuda(result, what, error, error_capacity);
        }
        *out = allocated;
        return status_ok;
    });
}

void memory_free(void * session, void * pointer) {
    if (session == nullptr || pointer == nullptr) return;
    (void)run_on_session(session, nullptr, 0, [&](student_session & s) -> int32_t {
        // Kernels queued on the session's stream may still read the
        // buffer: wait for them explicitly rather than rely on cudaFree's
        // implicit synchronisation.
        (void)cudaStreamSynchronize(s.stream);
        (void)cudaFree(pointer);
        (void)cudaGetLastError();
        return status_ok;
    });
}

int32_t copy(void * session, void * destination, const void * source, size_t bytes,
             int32_t direction, char * error, size_t error_capacity) {
    argument_checks checks("copy", error, error_capacity);
    checks.session(session);
    if (checks.status() == status_ok && (direction < 0 || direction > 2))
        return report_format(status_invalid_argument, error, error_capacity,
                             "CUDA backend: copy: direction expected 0 (host to device), 1 "
                             "(device to host) or 2 (device to device), got %d",
                             static_cast<int>(direction));
    checks.pointer("destination", destination, bytes > 0).pointer("source", source, bytes > 0);
    if (checks.status() != status_ok) return checks.status();
    if (bytes == 0) return status_ok;
    return run_on_session(session, error, error_capacity, [&](student_session & s) -> int32_t {
        static constexpr cudaMemcpyKind kinds[] = {cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost,
                                                   cudaMemcpyDeviceToDevice};
        static constexpr const char * names[] = {"host to device", "device to host",
                                                 "device to device"};
        char what[128];
        std::snprintf(what, sizeof what, "copying %zu bytes %s (cudaMemcpyAsync)", bytes,
                      names[direction]);
        const cudaError_t copied =
            cudaMemcpyAsync(destination, source, bytes, kinds[direction], s.stream);
        if (copied != cudaSuccess) return report_cuda(copied, what, error, error_capacity);
        if (direction == 1) {  // the host may read it when the call returns
            const cudaError_t finished = cudaStreamSynchronize(s.stream);
            if (finished != cudaSuccess)
                return report_cuda(finished,
                                   "waiting for a copy to the host (cudaStreamSynchronize)", error,
                                   error_capacity);
        }
        return status_ok;
    });
}

int32_t synchronize(void * session, char * error, size_t error_capacity) {
    argument_checks checks("synchronize", error, error_capacity);
    checks.session(session);
    if (checks.status() != status_ok) return checks.status();
    return run_on_session(session, error, error_capacity, [&](student_session & s) -> int32_t {
        const cudaError_t finished = cudaStreamSynchronize(s.stream);
        if (finished != cudaSuccess)
            return report_cuda(finished, "waiting for the session's stream (cudaStreamSynchronize)",
                               error, error_capacity);
        return status_ok;
    });
}

}  // namespace distill::kernels::cuda
