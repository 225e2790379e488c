// cuBLAS and cuDNN, opened with dlopen() by the first student session
// instead of linked: libdistill_cuda.so must load, and run the kd losses,
// on a machine that has the CUDA driver but neither library. The headers
// give only the types (decltype of each function); every function is
// called through the pointers below, resolved with dlsym() once per
// process and never unloaded.
//
// cuBLAS is required by a session (every student has a linear layer);
// cuDNN only by the convolutions, so a machine without it still trains
// MLPs and a convolution there fails with a message naming the library.
#pragma once

#include <cublas_v2.h>
#include <cudnn.h>

#include <string>

namespace distill::kernels::cuda {

struct cublas_functions {
    decltype(&cublasCreate_v2) create;
    decltype(&cublasDestroy_v2) destroy;
    decltype(&cublasSetStream_v2) set_stream;
    decltype(&cublasSetMathMode) set_math_mode;
    decltype(&cublasSgemm_v2) sgemm;
    decltype(&cublasGetStatusName) status_name;
};

struct cudnn_functions {
    decltype(&cudnnGetVersion) get_version;
    decltype(&cudnnGetErrorString) error_string;
    decltype(&cudnnCreate) create;
    decltype(&cudnnDestroy) destroy;
    decltype(&cudnnSetStream) set_stream;
    decltype(&cudnnCreateTensorDescriptor) create_tensor_descriptor;
    decltype(&cudnnSetTensor4dDescriptor) set_tensor_4d_descriptor;
    decltype(&cudnnDestroyTensorDescriptor) destroy_tensor_descriptor;
    decltype(&cudnnCreateFilterDescriptor) create_filter_descriptor;
    decltype(&cudnnSetFilter4dDescriptor) set_filter_4d_descriptor;
    decltype(&cudnnDestroyFilterDescriptor) destroy_filter_descriptor;
    decltype(&cudnnCreateConvolutionDescriptor) create_convolution_descriptor;
    decltype(&cudnnSetConvolution2dDescriptor) set_convolution_2d_descriptor;
    decltype(&cudnnSetConvolutionMathType) set_convolution_math_type;
    decltype(&cudnnDestroyConvolutionDescriptor) destroy_convolution_descriptor;
    decltype(&cudnnGetConvolutionForwardWorkspaceSize) forward_workspace_size;
    decltype(&cudnnConvolutionForward) convolution_forward;
    decltype(&cudnnGetConvolutionBackwardDataWorkspaceSize) backward_data_workspace_size;
    decltype(&cudnnConvolutionBackwardData) convolution_backward_data;
    decltype(&cudnnGetConvolutionBackwardFilterWorkspaceSize) backward_filter_workspace_size;
    decltype(&cudnnConvolutionBackwardFilter) convolution_backward_filter;
};

// What the process could load. A library that failed has its `failure`
// set ("CUDA backend: cuBLAS could not be loaded; tried: ...") and its
// functions null.
struct student_libraries {
    bool cublas_loaded = false;
    std::string cublas_failure;
    cublas_functions cublas{};
    bool cudnn_loaded = false;
    std::string cudnn_failure;
    cudnn_functions cudnn{};
};

// Loads both libraries on the first call (thread-safe; the outcome is
// kept for the life of the process, failures included).
const student_libraries & load_student_libraries();

}  // namespace distill::kernels::cuda
