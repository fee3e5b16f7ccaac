// Python bindings of the GPU code (module sextant._sextant.gpu), compiled
// only when SEXTANT_ENABLE_GPU is on. sextant/gpu.py is the public face.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>

#include "device_arrays.h"
#include "gpu/GpuCloner.h"
#include "gpu/GpuIndexFlat.h"
#include "gpu/GpuIndexIVFFlat.h"
#include "gpu/GpuIndexIVFPQ.h"
#include "gpu/GpuKmeans.h"
#include "gpu/kernels/Select.h"
#include "numpy_args.h"
#include "sextant/base/Error.h"
#include "sextant/utils/validate.h"

namespace sextant::python {

namespace {

using gpu::DeviceBuffer;
using gpu::GpuIndex;
using gpu::GpuResources;
using ResourcesPtr = std::shared_ptr<GpuResources>;

// Resources for `device`, with the plain statement that there is no GPU when
// there is none (the first thing a user without one meets).
ResourcesPtr make_resources(int device, size_t scratch_bytes) {
  if (gpu::device_count() == 0) {
    throw std::runtime_error(
        "no CUDA device is present (sextant.gpu.device_count() == 0): GPU indexes need an NVIDIA GPU and driver");
  }
  return std::make_shared<GpuResources>(device, scratch_bytes);
}

gpu::GemmPrecision precision_of(const std::string& name) {
  if (name == "fp32") return gpu::GemmPrecision::fp32;
  if (name == "tf32") return gpu::GemmPrecision::tf32;
  if (name == "3xtf32") return gpu::GemmPrecision::tf32x3;
  throw py::value_error("precision must be 'fp32', 'tf32' or '3xtf32', got '" + name + "'");
}

ResourcesPtr resources_or_default(const ResourcesPtr& res) {
  return res ? res : make_resources(0, GpuResources::kDefaultScratchBytes);
}

// Device outputs matching `like` (torch/CuPy), or device buffers copied into
// numpy arrays afterwards.
struct Outputs {
  py::object distances, labels;  // what the caller gets
  float* d = nullptr;
  int64_t* l = nullptr;
  DeviceBuffer<float> own_d;
  DeviceBuffer<int64_t> own_l;

  Outputs(py::handle like, int64_t rows, int64_t cols, int device, cudaStream_t stream) {
    distances = device_empty_like(like, rows, cols, "float32");
    labels = device_empty_like(like, rows, cols, "int64");
    if (!distances.is_none() && !labels.is_none()) {
      auto dd = device_array(distances, stream), ll = device_array(labels, stream);
      dd->check_matrix("distances", device, cols);
      ll->check_matrix("labels", device, cols, 'i', 8);
      d = static_cast<float*>(dd->data);
      l = static_cast<int64_t*>(ll->data);
    } else {
      own_d.reallocate(size_t(rows) * cols);
      own_l.reallocate(size_t(rows) * cols);
      d = own_d.data();
      l = own_l.data();
    }
  }
  /// The (D, I) tuple, copying to host arrays when the outputs are ours.
  py::tuple finish(GpuResources& res, int64_t rows, int64_t cols) {
    if (!own_d.empty() || rows * cols == 0) {
      auto hd = result_array<float>({rows, cols});
      auto hl = result_array<int64_t>({rows, cols});
      if (rows * cols > 0) {
        gpu::copy_to_host(res, hd.mutable_data(), d, size_t(rows) * cols * sizeof(float));
        gpu::copy_to_host(res, hl.mutable_data(), l, size_t(rows) * cols * sizeof(int64_t));
      }
      return py::make_tuple(hd, hl);
    }
    return py::make_tuple(distances, labels);
  }
};

py::tuple search(const GpuIndex& index, py::handle x, int64_t k, py::handle params, const py::kwargs& knobs) {
  SEXTANT_CHECK(k > 0, "k must be > 0, got ", k);
  SearchParams p = search_params(params, knobs);
  auto dev = device_array(x, index.resources().stream());
  if (!dev) {
    FloatMatrix xq = as_matrix(x, "x", index.d());
    const int64_t n = xq.shape(0);
    auto distances = result_array<float>({n, k});
    auto labels = result_array<int64_t>({n, k});
    py::gil_scoped_release release;
    index.search(n, xq.data(), k, distances.mutable_data(), labels.mutable_data(), p);
    return py::make_tuple(distances, labels);
  }
  dev->check_matrix("x", index.device(), index.d());
  const int64_t n = dev->shape[0];
  Outputs out(x, n, k, index.device(), index.resources().stream());
  {
    py::gil_scoped_release release;
    index.search_device(n, static_cast<const float*>(dev->data), k, out.d, out.l, p);
  }
  return out.finish(index.resources(), n, k);
}

void add(GpuIndex& index, py::handle x, py::handle ids) {
  auto dev = device_array(x, index.resources().stream());
  if (!dev) {
    FloatMatrix xa = as_matrix(x, "x", index.d());
    const int64_t n = xa.shape(0);
    if (ids.is_none()) {
      py::gil_scoped_release release;
      index.add(n, xa.data());
    } else {
      IdArray ia = as_ids(ids, "ids", n);
      py::gil_scoped_release release;
      index.add_with_ids(n, xa.data(), ia.data());
    }
    return;
  }
  dev->check_matrix("x", index.device(), index.d());
  const int64_t n = dev->shape[0];
  std::optional<IdArray> ia;
  if (!ids.is_none()) ia = as_ids(ids, "ids", n);
  py::gil_scoped_release release;
  index.add_device(n, static_cast<const float*>(dev->data), ia ? ia->data() : nullptr);
}

// Host copy of a device matrix (training runs partly on the CPU); host
// arrays pass through. d < 0: any number of columns.
FloatMatrix host_copy(py::handle x, int64_t d, GpuResources& res) {
  auto dev = device_array(x, res.stream());
  if (!dev) return d >= 0 ? as_matrix(x, "x", d) : as_matrix(x, "x");
  dev->check_matrix("x", res.device(), d);
  const int64_t cols = dev->shape[1];
  FloatMatrix out(std::vector<py::ssize_t>{dev->shape[0], cols});
  gpu::copy_to_host(res, out.mutable_data(), dev->data, size_t(dev->shape[0]) * cols * sizeof(float));
  return out;
}

py::tuple select_k(py::handle x, int64_t k, bool largest, ResourcesPtr res) {
  res = resources_or_default(res);
  auto dev = device_array(x, res->stream());
  if (!dev) {
    FloatMatrix v = as_matrix(x, "distances");
    const int64_t rows = v.shape(0), cols = v.shape(1);
    auto values = result_array<float>({rows, k});
    auto indices = result_array<int64_t>({rows, k});
    py::gil_scoped_release release;
    auto lock = res->lock();
    DeviceBuffer<float> in(size_t(rows) * cols), ov(size_t(rows) * k);
    DeviceBuffer<int64_t> oi(size_t(rows) * k);
    gpu::copy_to_device(*res, in.data(), v.data(), in.size() * sizeof(float));
    gpu::select_k(*res, in.data(), rows, cols, cols, k, largest, ov.data(), oi.data());
    gpu::copy_to_host(*res, values.mutable_data(), ov.data(), ov.size() * sizeof(float));
    gpu::copy_to_host(*res, indices.mutable_data(), oi.data(), oi.size() * sizeof(int64_t));
    return py::make_tuple(values, indices);
  }
  dev->check_matrix("distances", res->device(), -1);
  const int64_t rows = dev->shape[0], cols = dev->shape[1];
  Outputs out(x, rows, k, res->device(), res->stream());
  {
    py::gil_scoped_release release;
    auto lock = res->lock();
    gpu::select_k(*res, static_cast<const float*>(dev->data), rows, cols, cols, k, largest, out.d, out.l);
    res->synchronize();
  }
  return out.finish(*res, rows, k);
}

py::tuple kmeans(ResourcesPtr res, py::handle x, int64_t k, const KMeansParams& params, MetricType metric) {
  check_metric(metric);
  res = resources_or_default(res);
  FloatMatrix xs = host_copy(x, -1, *res);
  const int64_t n = xs.shape(0), d = xs.shape(1);
  KMeansResult r;
  {
    py::gil_scoped_release release;
    check_finite(xs.data(), n, d, "x");
    r = gpu::gpu_kmeans(res, n, d, xs.data(), k, params, metric);
  }
  auto centroids = result_array<float>({k, d});
  std::copy(r.centroids.begin(), r.centroids.end(), centroids.mutable_data());
  return py::make_tuple(centroids, py::array_t<float>(r.objective.size(), r.objective.data()));
}

}  // namespace

void bind_gpu(py::module_& parent) {
  py::module_ m = parent.def_submodule("gpu", "GPU indexes and kernels (CUDA)");
  m.def("device_count", &gpu::device_count, "Number of CUDA devices usable here (0 without GPU or driver).");

  py::class_<GpuResources, ResourcesPtr>(m, "StandardGpuResources", R"doc(
What GPU work runs on: a device, streams, a cuBLAS handle (TF32 off) and
scratch memory. Share one between indexes on the same device.)doc")
      .def(py::init(&make_resources), py::arg("device") = 0,
           py::arg("scratch_bytes") = GpuResources::kDefaultScratchBytes)
      .def_property_readonly("device", &GpuResources::device)
      .def_property_readonly("device_name", &GpuResources::device_name)
      .def_property_readonly("sm_count", &GpuResources::sm_count)
      .def("synchronize", &GpuResources::synchronize, py::call_guard<py::gil_scoped_release>());

  py::class_<GpuIndex, Index, std::shared_ptr<GpuIndex>>(m, "GpuIndex", R"doc(
Base of the GPU indexes. search/add take numpy arrays, or device arrays
(torch/CuPy tensors: __cuda_array_interface__ or DLPack) on the index's GPU;
results of a device search are device arrays of the same library (numpy when
the library is not torch or CuPy).)doc")
      .def_property_readonly("device", &GpuIndex::device)
      .def_property_readonly("resources", &GpuIndex::shared_resources)
      .def("search", &search, py::arg("x"), py::arg("k"), py::kw_only(), py::arg("params") = py::none())
      .def("add", [](GpuIndex& self, py::handle x) { add(self, x, py::none()); }, py::arg("x"))
      .def("add_with_ids", &add, py::arg("x"), py::arg("ids"))
      .def(
          "train",
          [](GpuIndex& self, py::handle x) {
            FloatMatrix xt = host_copy(x, self.d(), self.resources());
            py::gil_scoped_release release;
            self.train(xt.shape(0), xt.data());
          },
          py::arg("x"));

  py::class_<gpu::GpuIndexFlat, GpuIndex, std::shared_ptr<gpu::GpuIndexFlat>>(
      m, "GpuIndexFlat", "Exact search on the GPU (GEMM tiles + fused k-selection, k <= 2048).")
      .def(py::init([](ResourcesPtr res, int d, MetricType metric, bool use_float16, const std::string& precision) {
             return std::make_shared<gpu::GpuIndexFlat>(resources_or_default(res), d, metric,
                                                        gpu::GpuIndexFlatConfig{use_float16, precision_of(precision)});
           }),
           py::arg("res"), py::arg("d"), py::arg("metric") = MetricType::L2, py::kw_only(),
           py::arg("use_float16") = false, py::arg("precision") = "fp32",
           "precision: 'fp32' (CPU results), 'tf32' (fastest, ~1e-3 error) or '3xtf32' (fp32-level, tensor cores).")
      .def_property_readonly("use_float16", [](const gpu::GpuIndexFlat& s) { return s.config().use_float16; });
  py::class_<gpu::GpuIndexFlatL2, gpu::GpuIndexFlat, std::shared_ptr<gpu::GpuIndexFlatL2>>(m, "GpuIndexFlatL2")
      .def(py::init([](ResourcesPtr res, int d, bool use_float16, const std::string& precision) {
             return std::make_shared<gpu::GpuIndexFlatL2>(resources_or_default(res), d,
                                                          gpu::GpuIndexFlatConfig{use_float16, precision_of(precision)});
           }),
           py::arg("res"), py::arg("d"), py::kw_only(), py::arg("use_float16") = false,
           py::arg("precision") = "fp32");
  py::class_<gpu::GpuIndexFlatIP, gpu::GpuIndexFlat, std::shared_ptr<gpu::GpuIndexFlatIP>>(m, "GpuIndexFlatIP")
      .def(py::init([](ResourcesPtr res, int d, bool use_float16, const std::string& precision) {
             return std::make_shared<gpu::GpuIndexFlatIP>(resources_or_default(res), d,
                                                          gpu::GpuIndexFlatConfig{use_float16, precision_of(precision)});
           }),
           py::arg("res"), py::arg("d"), py::kw_only(), py::arg("use_float16") = false,
           py::arg("precision") = "fp32");

  py::class_<gpu::GpuIndexIVF, GpuIndex, std::shared_ptr<gpu::GpuIndexIVF>>(m, "GpuIndexIVF")
      .def_property_readonly("nlist", &gpu::GpuIndexIVF::nlist)
      .def_property("nprobe", &gpu::GpuIndexIVF::nprobe, &gpu::GpuIndexIVF::set_nprobe)
      .def_property("max_codes", &gpu::GpuIndexIVF::max_codes, &gpu::GpuIndexIVF::set_max_codes)
      .def_property_readonly("by_residual", &gpu::GpuIndexIVF::by_residual)
      .def_property_readonly("cp", &gpu::GpuIndexIVF::clustering_params, py::return_value_policy::reference_internal)
      .def("list_size", [](const gpu::GpuIndexIVF& s, size_t l) {
        SEXTANT_CHECK(l < s.nlist(), "list ", l, " does not exist: nlist is ", s.nlist());
        return s.invlists().list_size(l);
      })
      .def("assign", [](const gpu::GpuIndexIVF& self, py::handle x) {
        FloatMatrix xa = as_matrix(x, "x", self.d());
        py::array_t<int64_t> lists(xa.shape(0));
        py::gil_scoped_release release;
        self.assign_lists(xa.shape(0), xa.data(), lists.mutable_data());
        return lists;
      });
  py::class_<gpu::GpuIndexIVFFlat, gpu::GpuIndexIVF, std::shared_ptr<gpu::GpuIndexIVFFlat>>(m, "GpuIndexIVFFlat")
      .def(py::init([](ResourcesPtr res, int d, size_t nlist, MetricType metric) {
             return std::make_shared<gpu::GpuIndexIVFFlat>(resources_or_default(res), d, nlist, metric);
           }),
           py::arg("res"), py::arg("d"), py::arg("nlist"), py::arg("metric") = MetricType::L2);
  py::class_<gpu::GpuIndexIVFPQ, gpu::GpuIndexIVF, std::shared_ptr<gpu::GpuIndexIVFPQ>>(m, "GpuIndexIVFPQ")
      .def(py::init([](ResourcesPtr res, int d, size_t nlist, size_t M, size_t nbits, MetricType metric,
                       bool by_residual, bool keep_raw_vectors, bool use_fp16_tables) {
             return std::make_shared<gpu::GpuIndexIVFPQ>(resources_or_default(res), d, nlist, M, nbits, metric,
                                                         by_residual,
                                                         gpu::GpuIndexIVFPQConfig{keep_raw_vectors, use_fp16_tables});
           }),
           py::arg("res"), py::arg("d"), py::arg("nlist"), py::arg("M"), py::arg("nbits") = 8,
           py::arg("metric") = MetricType::L2, py::kw_only(), py::arg("by_residual") = true,
           py::arg("keep_raw_vectors") = false, py::arg("use_fp16_tables") = false)
      .def_property_readonly("M", [](const gpu::GpuIndexIVFPQ& s) { return s.pq().M(); })
      .def_property_readonly("nbits", [](const gpu::GpuIndexIVFPQ& s) { return s.pq().nbits(); })
      .def_property_readonly("code_size", [](const gpu::GpuIndexIVFPQ& s) { return s.pq().code_size(); })
      .def_property_readonly("uses_precomputed_table", &gpu::GpuIndexIVFPQ::uses_precomputed_table)
      .def_property_readonly("uses_fp16_tables", &gpu::GpuIndexIVFPQ::uses_fp16_tables)
      .def_property("k_factor", &gpu::GpuIndexIVFPQ::k_factor, &gpu::GpuIndexIVFPQ::set_k_factor)
      .def_property_readonly("pq_cp", &gpu::GpuIndexIVFPQ::pq_train_params, py::return_value_policy::reference_internal,
                             "k-means parameters of the sub-quantizers (niter 25, at most 256 points per centroid).");

  m.def(
      "index_cpu_to_gpu",
      [](ResourcesPtr res, int device, const Index& index, bool use_float16, const std::string& precision) {
        const gpu::GpuClonerOptions options{use_float16, precision_of(precision)};
        res = resources_or_default(res);
        py::gil_scoped_release release;
        std::shared_ptr<GpuIndex> out = gpu::index_cpu_to_gpu(res, device, index, options);
        return out;
      },
      py::arg("res"), py::arg("device"), py::arg("index"), py::kw_only(), py::arg("use_float16") = false,
      py::arg("precision") = "fp32", "A GPU copy of an IndexFlat, IndexIVFFlat or IndexIVFPQ.");
  m.def(
      "index_gpu_to_cpu",
      [](const Index& index) {
        py::gil_scoped_release release;
        std::shared_ptr<Index> out = gpu::index_gpu_to_cpu(index);
        return out;
      },
      py::arg("index"), "The CPU copy of a GPU index.");
  m.def("select_k", &select_k, py::arg("distances"), py::arg("k"), py::arg("largest") = false,
        py::arg("res") = nullptr);
  m.def("kmeans", &kmeans, py::arg("res"), py::arg("x"), py::arg("k"), py::arg("params"),
        py::arg("metric") = MetricType::L2);
}

}  // namespace sextant::python
