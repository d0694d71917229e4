# Installs libktune with a CMake package so another project can `find_package(ktune)`.
include(CMakePackageConfigHelpers)

install(TARGETS ktune ktune_model ktune_common ktune_tuner ktune_store ktune_workers ktune_process ktune_cuda ktune_runner_core
        EXPORT ktuneTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ktune)
# Only the public headers (cmake/KtunePublicHeaders.cmake: the entry points and what they include),
# keeping their folders (include/ktune/engine/engine.hpp), as the sources include them. Editing one
# of them re-runs the configure step, so the installed set follows its includes.
include(KtunePublicHeaders)
ktune_header_closure(KTUNE_PUBLIC_HEADERS ${PROJECT_SOURCE_DIR} ${KTUNE_PUBLIC_ROOTS})
foreach(header IN LISTS KTUNE_PUBLIC_HEADERS)
  get_filename_component(folder ${header} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${header} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ktune/${folder})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${header})
endforeach()
install(EXPORT ktuneTargets NAMESPACE ktune:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ktune)

configure_package_config_file(cmake/ktuneConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/ktuneConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ktune)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/ktuneConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ktuneConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/ktuneConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ktune)
