// Arrays in GPU memory handed over from Python: anything with
// __cuda_array_interface__ (torch, CuPy, Numba) or a CUDA __dlpack__ (JAX...).
#pragma once

#include <cuda_runtime_api.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace sextant::python {

namespace py = pybind11;

/// A borrowed view of a device array. For DLPack the capsule's tensor is
/// released when the view goes away.
class DeviceArray {
 public:
  DeviceArray() = default;
  DeviceArray(DeviceArray&& other) noexcept;
  DeviceArray& operator=(DeviceArray&&) = delete;
  DeviceArray(const DeviceArray&) = delete;
  ~DeviceArray();

  void* data = nullptr;
  std::vector<int64_t> shape;
  char kind = 0;       ///< 'f', 'i', 'u'
  int itemsize = 0;    ///< bytes per element
  bool contiguous = false;  ///< C order
  int device = -1;

  /// Throws TypeError / ValueError naming `name` unless this is a C-contiguous
  /// 2-D float32 array on `device` (with `cols` columns when cols >= 0).
  void check_matrix(const char* name, int device, int64_t cols, char want_kind = 'f', int want_size = 4) const;

 private:
  friend DeviceArray from_dlpack(py::handle, cudaStream_t);
  void* dlpack_ = nullptr;  // DLManagedTensor to release
};

/// The device array behind obj, or nullopt when obj is not one (a numpy
/// array, a list, a CPU tensor...). The producer's pending work is ordered
/// before `consumer` (the stream that will read or write the array): through
/// DLPack's stream argument (preferred: torch, CuPy, JAX), else the stream of
/// __cuda_array_interface__ v3 (a v2 interface, which names none, waits for the device).
std::optional<DeviceArray> device_array(py::handle obj, cudaStream_t consumer);

/// A new (rows, cols) device array of dtype "float32" or "int64" of the same
/// library and device as `like` (torch, CuPy), or None when that library is
/// not known: results then come back as numpy arrays.
py::object device_empty_like(py::handle like, int64_t rows, int64_t cols, const char* dtype);

}  // namespace sextant::python
