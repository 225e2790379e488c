# The layer check itself (check_core_layers.cmake): on a small core tree
# written here, it passes includes that point down or stay in their room,
# and fails naming file, line and both rooms for each include that points
# up, sideways, to an undeclared room or out of the tree.
#
# Usage: cmake -DCHECKER=<check_core_layers.cmake> -DWORK_DIR=<scratch dir> -P this file

set(root "${WORK_DIR}/check_core_layers_test")
file(REMOVE_RECURSE "${root}")
set(failures 0)

# Writes `text` (lines separated by \n) to ${root}/<path>.
function(write_file path text)
    file(WRITE "${root}/${path}" "${text}\n")
endfunction()

# Runs the checker on ${root}/<tree>; sets `rc` and `out` in the caller.
function(run_checker tree)
    execute_process(COMMAND ${CMAKE_COMMAND} -DCORE_DIR=${root}/${tree} -P ${CHECKER}
                    RESULT_VARIABLE result OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
    set(rc "${result}" PARENT_SCOPE)
    set(out "${stdout}${stderr}" PARENT_SCOPE)
endfunction()

# want: "pass" (rc 0) or "fail" (any other rc) for the last run_checker.
function(expect_exit want what)
    if(rc EQUAL 0)
        set(got pass)
    else()
        set(got fail)
    endif()
    if(NOT got STREQUAL want)
        message(SEND_ERROR "test_check_core_layers: expected ${what} to ${want}, it did not "
                "(rc ${rc})\n--- checker output:\n${out}")
        math(EXPR failures "${failures} + 1")
        set(failures ${failures} PARENT_SCOPE)
    endif()
endfunction()

function(expect_line line)
    string(FIND "${out}" "${line}" at)
    if(at EQUAL -1)
        message(SEND_ERROR "test_check_core_layers: expected the line\n  ${line}\n"
                "--- checker output:\n${out}")
        math(EXPR failures "${failures} + 1")
        set(failures ${failures} PARENT_SCOPE)
    endif()
endfunction()

set(table
    "| layer | rooms | what |"
    "|---|---|---|"
    "| 2 | top | the top |"
    "| 1 | left, right | two rooms side by side |"
    "| 0 | base | the bottom |")

# A tree that keeps the order: down one and two layers, within a room,
# beside the file, through "..", and a <library> include.
list(JOIN table "\n" table)
write_file(good/LAYERS.md "${table}")
write_file(good/base/base.h "#pragma once\n#include <vector>")
write_file(good/left/left.h "#pragma once\n#include \"base/base.h\"")
write_file(good/left/left.cpp "#include \"left.h\"\n#include \"../base/base.h\"")
write_file(good/right/right.h "#pragma once\n  #  include \"base/base.h\"")
write_file(good/top/top.cpp "#include \"left/left.h\"\n#include \"right/right.h\"
#include \"base/base.h\"\n#include \"top/top.cpp\"")
run_checker(good)
expect_exit(pass "a tree that keeps the order")
expect_line("check_core_layers: 8 quoted includes in 5 files, all pointing down")

# The same tree with one include of each wrong kind.
file(COPY "${root}/good/" DESTINATION "${root}/bad")
write_file(bad/base/up.h "#pragma once\n// a comment; [brackets]\n#include \"top/top.cpp\"")
write_file(bad/base/up_relative.cpp "\n\n#include \"../left/left.h\"")
write_file(bad/left/sideways.cpp "#include \"right/right.h\"")
write_file(bad/left/missing.cpp "#include \"capi_glue.h\"")
write_file(bad/left/outside.cpp "#include \"../../good/base/base.h\"")
write_file(bad/extra/extra.h "#pragma once")
write_file(bad/loose.h "#pragma once")
run_checker(bad)
expect_exit(fail "a tree against the order")
set(room_note "bad/base/up.h:3: includes \"top/top.cpp\": points up, room base (layer 0)")
expect_line("${room_note} may not include room top (layer 2)")
expect_line("bad/base/up_relative.cpp:3: includes \"../left/left.h\": points up, room base (layer 0) may not include room left (layer 1)")
expect_line("bad/left/sideways.cpp:1: includes \"right/right.h\": points sideways, room left (layer 1) may not include room right (layer 1)")
expect_line("bad/left/missing.cpp:1: includes \"capi_glue.h\", which is no file of core/")
expect_line("bad/left/outside.cpp:1: includes \"../../good/base/base.h\", which is no file of core/")
expect_line("bad/extra/extra.h: room extra is not in")
expect_line("bad/loose.h: a source directly in core/, outside every room")
expect_line("check_core_layers: 7 include(s) against the order of")

# A tree without a table is refused, not passed.
write_file(untabled/base/base.h "#pragma once")
run_checker(untabled)
expect_exit(fail "a tree without LAYERS.md")
expect_line("no layer table at")

file(REMOVE_RECURSE "${root}")
if(failures GREATER 0)
    message(FATAL_ERROR "test_check_core_layers: ${failures} expectation(s) failed")
endif()
message(STATUS "test_check_core_layers: passed")
