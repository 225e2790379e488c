# DistillSwigJava.cmake — included by bindings/swig: the JNI glue
# (libdistill_jni.so), the jar build/<tree>/java/distill.jar carrying it and
# libdistill.so.0 as resources (NativeLoader loads them), and the JUnit 5
# tests and the Java sample as CTest tests. Offline: Debian's jars only.
find_package(Java 17 REQUIRED COMPONENTS Development Runtime)
# jni.h of the JDK whose javac was found (FindJNI wants AWT as well, which a
# headless JDK lacks).
file(REAL_PATH ${Java_JAVAC_EXECUTABLE} javac_path)
get_filename_component(jdk_home ${javac_path} DIRECTORY)
get_filename_component(jdk_home ${jdk_home} DIRECTORY)
find_path(DISTILL_JNI_INCLUDE_DIR jni.h HINTS ${jdk_home}/include $ENV{JAVA_HOME}/include REQUIRED)
set(JNI_INCLUDE_DIRS ${DISTILL_JNI_INCLUDE_DIR} ${DISTILL_JNI_INCLUDE_DIR}/linux)

set(java_dir ${CMAKE_CURRENT_BINARY_DIR}/java)
set(distill_jar ${java_dir}/distill.jar)
distill_swig_glue(distill_jni java ${java_dir}/generated/ai/distill -package ai.distill -doxygen)
target_include_directories(distill_jni PRIVATE ${JNI_INCLUDE_DIRS})

file(GLOB java_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/bindings/java/ai/distill/*.java)
add_custom_command(
    OUTPUT ${distill_jar}
    COMMAND ${CMAKE_COMMAND} -DJAVAC=${Java_JAVAC_EXECUTABLE} -DJAR=${Java_JAR_EXECUTABLE}
            -DSOURCE_DIRS=${java_dir}/generated$<SEMICOLON>${PROJECT_SOURCE_DIR}/bindings/java
            -DCLASSES=${java_dir}/classes -DOUTPUT=${distill_jar}
            -DRESOURCES=$<TARGET_SONAME_FILE:distill>$<SEMICOLON>$<TARGET_FILE:distill_jni>
            -DRESOURCE_DIR=ai/distill/native
            -P ${PROJECT_SOURCE_DIR}/cmake/DistillSwigJar.cmake
    DEPENDS distill_jni distill ${java_sources} ${PROJECT_SOURCE_DIR}/cmake/DistillSwigJar.cmake
    COMMENT "Compiling the Java bindings into java/distill.jar"
    VERBATIM)
add_custom_target(distill_java ALL DEPENDS ${distill_jar})

if(DISTILL_BUILD_TESTS)
    find_file(DISTILL_JUNIT_CONSOLE junit-platform-console-standalone.jar PATHS /usr/share/java)
    find_file(DISTILL_JUNIT_API junit-jupiter-api.jar PATHS /usr/share/java)
    find_file(DISTILL_JUNIT_COMMONS junit-platform-commons.jar PATHS /usr/share/java)
    find_file(DISTILL_OPENTEST4J opentest4j.jar PATHS /usr/share/java)
    find_file(DISTILL_APIGUARDIAN apiguardian-api.jar PATHS /usr/share/java)
    if(NOT DISTILL_JUNIT_CONSOLE OR NOT DISTILL_JUNIT_API)
        message(WARNING "DISTILL_BUILD_JAVA: no JUnit 5 (Debian's junit5, which scripts/setup.sh "
                        "installs): the Java tests are not built")
    endif()
endif()
if(DISTILL_BUILD_TESTS AND DISTILL_JUNIT_CONSOLE AND DISTILL_JUNIT_API)
    set(test_jar ${java_dir}/distill-tests.jar)
    file(GLOB test_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/java/ai/distill/tests/*.java)
    set(junit_path ${DISTILL_JUNIT_API} ${DISTILL_JUNIT_COMMONS} ${DISTILL_OPENTEST4J}
                   ${DISTILL_APIGUARDIAN})
    list(FILTER junit_path EXCLUDE REGEX "NOTFOUND")
    add_custom_command(
        OUTPUT ${test_jar}
        COMMAND ${CMAKE_COMMAND} -DJAVAC=${Java_JAVAC_EXECUTABLE} -DJAR=${Java_JAR_EXECUTABLE}
                -DSOURCE_DIRS=${PROJECT_SOURCE_DIR}/tests/java -DCLASSES=${java_dir}/test-classes
                "-DCLASS_PATH=${distill_jar}$<SEMICOLON>$<JOIN:${junit_path},$<SEMICOLON>>"
                -DOUTPUT=${test_jar} -P ${PROJECT_SOURCE_DIR}/cmake/DistillSwigJar.cmake
        DEPENDS ${distill_jar} ${test_sources} ${PROJECT_SOURCE_DIR}/cmake/DistillSwigJar.cmake
        COMMENT "Compiling the Java tests"
        VERBATIM)
    add_custom_target(distill_java_tests ALL DEPENDS ${test_jar})
    # The jar loads its own native libraries (no java.library.path), as a
    # user's application would.
    add_test(NAME java_tests
             COMMAND ${Java_JAVA_EXECUTABLE} -Xcheck:jni -jar ${DISTILL_JUNIT_CONSOLE}
                     --class-path ${distill_jar}:${test_jar} --select-package ai.distill.tests
                     --disable-banner --details=summary --fail-if-no-tests)
    set_tests_properties(java_tests PROPERTIES TIMEOUT 300
                         FIXTURES_REQUIRED swig_tokenizer_reference
                         ENVIRONMENT "DISTILL_TEST_FIXTURES=${PROJECT_SOURCE_DIR}/tests/fixtures;DISTILL_TOKENIZER_REFERENCE_DIR=${DISTILL_TOKENIZER_REFERENCE_DIR}")
endif()

if(DISTILL_BUILD_SAMPLES)
    set(sample_jar ${java_dir}/distill-sample.jar)
    add_custom_command(
        OUTPUT ${sample_jar}
        COMMAND ${CMAKE_COMMAND} -DJAVAC=${Java_JAVAC_EXECUTABLE} -DJAR=${Java_JAR_EXECUTABLE}
                -DSOURCE_DIRS=${PROJECT_SOURCE_DIR}/samples/java -DCLASSES=${java_dir}/sample-classes
                -DCLASS_PATH=${distill_jar} -DOUTPUT=${sample_jar}
                -P ${PROJECT_SOURCE_DIR}/cmake/DistillSwigJar.cmake
        DEPENDS ${distill_jar} ${PROJECT_SOURCE_DIR}/samples/java/Quickstart.java
        COMMENT "Compiling the Java sample"
        VERBATIM)
    add_custom_target(distill_java_sample ALL DEPENDS ${sample_jar})
    if(DISTILL_BUILD_TESTS)
        add_test(NAME sample_java_quickstart
                 COMMAND ${Java_JAVA_EXECUTABLE} -cp ${distill_jar}:${sample_jar} Quickstart
                         ${java_dir}/sample-run)
        # The two other ways NativeLoader finds the libraries: a directory
        # named by -Ddistill.library.path, and java.library.path.
        add_test(NAME sample_java_library_path_property
                 COMMAND ${Java_JAVA_EXECUTABLE} -Ddistill.library.path=$<TARGET_FILE_DIR:distill_jni>
                         -cp ${distill_jar}:${sample_jar} Quickstart
                         ${java_dir}/sample-run-property)
        add_test(NAME sample_java_java_library_path
                 COMMAND ${Java_JAVA_EXECUTABLE} -Djava.library.path=$<TARGET_FILE_DIR:distill_jni>
                         -cp ${distill_jar}:${sample_jar} Quickstart
                         ${java_dir}/sample-run-path)
        # Each run starts from empty work directories (no store left over).
        add_test(NAME sample_java_clean
                 COMMAND ${CMAKE_COMMAND} -E rm -rf ${java_dir}/sample-run ${java_dir}/sample-run-property
                         ${java_dir}/sample-run-path)
        set_tests_properties(sample_java_clean PROPERTIES FIXTURES_SETUP distill_java_sample_dirs)
        set_tests_properties(sample_java_quickstart sample_java_library_path_property
                             sample_java_java_library_path PROPERTIES TIMEOUT 300
                             FIXTURES_REQUIRED distill_java_sample_dirs)
    endif()
endif()
