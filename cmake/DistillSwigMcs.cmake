# DistillSwigMcs.cmake — run at build time (cmake -P) because SWIG's C#
# files are known only once SWIG has run: compiles every .cs under
# SOURCE_DIRS with Mono's mcs into OUTPUT (TARGET library or exe),
# referencing REFERENCES, with XML docs into DOC when given.
set(sources)
foreach(dir IN LISTS SOURCE_DIRS)
    file(GLOB_RECURSE found ${dir}/*.cs)
    list(APPEND sources ${found})
endforeach()
set(args -nologo -target:${TARGET} -out:${OUTPUT} -warn:4 -nowarn:1591)
foreach(reference IN LISTS REFERENCES)
    list(APPEND args -r:${reference})
endforeach()
if(DOC)
    list(APPEND args -doc:${DOC})
endif()
execute_process(COMMAND ${MCS} ${args} ${sources} RESULT_VARIABLE status)
if(status)
    message(FATAL_ERROR "mcs failed (${status})")
endif()
