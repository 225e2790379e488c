# cmake -DLIBRARY=<path to libdistill.so> [-DNM=<nm>] -P check_exports.cmake
#
# Fails, listing them, if libdistill.so exports a symbol outside the C ABI's
# distill_ prefix. Run as a script (not a shell one-liner) so the test needs
# nothing but CMake and binutils.
if(NOT LIBRARY OR NOT EXISTS "${LIBRARY}")
    message(FATAL_ERROR "check_exports: LIBRARY='${LIBRARY}' does not exist")
endif()
if(NOT NM)
    set(NM nm)
endif()

execute_process(COMMAND ${NM} -D --defined-only "${LIBRARY}"
    RESULT_VARIABLE nm_result OUTPUT_VARIABLE nm_output ERROR_VARIABLE nm_error)
if(NOT nm_result EQUAL 0)
    message(FATAL_ERROR "check_exports: '${NM} -D --defined-only ${LIBRARY}' failed "
                        "(${nm_result}):\n${nm_error}")
endif()

string(REPLACE "\n" ";" lines "${nm_output}")
set(exported 0)
set(stray "")
foreach(line IN LISTS lines)
    # "<address> <type> <name>[@@version]"
    if(NOT line MATCHES "^[0-9a-fA-F]* *([A-Za-z]) ([^ @]+)")
        continue()
    endif()
    set(type "${CMAKE_MATCH_1}")
    set(name "${CMAKE_MATCH_2}")
    # The version script's node name is itself an absolute symbol.
    if(type STREQUAL "A" AND name STREQUAL "DISTILL_0")
        continue()
    endif()
    math(EXPR exported "${exported} + 1")
    if(NOT name MATCHES "^distill_")
        list(APPEND stray "${type} ${name}")
    endif()
endforeach()

if(stray)
    list(JOIN stray "\n  " stray_text)
    message(FATAL_ERROR "check_exports: ${LIBRARY} exports symbols outside the C ABI "
                        "(only distill_* may be exported; check hidden visibility and "
                        "cmake/distill.map):\n  ${stray_text}")
endif()
if(exported EQUAL 0)
    message(FATAL_ERROR "check_exports: ${LIBRARY} exports no distill_* symbol at all:\n"
                        "${nm_output}")
endif()
message(STATUS "check_exports: ${exported} exported symbols, all distill_*")
