# DISTILL_CUDA = AUTO | IF_GPU | ON | OFF. AUTO builds the CUDA backend when
# nvcc is found; IF_GPU only when nvcc is found and nvidia-smi also sees a
# GPU (the wheel's default: the CUDA objects are most of a build's time, and
# a machine without a GPU cannot use them); ON requires nvcc. Sets
# DISTILL_WITH_CUDA.
set(DISTILL_CUDA "AUTO" CACHE STRING "Build the CUDA backend: AUTO, IF_GPU, ON or OFF")
set_property(CACHE DISTILL_CUDA PROPERTY STRINGS AUTO IF_GPU ON OFF)
if(NOT DISTILL_CUDA MATCHES "^(AUTO|IF_GPU|ON|OFF)$")
    message(FATAL_ERROR "DISTILL_CUDA: expected AUTO, IF_GPU, ON or OFF, got '${DISTILL_CUDA}'")
endif()
include(DistillCudaArchitectures)

set(DISTILL_WITH_CUDA OFF)
set(_distill_want_cuda ON)
if(DISTILL_CUDA STREQUAL "OFF")
    set(_distill_want_cuda OFF)
elseif(DISTILL_CUDA STREQUAL "IF_GPU")
    distill_local_gpu_present(_distill_want_cuda)
    if(NOT _distill_want_cuda)
        message(STATUS "distill: no GPU seen by nvidia-smi, so no CUDA backend "
                       "(DISTILL_CUDA=ON builds it anyway)")
    endif()
endif()
if(_distill_want_cuda)
    if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
        set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
    endif()
    include(CheckLanguage)
    check_language(CUDA)
    if(CMAKE_CUDA_COMPILER)
        # A short architecture list keeps CI builds in minutes: sm_90, plus
        # the local GPUs' (DistillCudaArchitectures.cmake).
        if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
            distill_cuda_architectures(_distill_archs)
            set(CMAKE_CUDA_ARCHITECTURES "${_distill_archs}")
        endif()
        enable_language(CUDA)
        set(CMAKE_CUDA_STANDARD 20)
        set(CMAKE_CUDA_STANDARD_REQUIRED ON)
        find_package(CUDAToolkit REQUIRED)
        set(DISTILL_WITH_CUDA ON)
    elseif(DISTILL_CUDA STREQUAL "ON")
        message(FATAL_ERROR "DISTILL_CUDA=ON but no CUDA compiler (nvcc) was found")
    endif()
endif()
message(STATUS "distill: CUDA backend ${DISTILL_WITH_CUDA} (DISTILL_CUDA=${DISTILL_CUDA})")
