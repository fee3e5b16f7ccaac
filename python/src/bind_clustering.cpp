// Python bindings of k-means: its parameters and Clustering.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "numpy_args.h"
#include "sextant/Clustering.h"

namespace sextant::python {

void bind_clustering(py::module_& m) {
  py::enum_<KMeansInit>(m, "KMeansInit")
      .value("random", KMeansInit::random)
      .value("kmeans_plus_plus", KMeansInit::kmeans_plus_plus);

  py::class_<KMeansParams>(m, "KMeansParams", "Parameters of k-means (Faiss's defaults).")
      .def(py::init<>())
      .def_readwrite("niter", &KMeansParams::niter)
      .def_readwrite("nredo", &KMeansParams::nredo)
      .def_readwrite("spherical", &KMeansParams::spherical)
      .def_readwrite("init", &KMeansParams::init)
      .def_readwrite("seed", &KMeansParams::seed)
      .def_readwrite("max_points_per_centroid", &KMeansParams::max_points_per_centroid)
      .def_readwrite("min_points_per_centroid", &KMeansParams::min_points_per_centroid)
      .def_readwrite("verbose", &KMeansParams::verbose);

  py::class_<Clustering>(m, "Clustering", "k-means; the assignment step is exact GEMM search or any index.")
      .def(py::init<int, int, const KMeansParams&, MetricType>(), py::arg("d"), py::arg("k"),
           py::arg("params") = KMeansParams(), py::arg("metric") = MetricType::L2)
      .def(
          "train",
          [](Clustering& self, py::handle x, Index* assigner) {
            FloatMatrix xt = as_matrix(x, "x", self.d());
            py::gil_scoped_release release;
            self.train(xt.shape(0), xt.data(), assigner);
          },
          py::arg("x"), py::arg("index") = nullptr,
          "Runs k-means on x; `index` (empty, dimension d) does the assignment step when given.")
      .def_property_readonly("d", &Clustering::d)
      .def_property_readonly("k", &Clustering::k)
      .def_property_readonly("centroids",
                             [](const Clustering& self) {
                               const auto& c = self.centroids();
                               py::array_t<float> out(std::vector<py::ssize_t>{
                                   static_cast<py::ssize_t>(c.size() / self.d()), self.d()});
                               std::copy(c.begin(), c.end(), out.mutable_data());
                               return out;
                             })
      .def_property_readonly("obj", [](const Clustering& self) {
        return py::array_t<float>(self.objective().size(), self.objective().data());
      });
}

}  // namespace sextant::python
