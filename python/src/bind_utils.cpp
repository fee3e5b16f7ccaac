// Python bindings of free functions: brute-force search, distances, threads, build facts.
#include <omp.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "numpy_args.h"
#include "sextant/base/Error.h"
#include "sextant/base/threads.h"
#include "sextant/utils/blas.h"
#include "sextant/utils/distances.h"
#include "sextant/utils/knn.h"
#include "sextant/utils/simd_level.h"
#include "sextant/utils/validate.h"

namespace sextant::python {

void bind_utils(py::module_& m) {
  m.def(
      "knn",
      [](py::handle xq, py::handle xb, int64_t k, MetricType metric, const std::shared_ptr<IDSelector>& sel) {
        SEXTANT_CHECK(k > 0, "k must be > 0, got ", k);
        FloatMatrix b = as_matrix(xb, "xb");
        FloatMatrix q = as_matrix(xq, "xq", b.shape(1));
        const int64_t n = q.shape(0);
        auto distances = result_array<float>({n, k});
        auto labels = result_array<int64_t>({n, k});
        {
          py::gil_scoped_release release;
          knn(q.data(), n, VectorSet{b.data(), static_cast<size_t>(b.shape(0)), static_cast<size_t>(b.shape(1))},
              k, metric, distances.mutable_data(), labels.mutable_data(), sel.get());
        }
        return py::make_tuple(distances, labels);
      },
      py::arg("xq"), py::arg("xb"), py::arg("k"), py::arg("metric") = MetricType::L2, py::arg("sel") = nullptr,
      "Exact k nearest neighbours of the queries xq among the rows of xb, without an index: returns (D, I).");

  m.def(
      "pairwise_distances",
      [](py::handle xq, py::handle xb, MetricType metric) {
        FloatMatrix b = as_matrix(xb, "xb");
        FloatMatrix q = as_matrix(xq, "xq", b.shape(1));
        py::array_t<float> out(std::vector<py::ssize_t>{q.shape(0), b.shape(0)});
        {
          py::gil_scoped_release release;
          check_finite(q.data(), q.shape(0), q.shape(1), "xq");
          check_finite(b.data(), b.shape(0), b.shape(1), "xb");
          pairwise_distances(q.data(), q.shape(0), b.data(), b.shape(0), b.shape(1), metric, out.mutable_data());
        }
        return out;
      },
      py::arg("xq"), py::arg("xb"), py::arg("metric") = MetricType::L2,
      "The (nq, nb) matrix of squared L2 distances (or inner products) between rows of xq and xb.");

  m.def(
      "normalize_L2",
      [](py::array x) {
        if (!py::isinstance<py::array_t<float>>(x) || !(x.flags() & py::array::c_style) || x.ndim() != 2 ||
            !x.writeable()) {
          throw py::type_error("normalize_L2 works in place on a writeable C-contiguous float32 (n, d) array");
        }
        auto a = x.cast<py::array_t<float, py::array::c_style>>();
        py::gil_scoped_release release;
        normalize_L2(a.mutable_data(), a.shape(0), a.shape(1));
      },
      py::arg("x"), "Scales each row of the float32 (n, d) array x to unit L2 norm, in place.");

  m.def(
      "simd_level", [] { return std::string(to_string(simd_level())); },
      "The SIMD kernels in use: 'scalar', 'avx2', 'avx512' or 'avx512icl' (SEXTANT_SIMD forces one).");
  m.def("set_num_threads", &set_num_threads, py::arg("n"),
        "Threads for the library's parallel work (OpenMP). The library never changes it itself.");
  m.def("get_num_threads", &get_num_threads);
  m.def(
      "build_info",
      [] {
        py::dict info;
        info["version"] = SEXTANT_VERSION;
        info["simd_level"] = to_string(simd_level());
        py::list levels;
        for (SimdLevel level : kSimdLevels) {
          if (simd_level_available(level)) levels.append(to_string(level));
        }
        info["simd_levels_available"] = levels;
        info["blas"] = blas_info();
        info["openmp"] = _OPENMP;
        info["num_threads"] = get_num_threads();
        return info;
      },
      "Facts about this build: version, SIMD levels, BLAS, OpenMP.");
}

}  // namespace sextant::python
