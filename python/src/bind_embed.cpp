// Python bindings of the embedding producer (sextant._sextant.embed); the
// friendly API (input handling, splitting per sequence, index streaming, CLI)
// lives in python/sextant/embed.py.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>

#include "sextant/embed/encoder.h"
#include "sextant/embed/safetensors.h"
#include "sextant/embed/tokenizer.h"


namespace sextant::python {

namespace py = pybind11;
using namespace sextant::embed;

namespace {

/// Hands the matrix's storage to numpy without a copy.
py::array_t<float> to_numpy(Matrix&& m) {
  auto* owned = new std::vector<float>(std::move(m.values));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<float>*>(p); });
  return py::array_t<float>({static_cast<py::ssize_t>(m.rows), static_cast<py::ssize_t>(m.cols)}, owned->data(),
                            free_when_done);
}

py::list to_python(std::vector<Embeddings>&& results) {
  py::list out;
  for (Embeddings& e : results) {
    py::array_t<int64_t> offsets(static_cast<py::ssize_t>(e.offsets.size()));
    std::copy(e.offsets.begin(), e.offsets.end(), offsets.mutable_data());
    out.append(py::make_tuple(to_numpy(std::move(e.values)), offsets));
  }
  return out;
}

EmbedOptions options_from(const std::vector<int>& layers, const std::string& pooling, bool normalize,
                          size_t batch_size) {
  EmbedOptions o;
  o.layers = layers;
  o.pooling = pooling_from_name(pooling);
  o.normalize = normalize;
  o.batch_size = batch_size;
  return o;
}

}  // namespace

void bind_embed(py::module_& parent) {
  py::module_ m = parent.def_submodule("embed", "Embedding producer: checkpoints, tokenizers, forward passes");

  py::class_<Tokenizer, std::shared_ptr<Tokenizer>>(m, "Tokenizer",
                                                    "A Hugging Face tokenizer read from tokenizer.json.")
      .def_static(
          "from_file",
          [](const std::string& path) {
            py::gil_scoped_release release;
            return std::make_shared<Tokenizer>(Tokenizer::from_file(path));
          },
          py::arg("path"))
      .def(
          "encode",
          [](const Tokenizer& t, const std::string& text, bool add_special_tokens, std::optional<size_t> max_length) {
            py::gil_scoped_release release;
            return t.encode(text, EncodeOptions{add_special_tokens, max_length});
          },
          py::arg("text"), py::arg("add_special_tokens") = true, py::arg("max_length") = py::none(),
          "Token ids of one text; max_length=0 disables tokenizer.json's truncation.")
      .def(
          "encode_batch",
          [](const Tokenizer& t, const std::vector<std::string>& texts, bool add_special_tokens,
             std::optional<size_t> max_length) {
            py::gil_scoped_release release;
            return t.encode_batch(texts, EncodeOptions{add_special_tokens, max_length});
          },
          py::arg("texts"), py::arg("add_special_tokens") = true, py::arg("max_length") = py::none())
      .def("token_to_id", [](const Tokenizer& t, const std::string& token) {
        const int32_t id = t.token_to_id(token);
        return id < 0 ? py::object(py::none()) : py::object(py::int_(id));
      })
      .def_property_readonly("vocab_size", &Tokenizer::vocab_size)
      .def_property_readonly("max_length", &Tokenizer::max_length)
      .def_property_readonly("pad_id", &Tokenizer::pad_id);

  py::class_<Encoder, std::shared_ptr<Encoder>>(m, "_Encoder")
      .def(py::init([](const std::string& dir) {
             py::gil_scoped_release release;
             return std::make_shared<Encoder>(dir);
           }),
           py::arg("path"))
      .def_property_readonly("hidden_size", [](const Encoder& e) { return e.model().hidden_size(); })
      .def_property_readonly("num_layers", [](const Encoder& e) { return e.model().num_layers(); })
      .def_property_readonly("vocab_size", [](const Encoder& e) { return e.model().vocab_size(); })
      .def_property_readonly("family", [](const Encoder& e) { return e.model().family(); })
      .def_property_readonly("max_length", &Encoder::max_length)
      .def_property_readonly("has_tokenizer", [](const Encoder& e) { return e.tokenizer() != nullptr; })
      .def_property_readonly("pad_id", [](const Encoder& e) { return e.tokenizer() ? e.tokenizer()->pad_id() : 0; })
      .def(
          "tokenize",
          [](const Encoder& e, const std::vector<std::string>& texts, bool add_special_tokens) {
            py::gil_scoped_release release;
            return e.tokenize(texts, add_special_tokens);
          },
          py::arg("texts"), py::arg("add_special_tokens") = true)
      .def(
          "embed_texts",
          [](const Encoder& e, const std::vector<std::string>& texts, const std::vector<int>& layers,
             const std::string& pooling, bool normalize, size_t batch_size) {
            EmbedOptions o = options_from(layers, pooling, normalize, batch_size);
            std::vector<Embeddings> r;
            {
              py::gil_scoped_release release;
              r = e.embed_texts(texts, o);
            }
            return to_python(std::move(r));
          },
          py::arg("texts"), py::arg("layers"), py::arg("pooling"), py::arg("normalize"), py::arg("batch_size"))
      .def(
          "embed_ids",
          [](const Encoder& e, const std::vector<std::vector<int32_t>>& ids, const std::vector<int>& layers,
             const std::string& pooling, bool normalize, size_t batch_size) {
            EmbedOptions o = options_from(layers, pooling, normalize, batch_size);
            std::vector<Embeddings> r;
            {
              py::gil_scoped_release release;
              r = e.embed_ids(ids, o);
            }
            return to_python(std::move(r));
          },
          py::arg("ids"), py::arg("layers"), py::arg("pooling"), py::arg("normalize"), py::arg("batch_size"));

  m.def(
      "read_safetensors",
      [](const std::string& path) {
        py::dict out;
        SafeTensorsFile file(path);
        for (const auto& [name, view] : file.tensors()) {
          if (!is_float_dtype(view.dtype)) continue;
          Matrix values(1, view.numel());
          convert_to_float(view.dtype, view.data, view.numel(), values.values.data());
          std::vector<py::ssize_t> shape(view.shape.begin(), view.shape.end());
          out[py::str(name)] = to_numpy(std::move(values)).reshape(shape);
        }
        return out;
      },
      py::arg("path"), "The floating-point tensors of one .safetensors file as float32 arrays (validates the header).");
}

}  // namespace sextant::python
