#include "device_arrays.h"

#include <string>

#include "gpu/GpuResources.h"

namespace sextant::python {

namespace {

// The DLPack ABI (dlpack.h, unversioned capsules "dltensor"), declared here
// so the bindings need no extra header.
struct DLDevice {
  int32_t device_type;
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor*);
};
constexpr int32_t kDLCUDA = 2;

std::string type_name(py::handle obj) { return py::str(py::type::handle_of(obj).attr("__name__")); }

// Makes `consumer` wait for the producer's stream as __cuda_array_interface__
// v3 describes it: None means nothing is pending; 1 and 2 are the legacy and
// per-thread default streams. Version 2 had no stream key and so no promise
// that the producer's work is done: then the whole device is waited for.
void order_after(const py::dict& cai, cudaStream_t consumer) {
  if (!cai.contains("stream")) {
    SEXTANT_CUDA_CHECK(cudaDeviceSynchronize());
    return;
  }
  py::handle stream = cai["stream"];
  if (stream.is_none()) return;
  const auto handle = stream.cast<uintptr_t>();
  cudaStream_t producer = handle == 1   ? cudaStreamLegacy
                          : handle == 2 ? cudaStreamPerThread
                                        : reinterpret_cast<cudaStream_t>(handle);
  cudaEvent_t event;
  SEXTANT_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  cudaError_t status = cudaEventRecord(event, producer);
  if (status == cudaSuccess) status = cudaStreamWaitEvent(consumer, event, 0);
  cudaEventDestroy(event);
  SEXTANT_CUDA_CHECK(status);
}

int pointer_device(const void* p) {
  cudaPointerAttributes attr{};
  SEXTANT_CUDA_CHECK(cudaPointerGetAttributes(&attr, p));
  return attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged ? attr.device : -1;
}

DeviceArray from_cuda_array_interface(const py::dict& cai, cudaStream_t consumer) {
  DeviceArray a;
  for (auto v : cai["shape"].cast<py::tuple>()) a.shape.push_back(v.cast<int64_t>());
  const std::string typestr = py::str(cai["typestr"]);
  if (typestr.size() < 3 || (typestr[0] != '<' && typestr[0] != '|')) {
    throw py::type_error("device array has an unsupported dtype '" + typestr + "' (little-endian expected)");
  }
  a.kind = typestr[1];
  a.itemsize = std::stoi(typestr.substr(2));
  a.data = reinterpret_cast<void*>(cai["data"].cast<py::tuple>()[0].cast<uintptr_t>());
  a.contiguous = true;
  if (cai.contains("strides") && !cai["strides"].is_none()) {
    int64_t expect = a.itemsize;
    auto strides = cai["strides"].cast<py::tuple>();
    for (int i = static_cast<int>(a.shape.size()) - 1; i >= 0; i--) {
      if (a.shape[i] > 1 && strides[i].cast<int64_t>() != expect) a.contiguous = false;
      expect *= a.shape[i];
    }
  }
  order_after(cai, consumer);
  a.device = a.data != nullptr ? pointer_device(a.data) : -1;
  return a;
}

}  // namespace

// A CUDA DLPack array; the producer orders its work before `consumer` (the
// array API's stream argument). A friend of DeviceArray: it hands over the capsule.
DeviceArray from_dlpack(py::handle obj, cudaStream_t consumer) {
  py::object capsule = obj.attr("__dlpack__")(py::arg("stream") = reinterpret_cast<uintptr_t>(consumer));
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
  if (managed == nullptr) throw py::error_already_set();
  PyCapsule_SetName(capsule.ptr(), "used_dltensor");  // we own the tensor now
  DeviceArray a;
  a.dlpack_ = managed;
  const DLTensor& t = managed->dl_tensor;
  a.data = static_cast<char*>(t.data) + t.byte_offset;
  a.shape.assign(t.shape, t.shape + t.ndim);
  a.kind = t.dtype.code == 2 ? 'f' : (t.dtype.code == 0 ? 'i' : (t.dtype.code == 1 ? 'u' : '?'));
  a.itemsize = t.dtype.bits / 8;
  a.device = t.device.device_id;
  a.contiguous = true;
  if (t.strides != nullptr) {
    int64_t expect = 1;
    for (int i = t.ndim - 1; i >= 0; i--) {
      if (t.shape[i] > 1 && t.strides[i] != expect) a.contiguous = false;
      expect *= t.shape[i];
    }
  }
  return a;
}

DeviceArray::DeviceArray(DeviceArray&& o) noexcept
    : data(o.data),
      shape(std::move(o.shape)),
      kind(o.kind),
      itemsize(o.itemsize),
      contiguous(o.contiguous),
      device(o.device),
      dlpack_(o.dlpack_) {
  o.dlpack_ = nullptr;
}

DeviceArray::~DeviceArray() {
  if (dlpack_ != nullptr) {
    auto* managed = static_cast<DLManagedTensor*>(dlpack_);
    if (managed->deleter) managed->deleter(managed);
  }
}

void DeviceArray::check_matrix(const char* name, int want_device, int64_t cols, char want_kind, int want_size) const {
  if (kind != want_kind || itemsize != want_size) {
    throw py::type_error(std::string(name) + " must be a " + (want_kind == 'f' ? "float" : "int") +
                         std::to_string(8 * want_size) + " device array, got dtype " + kind +
                         std::to_string(8 * itemsize));
  }
  if (shape.size() != 2) throw py::value_error(std::string(name) + " must be a 2-D device array (n, d)");
  if (cols >= 0 && shape[1] != cols) {
    throw py::value_error(std::string(name) + " must have " + std::to_string(cols) + " columns, got " +
                          std::to_string(shape[1]));
  }
  if (!contiguous) throw py::value_error(std::string(name) + " must be C-contiguous (call .contiguous() first)");
  if (shape[0] > 0 && device != want_device) {
    throw py::value_error(std::string(name) + " is on GPU " + std::to_string(device) + ", the index on GPU " +
                          std::to_string(want_device));
  }
}

std::optional<DeviceArray> device_array(py::handle obj, cudaStream_t consumer) {
  // DLPack first: its stream handshake orders the producer's pending work
  // (torch: its current stream) before `consumer`. torch's
  // __cuda_array_interface__ (version 2) carries no stream at all.
  if (py::hasattr(obj, "__dlpack__") && py::hasattr(obj, "__dlpack_device__")) {
    auto where = obj.attr("__dlpack_device__")().cast<py::tuple>();
    if (where[0].cast<int>() != kDLCUDA) return std::nullopt;  // a host array: numpy takes it
    return from_dlpack(obj, consumer);
  }
  if (py::hasattr(obj, "__cuda_array_interface__")) {
    return from_cuda_array_interface(obj.attr("__cuda_array_interface__").cast<py::dict>(), consumer);
  }
  return std::nullopt;
}

py::object device_empty_like(py::handle like, int64_t rows, int64_t cols, const char* dtype) {
  return py::module_::import("sextant.gpu").attr("_device_empty_like")(like, py::make_tuple(rows, cols), dtype);
}

}  // namespace sextant::python
