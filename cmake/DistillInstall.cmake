# cmake --install: the shared library (SONAME libdistill.so.MAJOR), the
# headers, a CMake package (find_package(distill CONFIG) → distill::distill)
# and a pkg-config file.
include(CMakePackageConfigHelpers)

install(TARGETS distill
    EXPORT distillTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/distill)

set(DISTILL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/distill)
install(EXPORT distillTargets NAMESPACE distill:: DESTINATION ${DISTILL_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/distillConfig.cmake.in
    ${PROJECT_BINARY_DIR}/distillConfig.cmake
    INSTALL_DESTINATION ${DISTILL_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/distillConfigVersion.cmake
    COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/distillConfig.cmake
              ${PROJECT_BINARY_DIR}/distillConfigVersion.cmake
        DESTINATION ${DISTILL_CMAKE_DIR})

# distill.pc finds its prefix relative to itself (${pcfiledir}), so that
# `cmake --install --prefix <anywhere>` gives a working .pc file, not one
# pointing at the configure-time CMAKE_INSTALL_PREFIX.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
    set(DISTILL_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
    file(RELATIVE_PATH _distill_pc_up "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
    string(REGEX REPLACE "/$" "" _distill_pc_up "${_distill_pc_up}")
    set(DISTILL_PC_PREFIX "\${pcfiledir}/${_distill_pc_up}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/distill.pc.in ${PROJECT_BINARY_DIR}/distill.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/distill.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
