# Installs libktune with a CMake package so another project can `find_package(ktune)`.
include(CMakePackageConfigHelpers)

install(TARGETS ktune ktune_model ktune_common ktune_tuner ktune_store ktune_workers ktune_process ktune_cuda ktune_runner_core
        EXPORT ktuneTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ktune)
# Headers keep their folders (include/ktune/engine/engine.hpp), as the sources include them.
install(DIRECTORY engine tuner store workers
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ktune
        FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
install(EXPORT ktuneTargets NAMESPACE ktune:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ktune)

configure_package_config_file(cmake/ktuneConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/ktuneConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ktune)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/ktuneConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ktuneConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/ktuneConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ktune)
