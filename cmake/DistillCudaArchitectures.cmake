# distill_local_gpu_present(OUT): ON when `nvidia-smi -L` succeeds and lists
# a GPU ("GPU 0: ..."), else OFF.
function(distill_local_gpu_present out)
    execute_process(COMMAND nvidia-smi -L RESULT_VARIABLE smi_rc OUTPUT_VARIABLE smi_out
                    ERROR_QUIET)
    if(smi_rc EQUAL 0 AND smi_out MATCHES "(^|\n)GPU [0-9]+:")
        set(${out} ON PARENT_SCOPE)
    else()
        set(${out} OFF PARENT_SCOPE)
    endif()
endfunction()

# distill_cuda_architectures(OUT): the CUDA architectures to build for when
# CMAKE_CUDA_ARCHITECTURES is not given: 90 (sm_90, the H100/H200 the CI and
# the GPU checks aim at), plus the compute capability of each local GPU that
# `nvidia-smi --query-gpu=compute_cap` reports (e.g. "8.6" -> 86) when it is
# not 90. Numbers, never `native`: CMake accepts `native` only alone, so
# "90;native" fails at enable_language(CUDA). Without nvidia-smi, or when it
# fails or prints no capability (drivers before 510 lack the query), the
# list is 90 alone.
function(distill_cuda_architectures out)
    set(archs 90)
    execute_process(COMMAND nvidia-smi --query-gpu=compute_cap --format=csv,noheader
                    RESULT_VARIABLE smi_rc OUTPUT_VARIABLE smi_out ERROR_QUIET)
    if(smi_rc EQUAL 0)
        string(REPLACE "\n" ";" smi_lines "${smi_out}")
        foreach(line IN LISTS smi_lines)
            string(STRIP "${line}" line)
            if(line MATCHES "^([0-9]+)\\.([0-9])$")
                set(arch "${CMAKE_MATCH_1}${CMAKE_MATCH_2}")
                if(NOT arch IN_LIST archs)
                    list(APPEND archs ${arch})
                endif()
            elseif(NOT line STREQUAL "")
                message(STATUS "distill: ignoring nvidia-smi's compute capability '${line}'")
            endif()
        endforeach()
    endif()
    set(${out} "${archs}" PARENT_SCOPE)
endfunction()
