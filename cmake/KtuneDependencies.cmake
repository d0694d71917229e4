# Every dependency is found on the system, never downloaded (the README's setup installs them).
find_package(Threads REQUIRED)
find_package(TBB REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(ZLIB REQUIRED)  # Kernel Tuner caches are gzip files (engine/kernel_tuner_import.cpp)
find_package(PkgConfig REQUIRED)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)

# The CUDA toolkit gives NVRTC (linked: it works without a driver) and the driver/CUPTI headers.
# libcuda and libcupti are never linked: they are dlopen'ed at run time so binaries start where
# there is no GPU driver (DESIGN.md).
if(NOT CUDAToolkit_ROOT AND EXISTS /usr/local/cuda)
  set(CUDAToolkit_ROOT /usr/local/cuda)
endif()
find_package(CUDAToolkit 12.0 REQUIRED)
# CMake's CUDA::nvrtc target also links CUDA::cuda_driver (libcuda): some link lines (a sanitizer
# build, a linker without --as-needed) then record libcuda.so.1 as needed and the binaries no
# longer start where there is no driver. ktune links the NVRTC library file itself.
set(KTUNE_NVRTC_LIBRARY "${CUDA_nvrtc_LIBRARY}")
if(NOT KTUNE_NVRTC_LIBRARY)
  message(FATAL_ERROR "NVRTC (libnvrtc) was not found in the CUDA toolkit at ${CUDAToolkit_LIBRARY_DIR}")
endif()

if(KTUNE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
