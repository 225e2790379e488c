// What every entry of the backend table shares: the distill_status values,
// the error messages ("CUDA backend: <what> failed: <error name> (...)"),
// the scope that makes a device current, and a catch-all so that no C++
// exception leaves the library.
#pragma once

#include <cuda_runtime.h>

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <new>

namespace distill::kernels::cuda {

// distill_status values (capi/include/distill/distill.h).
inline constexpr int32_t status_ok = 0;
inline constexpr int32_t status_invalid_argument = 1;
inline constexpr int32_t status_unsupported = 2;
inline constexpr int32_t status_out_of_memory = 3;
inline constexpr int32_t status_internal = 4;

inline int32_t report_message(int32_t status, const char * message, char * error, size_t capacity) {
    if (error != nullptr && capacity > 0) std::snprintf(error, capacity, "%s", message);
    return status;
}

// printf-style report_message.
__attribute__((format(printf, 4, 5))) inline int32_t report_format(int32_t status, char * error,
                                                                   size_t capacity,
                                                                   const char * format, ...) {
    if (error != nullptr && capacity > 0) {
        va_list arguments;
        va_start(arguments, format);
        std::vsnprintf(error, capacity, format, arguments);
        va_end(arguments);
    }
    return status;
}

// "CUDA backend: <what> failed: cudaErrorX (description)".
inline int32_t report_cuda(cudaError_t failure, const char * what, char * error, size_t capacity) {
    if (error != nullptr && capacity > 0)
        std::snprintf(error, capacity, "CUDA backend: %s failed: %s (%s)", what,
                      cudaGetErrorName(failure), cudaGetErrorString(failure));
    return failure == cudaErrorMemoryAllocation ? status_out_of_memory : status_internal;
}

// Makes `device` current for the scope; puts the caller's device back after.
class device_scope {
public:
    explicit device_scope(int device) {
        status_ = cudaGetDevice(&previous_);
        if (status_ != cudaSuccess) return;
        if (previous_ != device) {
            status_ = cudaSetDevice(device);
            switched_ = status_ == cudaSuccess;
        }
    }
    ~device_scope() {
        if (switched_) cudaSetDevice(previous_);
    }
    device_scope(const device_scope &) = delete;
    device_scope & operator=(const device_scope &) = delete;

    cudaError_t status() const { return status_; }

private:
    int previous_ = 0;
    bool switched_ = false;
    cudaError_t status_ = cudaSuccess;
};

// body() → status, with every exception turned into a status and message.
template <class Body>
int32_t without_exceptions(char * error, size_t capacity, Body && body) noexcept {
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return report_message(status_out_of_memory, "CUDA backend: out of host memory", error,
                              capacity);
    } catch (const std::exception & e) {
        return report_format(status_internal, error, capacity, "CUDA backend: %s", e.what());
    } catch (...) {
        return report_message(status_internal, "CUDA backend: unknown C++ exception", error,
                              capacity);
    }
}

}  // namespace distill::kernels::cuda
