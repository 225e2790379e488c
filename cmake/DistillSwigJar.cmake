# DistillSwigJar.cmake — run at build time (cmake -P) because SWIG's Java
# files are known only once SWIG has run: compiles every .java under
# SOURCE_DIRS against CLASS_PATH into CLASSES, copies RESOURCES into
# CLASSES/RESOURCE_DIR, and packs CLASSES into the jar OUTPUT.
file(REMOVE_RECURSE ${CLASSES})
file(MAKE_DIRECTORY ${CLASSES})
set(sources)
foreach(dir IN LISTS SOURCE_DIRS)
    file(GLOB_RECURSE found ${dir}/*.java)
    list(APPEND sources ${found})
endforeach()
list(JOIN CLASS_PATH ":" class_path)
set(class_path_args)
if(class_path)
    set(class_path_args -classpath ${class_path})
endif()
execute_process(COMMAND ${JAVAC} -encoding UTF-8 --release 17 -Xlint:-options -d ${CLASSES}
                        ${class_path_args} ${sources}
                RESULT_VARIABLE status)
if(status)
    message(FATAL_ERROR "javac failed (${status})")
endif()
if(RESOURCES)
    file(MAKE_DIRECTORY ${CLASSES}/${RESOURCE_DIR})
    foreach(resource IN LISTS RESOURCES)
        # By its own name (libdistill.so.0), with the content of the file a
        # symlink of that name points to.
        get_filename_component(name ${resource} NAME)
        file(REAL_PATH ${resource} content)
        file(COPY_FILE ${content} ${CLASSES}/${RESOURCE_DIR}/${name})
    endforeach()
endif()
execute_process(COMMAND ${JAR} --create --file ${OUTPUT} -C ${CLASSES} . RESULT_VARIABLE status)
if(status)
    message(FATAL_ERROR "jar failed (${status})")
endif()
