// Python bindings of vector transforms and IndexPreTransform.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "numpy_args.h"
#include "sextant/IndexPreTransform.h"
#include "sextant/VectorTransform.h"
#include "sextant/base/Error.h"

namespace sextant::python {

namespace {

py::array_t<float> to_array(const std::vector<float>& v, std::vector<py::ssize_t> shape) {
  py::array_t<float> out(shape);
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

}  // namespace

void bind_transforms(py::module_& m) {
  py::class_<VectorTransform, std::shared_ptr<VectorTransform>>(m, "VectorTransform",
                                                               "Maps d_in-dimensional vectors to d_out dimensions.")
      .def_property_readonly("d_in", &VectorTransform::d_in)
      .def_property_readonly("d_out", &VectorTransform::d_out)
      .def_property_readonly("is_trained", &VectorTransform::is_trained)
      .def_property_readonly("type_name", &VectorTransform::type_name)
      .def(
          "train",
          [](VectorTransform& self, py::handle x) {
            FloatMatrix xt = as_matrix(x, "x", self.d_in());
            py::gil_scoped_release release;
            self.train(xt.shape(0), xt.data());
          },
          py::arg("x"))
      .def(
          "apply",
          [](const VectorTransform& self, py::handle x) {
            FloatMatrix xa = as_matrix(x, "x", self.d_in());
            py::array_t<float> out(std::vector<py::ssize_t>{xa.shape(0), self.d_out()});
            py::gil_scoped_release release;
            self.apply(xa.shape(0), xa.data(), out.mutable_data());
            return out;
          },
          py::arg("x"), "The (n, d_out) transformed vectors.")
      .def(
          "reverse_transform",
          [](const VectorTransform& self, py::handle xt) {
            FloatMatrix xa = as_matrix(xt, "xt", self.d_out());
            py::array_t<float> out(std::vector<py::ssize_t>{xa.shape(0), self.d_in()});
            py::gil_scoped_release release;
            self.reverse_transform(xa.shape(0), xa.data(), out.mutable_data());
            return out;
          },
          py::arg("xt"), "Back to d_in dimensions, where the transform has an inverse.");

  py::class_<LinearTransform, VectorTransform, std::shared_ptr<LinearTransform>>(m, "LinearTransform", "y = A x + b.")
      .def(py::init<int, int>(), py::arg("d_in"), py::arg("d_out"))
      .def_property_readonly("A", [](const LinearTransform& t) { return to_array(t.A(), {t.d_out(), t.d_in()}); })
      .def_property_readonly("b", [](const LinearTransform& t) { return to_array(t.b(), {py::ssize_t(t.b().size())}); })
      .def_property_readonly("is_orthonormal", &LinearTransform::is_orthonormal)
      .def(
          "set_matrix",
          [](LinearTransform& t, py::handle A, py::handle b) {
            FloatMatrix a = as_matrix(A, "A", t.d_in());
            SEXTANT_CHECK(a.shape(0) == t.d_out(), "A must have shape (", t.d_out(), ", ", t.d_in(), ")");
            std::vector<float> bv;
            if (!b.is_none()) {
              FloatMatrix bb = as_matrix(py::module_::import("numpy").attr("reshape")(b, py::make_tuple(1, -1)), "b",
                                         t.d_out());
              bv.assign(bb.data(), bb.data() + t.d_out());
            }
            t.set_matrix(std::vector<float>(a.data(), a.data() + a.size()), std::move(bv));
          },
          py::arg("A"), py::arg("b") = py::none(), "Sets y = A x + b (trained transforms, loading).");

  py::class_<RandomRotationMatrix, LinearTransform, std::shared_ptr<RandomRotationMatrix>>(m, "RandomRotationMatrix")
      .def(py::init<int, int, uint64_t>(), py::arg("d_in"), py::arg("d_out"), py::arg("seed") = 12345);

  py::class_<PCAMatrix, LinearTransform, std::shared_ptr<PCAMatrix>>(m, "PCAMatrix",
                                                                    "PCA (eigen_power=-0.5 whitens).")
      .def(py::init<int, int, float, bool>(), py::arg("d_in"), py::arg("d_out"), py::arg("eigen_power") = 0.0f,
           py::arg("random_rotation") = false)
      .def_property_readonly("eigen_power", &PCAMatrix::eigen_power)
      .def_property_readonly("random_rotation", &PCAMatrix::random_rotation)
      .def_property_readonly("eigenvalues",
                             [](const PCAMatrix& t) { return to_array(t.eigenvalues(), {py::ssize_t(t.eigenvalues().size())}); })
      .def_property_readonly("mean", [](const PCAMatrix& t) { return to_array(t.mean(), {py::ssize_t(t.mean().size())}); });

  py::class_<OPQMatrix, LinearTransform, std::shared_ptr<OPQMatrix>>(m, "OPQMatrix",
                                                                    "Rotation trained for product quantization.")
      .def(py::init<int, int, int>(), py::arg("d"), py::arg("M"), py::arg("d2") = -1)
      .def_property_readonly("M", &OPQMatrix::M)
      .def_readwrite("niter", &OPQMatrix::niter)
      .def_readwrite("niter_pq", &OPQMatrix::niter_pq)
      .def_readwrite("niter_pq_0", &OPQMatrix::niter_pq_0)
      .def_readwrite("max_train_points", &OPQMatrix::max_train_points)
      .def_readwrite("seed", &OPQMatrix::seed)
      .def_readwrite("verbose", &OPQMatrix::verbose);

  py::class_<NormalizationTransform, VectorTransform, std::shared_ptr<NormalizationTransform>>(
      m, "NormalizationTransform", "Scales vectors to unit L2 norm.")
      .def(py::init<int>(), py::arg("d"));

  py::class_<IndexPreTransform, Index, std::shared_ptr<IndexPreTransform>>(
      m, "IndexPreTransform", "An index behind a chain of vector transforms.")
      .def(py::init<std::shared_ptr<VectorTransform>, std::shared_ptr<Index>>(), py::arg("transform"),
           py::arg("index"))
      .def(py::init<std::vector<std::shared_ptr<VectorTransform>>, std::shared_ptr<Index>>(), py::arg("chain"),
           py::arg("index"))
      .def_property_readonly("chain", &IndexPreTransform::chain)
      .def_property_readonly("index", &IndexPreTransform::index)
      .def("prepend_transform", &IndexPreTransform::prepend_transform, py::arg("transform"))
      .def(
          "apply_chain",
          [](const IndexPreTransform& self, py::handle x) {
            FloatMatrix xa = as_matrix(x, "x", self.d());
            py::array_t<float> out(std::vector<py::ssize_t>{xa.shape(0), self.index()->d()});
            py::gil_scoped_release release;
            self.apply_chain(xa.shape(0), xa.data(), out.mutable_data());
            return out;
          },
          py::arg("x"));
}

}  // namespace sextant::python
