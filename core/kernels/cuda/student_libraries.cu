// dlopen() of cuBLAS and cuDNN for the student sessions (see
// student_libraries.cuh for why they are not linked).
#include "student_libraries.cuh"

#include <dlfcn.h>

namespace distill::kernels::cuda {
namespace {

// The first of `files` that dlopen() accepts, or null with `failure`
// listing every file tried and dlerror()'s reason. Never closed.
template <size_t count>
void * open_first(const char * const (&files)[count], const char * library, const char ** opened,
                  std::string & failure) {
    std::string tried;
    for (const char * file : files) {
        void * handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
        if (handle != nullptr) {
            *opened = file;
            return handle;
        }
        const char * why = dlerror();
        tried += std::string("\n  ") + file + ": " + (why != nullptr ? why : "not found");
    }
    failure = std::string("CUDA backend: ") + library + " could not be loaded; tried:" + tried;
    return nullptr;
}

// Looks `name` up in `handle` into `function`; false with `failure` set
// when the library lacks it (an older or foreign build of the library).
template <class Function>
bool resolve(void * handle, const char * file, const char * name, Function & function,
             std::string & failure) {
    (void)dlerror();
    void * symbol = dlsym(handle, name);
    if (symbol == nullptr) {
        const char * why = dlerror();
        failure = std::string("CUDA backend: ") + file + " has no function " + name + " (" +
                  (why != nullptr ? why : "null symbol") + ")";
        return false;
    }
    function = reinterpret_cast<Function>(symbol);
    return true;
}

// One dlsym per member; `function` is the exported name, so the string
// and the type (decltype in the header) cannot drift apart.
#define DISTILL_RESOLVE(member, function) resolve(handle, file, #function, table.member, failure)

bool load_cublas(cublas_functions & table, std::string & failure) {
    static constexpr const char * files[] = {"libcublas.so.13", "libcublas.so"};
    const char * file = nullptr;
    void * handle = open_first(files, "cuBLAS (needed by every student session)", &file, failure);
    if (handle == nullptr) return false;
    return DISTILL_RESOLVE(create, cublasCreate_v2) && DISTILL_RESOLVE(destroy, cublasDestroy_v2) &&
           DISTILL_RESOLVE(set_stream, cublasSetStream_v2) &&
           DISTILL_RESOLVE(set_math_mode, cublasSetMathMode) &&
           DISTILL_RESOLVE(sgemm, cublasSgemm_v2) &&
           DISTILL_RESOLVE(status_name, cublasGetStatusName);
}

bool load_cudnn(cudnn_functions & table, std::string & failure) {
    static constexpr const char * files[] = {"libcudnn.so.9", "libcudnn.so"};
    const char * file = nullptr;
    void * handle =
        open_first(files, "cuDNN (needed by conv2d_forward and conv2d_backward)", &file, failure);
    if (handle == nullptr) return false;
    const bool resolved =
        DISTILL_RESOLVE(get_version, cudnnGetVersion) &&
        DISTILL_RESOLVE(error_string, cudnnGetErrorString) &&
        DISTILL_RESOLVE(create, cudnnCreate) && DISTILL_RESOLVE(destroy, cudnnDestroy) &&
        DISTILL_RESOLVE(set_stream, cudnnSetStream) &&
        DISTILL_RESOLVE(create_tensor_descriptor, cudnnCreateTensorDescriptor) &&
        DISTILL_RESOLVE(set_tensor_4d_descriptor, cudnnSetTensor4dDescriptor) &&
        DISTILL_RESOLVE(destroy_tensor_descriptor, cudnnDestroyTensorDescriptor) &&
        DISTILL_RESOLVE(create_filter_descriptor, cudnnCreateFilterDescriptor) &&
        DISTILL_RESOLVE(set_filter_4d_descriptor, cudnnSetFilter4dDescriptor) &&
        DISTILL_RESOLVE(destroy_filter_descriptor, cudnnDestroyFilterDescriptor) &&
        DISTILL_RESOLVE(create_convolution_descriptor, cudnnCreateConvolutionDescriptor) &&
        DISTILL_RESOLVE(set_convolution_2d_descriptor, cudnnSetConvolution2dDescriptor) &&
        DISTILL_RESOLVE(set_convolution_math_type, cudnnSetConvolutionMathType) &&
        DISTILL_RESOLVE(destroy_convolution_descriptor, cudnnDestroyConvolutionDescriptor) &&
        DISTILL_RESOLVE(forward_workspace_size, cudnnGetConvolutionForwardWorkspaceSize) &&
        DISTILL_RESOLVE(convolution_forward, cudnnConvolutionForward) &&
        DISTILL_RESOLVE(backward_data_workspace_size,
                        cudnnGetConvolutionBackwardDataWorkspaceSize) &&
        DISTILL_RESOLVE(convolution_backward_data, cudnnConvolutionBackwardData) &&
        DISTILL_RESOLVE(backward_filter_workspace_size,
                        cudnnGetConvolutionBackwardFilterWorkspaceSize) &&
        DISTILL_RESOLVE(convolution_backward_filter, cudnnConvolutionBackwardFilter);
    if (!resolved) return false;
    // The structs and enums come from the cuDNN 9 headers: "libcudnn.so"
    // may be another major version, whose ABI differs.
    const size_t version = table.get_version();
    if (version / 10000 != CUDNN_MAJOR) {
        failure = std::string("CUDA backend: ") + file + " is cuDNN version " +
                  std::to_string(version) + ", expected major version " +
                  std::to_string(CUDNN_MAJOR);
        return false;
    }
    return true;
}

#undef DISTILL_RESOLVE

student_libraries load() {
    student_libraries libraries;
    libraries.cublas_loaded = load_cublas(libraries.cublas, libraries.cublas_failure);
    if (!libraries.cublas_loaded) libraries.cublas = {};
    libraries.cudnn_loaded = load_cudnn(libraries.cudnn, libraries.cudnn_failure);
    if (!libraries.cudnn_loaded) libraries.cudnn = {};
    return libraries;
}

}  // namespace

const student_libraries & load_student_libraries() {
    static const student_libraries loaded = load();
    return loaded;
}

}  // namespace distill::kernels::cuda
