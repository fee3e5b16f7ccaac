// Python bindings of index files: write/read, bytes, and pickling of every index.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>

#include "sextant/index_io.h"

namespace sextant::python {

namespace py = pybind11;

namespace {

// The bytes of a path (str, bytes or os.PathLike), as the operating system sees them.
std::string path_of(py::handle path) { return py::bytes(py::module_::import("os").attr("fsencode")(path)); }

FileFormat format_of(const std::string& name) {
  if (name == "sextant") return FileFormat::sextant;
  if (name == "faiss") return FileFormat::faiss;
  throw py::value_error("format must be 'sextant' or 'faiss', got '" + name + "'");
}

std::shared_ptr<Index> deserialize(py::handle data) {
  // bytes, bytearray, memoryview, or a numpy uint8 array: any contiguous buffer.
  py::buffer buffer = py::reinterpret_borrow<py::buffer>(data);
  if (!py::isinstance<py::buffer>(data))
    throw py::type_error("deserialize_index expects bytes, bytearray, memoryview or a uint8 numpy array, got " +
                         std::string(py::str(py::type::handle_of(data).attr("__name__"))));
  py::buffer_info info = buffer.request();
  if (info.ndim > 1 || (info.ndim == 1 && info.strides[0] != info.itemsize))
    throw py::value_error("deserialize_index expects a contiguous one-dimensional buffer");
  const auto* bytes = static_cast<const uint8_t*>(info.ptr);
  const size_t size = static_cast<size_t>(info.size * info.itemsize);
  py::gil_scoped_release release;
  return std::shared_ptr<Index>(deserialize_index(bytes, size));
}

py::bytes serialize_to_bytes(const Index& index) {
  std::vector<uint8_t> bytes;
  {
    py::gil_scoped_release release;
    bytes = serialize_index(index);
  }
  return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

void bind_io(py::module_& m) {
  m.def(
      "write_index",
      [](const Index& index, py::handle path, const std::string& format) {
        const std::string p = path_of(path);
        const FileFormat f = format_of(format);
        py::gil_scoped_release release;
        write_index(index, p, f);
      },
      py::arg("index"), py::arg("path"), py::kw_only(), py::arg("format") = "sextant", R"doc(
Writes an index to a file (path: str, bytes or path-like), atomically: a
temporary file next to it is written, flushed and renamed, so a crash, a full
disk or an error leaves any previous file intact. format="sextant" (every index
type, checksummed, mappable) or "faiss" (a file faiss.read_index reads: flat,
SQ, PQ, IVF, HNSW, id maps, refine and pre-transform indexes; ValueError for
the fast-scan types). OSError when the path cannot be written.)doc");
  m.def(
      "read_index",
      [](py::handle path, bool mmap) {
        const std::string p = path_of(path);
        py::gil_scoped_release release;
        return std::shared_ptr<Index>(read_index(p, IOFlags{mmap}));
      },
      py::arg("path"), py::arg("mmap") = false, R"doc(
Reads a sextant index file, or an index file written by Faiss (faiss.write_index);
path is a str, bytes or path-like. By default the file is read into memory: a
file rewritten meanwhile is refused as torn, never a crash. mmap=True maps the
file: vectors, codes and inverted lists are served from the page cache,
read-only (add/remove raise ValueError); the file must not change while mapped
(see docs/index_files.md). OSError when the file cannot be opened; ValueError
when it is not a valid index file.)doc");
  m.def(
      "serialize_index",
      [](const Index& index, const std::string& format) {
        const FileFormat f = format_of(format);
        std::vector<uint8_t> bytes;
        {
          py::gil_scoped_release release;
          bytes = serialize_index(index, f);
        }
        py::array_t<uint8_t> out(static_cast<py::ssize_t>(bytes.size()));
        if (!bytes.empty()) std::memcpy(out.mutable_data(), bytes.data(), bytes.size());
        return out;
      },
      py::arg("index"), py::kw_only(), py::arg("format") = "sextant",
      "The bytes of the index's file (format 'sextant' or 'faiss', as write_index), as a uint8 numpy array.");
  m.def("deserialize_index", &deserialize, py::arg("data"),
        "An index from the bytes of a sextant (or Faiss) index file: bytes, bytearray, memoryview or uint8 array.");

  // Pickling (and copy.deepcopy) of every index goes through its file bytes.
  auto index_class = py::reinterpret_borrow<py::object>(m.attr("Index"));
  py::object deserializer = m.attr("deserialize_index");
  py::setattr(index_class, "__reduce__",
              py::cpp_function(
                  [deserializer](const Index& self) {
                    return py::make_tuple(deserializer, py::make_tuple(serialize_to_bytes(self)));
                  },
                  py::is_method(index_class), "Pickles the index as its sextant file bytes."));
}

}  // namespace sextant::python
