# cmake -DBUILD_DIR=... -DPREFIX=... -DLIBDIR=... -DCONSUMER_SOURCE_DIR=...
#       -DCONSUMER_BINARY_DIR=... -DGENERATOR=... [-DMAKE_PROGRAM=...]
#       -DC_COMPILER=... -DCXX_COMPILER=... [-DBUILD_TYPE=...] [-DEXTRA_FLAGS=...]
#       [-DOBJDUMP=...] -P run_install_consumer.cmake
#
# Installs the build tree into PREFIX and checks that a user can consume it:
# the SONAME, the CMake package (find_package + distill::distill) and the
# pkg-config file. Any failing step stops the test with its command and output.
foreach(required BUILD_DIR PREFIX LIBDIR CONSUMER_SOURCE_DIR CONSUMER_BINARY_DIR GENERATOR
                 C_COMPILER CXX_COMPILER)
    if(NOT ${required})
        message(FATAL_ERROR "run_install_consumer: -D${required}=... is required")
    endif()
endforeach()
if(NOT BUILD_TYPE)
    set(BUILD_TYPE Release)
endif()
if(NOT OBJDUMP)
    set(OBJDUMP objdump)
endif()

# Runs one step; on failure prints the command and everything it printed.
function(run_step description)
    string(REPLACE ";" " " command_text "${ARGN}")
    message(STATUS "install_consumer: ${description}")
    execute_process(COMMAND ${ARGN}
        RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "install_consumer: ${description} FAILED (${result})\n"
                            "command: ${command_text}\n${output}")
    endif()
    set(step_output "${output}" PARENT_SCOPE)
endfunction()

# A fresh prefix and consumer build each time: a stale install must not pass.
file(REMOVE_RECURSE "${PREFIX}" "${CONSUMER_BINARY_DIR}")
file(MAKE_DIRECTORY "${CONSUMER_BINARY_DIR}")

run_step("cmake --install"
    "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" --config "${BUILD_TYPE}")

# The SONAME carries the major version, so a 1.x library never satisfies a
# program linked against 0.x.
set(library "${PREFIX}/${LIBDIR}/libdistill.so.0")
if(NOT EXISTS "${library}")
    message(FATAL_ERROR "install_consumer: ${library} was not installed")
endif()
run_step("SONAME of libdistill.so.0" "${OBJDUMP}" -p "${library}")
if(NOT step_output MATCHES "SONAME +libdistill\\.so\\.0\n")
    message(FATAL_ERROR "install_consumer: ${library} lacks SONAME libdistill.so.0:\n"
                        "${step_output}")
endif()

# CMake: find_package(distill 0.1 CONFIG REQUIRED) against the prefix only.
set(generator_args -G "${GENERATOR}")
if(MAKE_PROGRAM)
    list(APPEND generator_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
run_step("configure the CMake consumer"
    "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${CONSUMER_BINARY_DIR}/cmake"
    ${generator_args}
    "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
    "-DCMAKE_PREFIX_PATH=${PREFIX}"
    "-DCMAKE_C_COMPILER=${C_COMPILER}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    "-DCMAKE_CXX_FLAGS=${EXTRA_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${EXTRA_FLAGS}")
run_step("build the CMake consumer" "${CMAKE_COMMAND}" --build "${CONSUMER_BINARY_DIR}/cmake")
run_step("run the CMake consumer" "${CONSUMER_BINARY_DIR}/cmake/distill_consumer")
message(STATUS "${step_output}")

# pkg-config: the C program is compiled with nothing but what distill.pc says.
set(pkg_env "PKG_CONFIG_PATH=${PREFIX}/${LIBDIR}/pkgconfig")
run_step("pkg-config --cflags --libs distill"
    "${CMAKE_COMMAND}" -E env "${pkg_env}" pkg-config --cflags --libs distill)
string(STRIP "${step_output}" pkg_flags)
separate_arguments(pkg_flags UNIX_COMMAND "${pkg_flags}")
separate_arguments(extra_flags UNIX_COMMAND "${EXTRA_FLAGS}")
set(c_program "${CONSUMER_BINARY_DIR}/distill_consumer_c")
run_step("compile main.c with the pkg-config flags"
    "${C_COMPILER}" -std=c99 -Wall -Wextra -pedantic -Werror ${extra_flags}
    "${CONSUMER_SOURCE_DIR}/main.c" -o "${c_program}" ${pkg_flags})
run_step("run the pkg-config consumer"
    "${CMAKE_COMMAND}" -E env "LD_LIBRARY_PATH=${PREFIX}/${LIBDIR}" "${c_program}")
message(STATUS "${step_output}")
message(STATUS "install_consumer: passed")
