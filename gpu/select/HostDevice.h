// Marks code that compiles both as CUDA device code and as plain C++, so the
// selection networks and the tiling arithmetic run (and are tested) on CPUs.
#pragma once

#if defined(__CUDACC__)
#define SEXTANT_HD __host__ __device__ __forceinline__
#define SEXTANT_DEVICE __device__ __forceinline__
#else
#define SEXTANT_HD inline
#endif
