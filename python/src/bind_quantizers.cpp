// Python bindings of the vector codecs: the scalar quantizer and the product quantizer.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "numpy_args.h"
#include "sextant/base/Error.h"
#include "sextant/impl/ProductQuantizer.h"
#include "sextant/impl/ScalarQuantizer.h"
#include "sextant/utils/validate.h"

namespace sextant::python {

namespace {

// train, compute_codes and decode, which both quantizers have; `name` says
// which one in errors ("the scalar quantizer is not trained").
template <class Quantizer>
void def_codec(py::class_<Quantizer>& cls, const char* name) {
  const std::string untrained = std::string("the ") + name + " is not trained: call train() first";
  cls.def(
         "train",
         [](Quantizer& self, py::handle x) {
           FloatMatrix xt = as_matrix(x, "x", static_cast<int64_t>(self.d()));
           py::gil_scoped_release release;
           check_finite(xt.data(), xt.shape(0), self.d(), "x");
           self.train(xt.shape(0), xt.data());
         },
         py::arg("x"))
      .def(
          "compute_codes",
          [untrained](const Quantizer& self, py::handle x) {
            FloatMatrix xa = as_matrix(x, "x", static_cast<int64_t>(self.d()));
            SEXTANT_CHECK(self.is_trained(), untrained);
            py::array_t<uint8_t> codes(
                std::vector<py::ssize_t>{xa.shape(0), static_cast<py::ssize_t>(self.code_size())});
            py::gil_scoped_release release;
            check_finite(xa.data(), xa.shape(0), self.d(), "x");
            self.encode(xa.shape(0), xa.data(), codes.mutable_data());
            return codes;
          },
          py::arg("x"), "Codes of (n, d) vectors as (n, code_size) uint8.")
      .def(
          "decode",
          [untrained](const Quantizer& self, py::array_t<uint8_t, py::array::c_style | py::array::forcecast> codes) {
            const auto size = static_cast<py::ssize_t>(self.code_size());
            SEXTANT_CHECK(codes.ndim() == 2 && codes.shape(1) == size, "codes must have shape (n, ", size, ")");
            SEXTANT_CHECK(self.is_trained(), untrained);
            py::array_t<float> out(std::vector<py::ssize_t>{codes.shape(0), static_cast<py::ssize_t>(self.d())});
            py::gil_scoped_release release;
            self.decode(codes.shape(0), codes.data(), out.mutable_data());
            return out;
          },
          py::arg("codes"));
}

}  // namespace

void bind_quantizers(py::module_& m) {
  py::enum_<QuantizerType>(m, "QuantizerType")
      .value("QT_8bit", QuantizerType::QT_8bit)
      .value("QT_4bit", QuantizerType::QT_4bit)
      .value("QT_8bit_uniform", QuantizerType::QT_8bit_uniform)
      .value("QT_4bit_uniform", QuantizerType::QT_4bit_uniform)
      .value("QT_fp16", QuantizerType::QT_fp16)
      .value("QT_8bit_direct", QuantizerType::QT_8bit_direct)
      .value("QT_6bit", QuantizerType::QT_6bit)
      .value("QT_bf16", QuantizerType::QT_bf16)
      .value("QT_8bit_direct_signed", QuantizerType::QT_8bit_direct_signed);

  auto sq = py::class_<ScalarQuantizer>(m, "ScalarQuantizer", "Encodes each component on its own (8/6/4 bits, fp16, bf16).")
                .def(py::init<size_t, QuantizerType>(), py::arg("d"), py::arg("qtype"))
                .def_property_readonly("d", &ScalarQuantizer::d)
                .def_property_readonly("qtype", &ScalarQuantizer::type)
                .def_property_readonly("code_size", &ScalarQuantizer::code_size)
                .def_property_readonly("is_trained", &ScalarQuantizer::is_trained)
                .def_property_readonly("trained",
                                       [](const ScalarQuantizer& s) {
                                         return py::array_t<float>(s.trained().size(), s.trained().data());
                                       });
  def_codec(sq, "scalar quantizer");
  for (auto value : {QuantizerType::QT_8bit, QuantizerType::QT_4bit, QuantizerType::QT_8bit_uniform,
                     QuantizerType::QT_4bit_uniform, QuantizerType::QT_fp16, QuantizerType::QT_8bit_direct,
                     QuantizerType::QT_6bit, QuantizerType::QT_bf16, QuantizerType::QT_8bit_direct_signed}) {
    sq.attr(py::str(py::cast(value).attr("name"))) = value;  // sx.ScalarQuantizer.QT_8bit, as in Faiss
  }

  py::class_<ProductQuantizer> pq(m, "ProductQuantizer",
                                  "M sub-quantizers of nbits each over d / M dimensional sub-vectors.");
  pq.def(py::init<size_t, size_t, size_t>(), py::arg("d"), py::arg("M"), py::arg("nbits") = 8)
      .def_property_readonly("d", &ProductQuantizer::d)
      .def_property_readonly("M", &ProductQuantizer::M)
      .def_property_readonly("nbits", &ProductQuantizer::nbits)
      .def_property_readonly("dsub", &ProductQuantizer::dsub)
      .def_property_readonly("ksub", &ProductQuantizer::ksub)
      .def_property_readonly("code_size", &ProductQuantizer::code_size)
      .def_property_readonly("is_trained", &ProductQuantizer::is_trained)
      .def_property_readonly("cp", static_cast<KMeansParams& (ProductQuantizer::*)()>(&ProductQuantizer::train_params),
                             py::return_value_policy::reference_internal, "k-means parameters of each subspace.")
      .def_property("anisotropic_threshold", &ProductQuantizer::anisotropic_threshold,
                    &ProductQuantizer::set_anisotropic_threshold,
                    "Score-aware codes for inner-product search (ScaNN's threshold T, in [1/sqrt(d), 1); 0: plain "
                    "PQ, the default). Set it before train(): the codebooks are trained for it.")
      .def_property_readonly("anisotropic_eta", &ProductQuantizer::anisotropic_eta,
                             "The loss's weight of the error along each vector over the error across it.")
      .def_property(
          "centroids",
          [](const ProductQuantizer& pq) {
            py::array_t<float> out(std::vector<py::ssize_t>{static_cast<py::ssize_t>(pq.M()),
                                                            static_cast<py::ssize_t>(pq.ksub()),
                                                            static_cast<py::ssize_t>(pq.dsub())});
            if (pq.is_trained()) std::copy(pq.centroids().begin(), pq.centroids().end(), out.mutable_data());
            return out;
          },
          [](ProductQuantizer& pq, py::array_t<float, py::array::c_style | py::array::forcecast> c) {
            SEXTANT_CHECK(c.size() == py::ssize_t(pq.M() * pq.ksub() * pq.dsub()), "centroids must have shape (",
                          pq.M(), ", ", pq.ksub(), ", ", pq.dsub(), ")");
            check_finite(c.data(), c.size(), 1, "centroids");
            pq.set_centroids(std::vector<float>(c.data(), c.data() + c.size()));
          },
          "(M, ksub, dsub) codebooks (settable, e.g. to load trained ones).")
      .def(
          "compute_distance_table",
          [](const ProductQuantizer& self, py::handle x, MetricType metric) {
            FloatMatrix xa = as_matrix(x, "x", static_cast<int64_t>(self.d()));
            SEXTANT_CHECK(xa.shape(0) == 1, "compute_distance_table takes one vector, shape (1, d)");
            SEXTANT_CHECK(self.is_trained(), "the product quantizer is not trained: call train() first");
            check_metric(metric);
            py::array_t<float> table(std::vector<py::ssize_t>{static_cast<py::ssize_t>(self.M()),
                                                              static_cast<py::ssize_t>(self.ksub())});
            self.compute_table(xa.data(), metric, table.mutable_data());
            return table;
          },
          py::arg("x"), py::arg("metric") = MetricType::L2, "(M, ksub) distances (or inner products) to the centroids.");
  def_codec(pq, "product quantizer");
}

}  // namespace sextant::python
