# DistillSwigCSharp.cmake — included by bindings/swig: the P/Invoke glue
# (libdistill_csharp.so), the assembly Distill.dll compiled by Mono's mcs,
# all in build/<tree>/bindings/swig/csharp/ (Mono finds the glue beside the
# assembly, the glue finds libdistill.so.0 through its RPATH), and the C#
# tests and sample as CTest tests run by mono.
set(csharp_dir ${CMAKE_CURRENT_BINARY_DIR}/csharp)
set(distill_dll ${csharp_dir}/Distill.dll)
distill_swig_glue(distill_csharp csharp ${csharp_dir}/generated -namespace Distill)
set_target_properties(distill_csharp PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${csharp_dir}
                      BUILD_RPATH "$ORIGIN;$<TARGET_FILE_DIR:distill>")

file(GLOB csharp_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/bindings/csharp/*.cs)
add_custom_command(
    OUTPUT ${distill_dll}
    COMMAND ${CMAKE_COMMAND} -DMCS=${DISTILL_MCS_EXECUTABLE} -DTARGET=library
            -DSOURCE_DIRS=${csharp_dir}/generated$<SEMICOLON>${PROJECT_SOURCE_DIR}/bindings/csharp
            -DOUTPUT=${distill_dll} -DDOC=${csharp_dir}/Distill.xml
            -P ${PROJECT_SOURCE_DIR}/cmake/DistillSwigMcs.cmake
    DEPENDS distill_csharp ${csharp_sources} ${PROJECT_SOURCE_DIR}/cmake/DistillSwigMcs.cmake
    COMMENT "Compiling the C# bindings into csharp/Distill.dll"
    VERBATIM)
add_custom_target(distill_csharp_assembly ALL DEPENDS ${distill_dll})

# distill_csharp_program(NAME SOURCE_DIR): an executable beside Distill.dll.
function(distill_csharp_program name source_dir)
    file(GLOB sources CONFIGURE_DEPENDS ${source_dir}/*.cs)
    add_custom_command(
        OUTPUT ${csharp_dir}/${name}.exe
        COMMAND ${CMAKE_COMMAND} -DMCS=${DISTILL_MCS_EXECUTABLE} -DTARGET=exe
                -DSOURCE_DIRS=${source_dir} -DREFERENCES=${distill_dll}
                -DOUTPUT=${csharp_dir}/${name}.exe
                -P ${PROJECT_SOURCE_DIR}/cmake/DistillSwigMcs.cmake
        DEPENDS ${distill_dll} ${sources} ${PROJECT_SOURCE_DIR}/cmake/DistillSwigMcs.cmake
        COMMENT "Compiling ${name}.exe"
        VERBATIM)
    add_custom_target(distill_csharp_${name} ALL DEPENDS ${csharp_dir}/${name}.exe)
endfunction()

if(DISTILL_BUILD_TESTS)
    distill_csharp_program(DistillTests ${PROJECT_SOURCE_DIR}/tests/csharp)
    add_test(NAME csharp_tests COMMAND ${DISTILL_MONO_EXECUTABLE} --debug
                                       ${csharp_dir}/DistillTests.exe)
    set_tests_properties(csharp_tests PROPERTIES TIMEOUT 300
                         FIXTURES_REQUIRED swig_tokenizer_reference
                         ENVIRONMENT "DISTILL_TOKENIZER_REFERENCE_DIR=${DISTILL_TOKENIZER_REFERENCE_DIR}")
endif()
if(DISTILL_BUILD_SAMPLES)
    distill_csharp_program(Quickstart ${PROJECT_SOURCE_DIR}/samples/csharp)
    if(DISTILL_BUILD_TESTS)
        add_test(NAME sample_csharp_quickstart
                 COMMAND ${DISTILL_MONO_EXECUTABLE} ${csharp_dir}/Quickstart.exe
                         ${csharp_dir}/sample-run)
        # Each run starts from an empty work directory (no store left over).
        add_test(NAME sample_csharp_clean COMMAND ${CMAKE_COMMAND} -E rm -rf ${csharp_dir}/sample-run)
        set_tests_properties(sample_csharp_clean PROPERTIES FIXTURES_SETUP distill_csharp_sample_dir)
        set_tests_properties(sample_csharp_quickstart PROPERTIES TIMEOUT 300
                             FIXTURES_REQUIRED distill_csharp_sample_dir)
    endif()
endif()
