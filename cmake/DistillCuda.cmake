# DISTILL_CUDA = AUTO | ON | OFF. AUTO builds the CUDA backend when nvcc is
# found; ON requires it. Sets DISTILL_WITH_CUDA.
set(DISTILL_CUDA "AUTO" CACHE STRING "Build the CUDA backend: AUTO, ON or OFF")
set_property(CACHE DISTILL_CUDA PROPERTY STRINGS AUTO ON OFF)

set(DISTILL_WITH_CUDA OFF)
if(NOT DISTILL_CUDA STREQUAL "OFF")
    if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
        set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
    endif()
    include(CheckLanguage)
    check_language(CUDA)
    if(CMAKE_CUDA_COMPILER)
        # A short architecture list keeps CI builds in minutes: sm_90, plus
        # the local GPU's when one is present.
        if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
            set(_distill_archs 90)
            execute_process(COMMAND nvidia-smi -L RESULT_VARIABLE _distill_smi_rc
                            OUTPUT_QUIET ERROR_QUIET)
            if(_distill_smi_rc EQUAL 0)
                list(APPEND _distill_archs native)
            endif()
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
