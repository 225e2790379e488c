# DistillTsanTests.cmake — the tests of the ThreadSanitizer build (included
# by tests/CMakeLists.txt when DISTILL_TSAN is on, instead of every test).
# Two binaries, as the full build has: one over libdistill.so, one linking
# the core's objects. The tsan test preset sets TSAN_OPTIONS so that the
# first report fails the test (halt_on_error=1, exitcode 66).
find_package(PkgConfig REQUIRED)
pkg_check_modules(CPP_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(Threads REQUIRED)

set(tests_dir ${PROJECT_SOURCE_DIR}/tests)
file(GLOB DISTILL_TSAN_TEST_SOURCES CONFIGURE_DEPENDS
     ${tests_dir}/test_store_*.cpp ${tests_dir}/test_collect_*.cpp
     ${tests_dir}/test_http_teacher_*.cpp)
add_executable(distill_tsan_tests ${tests_dir}/doctest_main.cpp ${DISTILL_TSAN_TEST_SOURCES})
target_link_libraries(distill_tsan_tests PRIVATE distill::distill doctest::doctest
                      SQLite::SQLite3 PkgConfig::CPP_HTTPLIB Threads::Threads)
target_include_directories(distill_tsan_tests PRIVATE ${tests_dir} ${PROJECT_SOURCE_DIR}/core)
target_compile_definitions(distill_tsan_tests PRIVATE DISTILL_TEST_CUDA=0)
target_compile_options(distill_tsan_tests PRIVATE -Wall -Wextra)
add_test(NAME distill_tsan_store_collect_http COMMAND distill_tsan_tests)

# The thread team and the fused MLP's feature split: the model tests run it
# on teams of 1, 2 and 3 threads.
add_executable(distill_tsan_core_tests ${tests_dir}/doctest_main.cpp
    ${tests_dir}/core/test_student_model.cpp $<TARGET_OBJECTS:distill_core>)
foreach(kernels IN LISTS DISTILL_CPU_KERNEL_OBJECT_LIBRARIES)
    target_sources(distill_tsan_core_tests PRIVATE $<TARGET_OBJECTS:${kernels}>)
endforeach()
target_include_directories(distill_tsan_core_tests PRIVATE
    ${PROJECT_SOURCE_DIR}/core ${PROJECT_SOURCE_DIR}/capi/include ${DLPACK_INCLUDE_DIR} ${tests_dir})
target_link_libraries(distill_tsan_core_tests PRIVATE doctest::doctest OpenMP::OpenMP_CXX
    ${CMAKE_DL_LIBS} ${DISTILL_STORE_LIBRARIES} ${DISTILL_STUDENT_LIBRARIES}
    ${DISTILL_TOKENIZER_LIBRARIES})
target_compile_options(distill_tsan_core_tests PRIVATE -Wall -Wextra)
add_test(NAME distill_tsan_thread_team COMMAND distill_tsan_core_tests)
