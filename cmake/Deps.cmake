# Finds every library quire links. Facts behind each choice are in
# shared/HPC.md §2-3: parallel HDF5 must be preferred explicitly, MuPDF is
# static-only and its .pc omits harfbuzz, CUDA is found through nvcc.

find_package(MPI REQUIRED COMPONENTS C)

set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "quire needs parallel HDF5 but found a serial build at ${HDF5_INCLUDE_DIRS}: "
                      "install libhdf5-openmpi-dev (scripts/install-deps.sh does)")
endif()

find_package(PkgConfig REQUIRED)
pkg_check_modules(TIFF REQUIRED IMPORTED_TARGET libtiff-4)
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
pkg_check_modules(MUPDF REQUIRED mupdf)
pkg_check_modules(HARFBUZZ REQUIRED IMPORTED_TARGET harfbuzz)
add_library(quire_mupdf INTERFACE)
target_include_directories(quire_mupdf SYSTEM INTERFACE ${MUPDF_STATIC_INCLUDE_DIRS})
target_link_directories(quire_mupdf INTERFACE ${MUPDF_STATIC_LIBRARY_DIRS})
target_link_libraries(quire_mupdf INTERFACE ${MUPDF_STATIC_LIBRARIES} PkgConfig::HARFBUZZ)

# optional: the check that the MPI runtime tells nodes apart (src/run/nodes.c);
# Debian's libopenmpi-dev brings it
pkg_check_modules(PMIX IMPORTED_TARGET pmix)

find_package(Threads REQUIRED)
find_package(OpenMP COMPONENTS C)

# ---- optional CUDA + cuDNN ----
option(QUIRE_CUDA "Build the CUDA backend when nvcc and cuDNN are present" ON)
set(QUIRE_HAVE_CUDA OFF)
if(QUIRE_CUDA)
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    find_package(CUDAToolkit QUIET)
    if(CUDAToolkit_FOUND)
      find_path(CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS} ENV CUDNN_ROOT PATH_SUFFIXES include)
      find_library(CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR} ENV CUDNN_ROOT PATH_SUFFIXES lib64 lib)
      if(CUDNN_INCLUDE_DIR AND CUDNN_LIBRARY)
        if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
          set(CMAKE_CUDA_ARCHITECTURES 80 90)
        endif()
        enable_language(CUDA)
        set(QUIRE_HAVE_CUDA ON)
      endif()
    endif()
  endif()
endif()
message(STATUS "quire: MPI ${MPI_C_VERSION}, HDF5 ${HDF5_VERSION} (parallel), MuPDF static, "
               "OpenBLAS ${OPENBLAS_VERSION}, OpenMP ${OpenMP_C_FOUND}, nvcc+cuDNN found ${QUIRE_HAVE_CUDA} "
               "(the CUDA backend in kernels/cuda is built when it exists)")
