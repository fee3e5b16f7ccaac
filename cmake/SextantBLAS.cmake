# Defines the imported target sextant_blas (BLAS + LAPACK).
#
# Prefers the OpenMP build of OpenBLAS (Debian: libopenblas-openmp-dev): inside
# an OpenMP parallel region it runs on the calling thread, so the library's own
# threads and BLAS threads never oversubscribe the cores, and outside one it
# follows the OpenMP thread count the caller sets. OpenBLAS carries LAPACK.
if(TARGET sextant_blas)
  return()
endif()

find_library(SEXTANT_OPENBLAS_OPENMP NAMES openblas
             PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp
                   /usr/lib64/openblas-openmp /usr/lib/openblas-openmp
             NO_DEFAULT_PATH)
add_library(sextant_blas INTERFACE IMPORTED)
if(SEXTANT_OPENBLAS_OPENMP)
  message(STATUS "sextant: BLAS/LAPACK from ${SEXTANT_OPENBLAS_OPENMP} (OpenBLAS, OpenMP threading)")
  target_link_libraries(sextant_blas INTERFACE ${SEXTANT_OPENBLAS_OPENMP})
else()
  set(BLA_VENDOR OpenBLAS)
  find_package(BLAS)
  if(NOT BLAS_FOUND)
    unset(BLA_VENDOR)
    find_package(BLAS REQUIRED)
  endif()
  find_package(LAPACK REQUIRED)
  message(STATUS "sextant: BLAS ${BLAS_LIBRARIES}; LAPACK ${LAPACK_LIBRARIES} "
                 "(not the OpenMP OpenBLAS: BLAS threads may oversubscribe inside parallel regions)")
  target_link_libraries(sextant_blas INTERFACE ${LAPACK_LIBRARIES} ${BLAS_LIBRARIES})
endif()
