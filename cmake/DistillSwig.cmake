# DistillSwig.cmake — the options of the Java and C# bindings (bindings/swig):
# each is on by default when its tools are found (scripts/setup.sh installs
# them: swig, a JDK, junit5, mono-mcs, mono-runtime), so a machine without
# them still configures and builds the rest. The sanitizer build leaves them
# off (a JVM or Mono would have to preload ASan to load the glue), and so
# does the Python wheel's build (DISTILL_BUILD_PYTHON), which ships neither.
find_program(DISTILL_SWIG_EXECUTABLE NAMES swig4.0 swig)
find_program(DISTILL_JAVAC_EXECUTABLE javac)
find_program(DISTILL_MCS_EXECUTABLE mcs)
find_program(DISTILL_MONO_EXECUTABLE mono)

set(distill_java_default OFF)
set(distill_csharp_default OFF)
if(DISTILL_SWIG_EXECUTABLE AND NOT DISTILL_SANITIZE AND NOT DISTILL_BUILD_PYTHON)
    if(DISTILL_JAVAC_EXECUTABLE)
        set(distill_java_default ON)
    endif()
    if(DISTILL_MCS_EXECUTABLE AND DISTILL_MONO_EXECUTABLE)
        set(distill_csharp_default ON)
    endif()
endif()
option(DISTILL_BUILD_JAVA "Build the Java bindings (SWIG, a JDK; JUnit 5 for the tests)"
       ${distill_java_default})
option(DISTILL_BUILD_CSHARP "Build the C# bindings (SWIG, Mono's mcs and mono)"
       ${distill_csharp_default})
if(DISTILL_SANITIZE AND (DISTILL_BUILD_JAVA OR DISTILL_BUILD_CSHARP))
    message(WARNING "DISTILL_BUILD_JAVA/DISTILL_BUILD_CSHARP are ignored with DISTILL_SANITIZE "
                    "(the JVM and Mono would need ASan preloaded)")
    set(DISTILL_BUILD_JAVA OFF)
    set(DISTILL_BUILD_CSHARP OFF)
endif()
