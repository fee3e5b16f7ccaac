// Python bindings of SearchParams and the id selectors.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "numpy_args.h"
#include "sextant/IDSelector.h"
#include "sextant/SearchParams.h"

namespace sextant::python {

namespace {

std::shared_ptr<IDSelectorBitmap> make_bitmap(py::handle obj) {
  py::array a = py::array::ensure(obj);
  if (!a || a.ndim() != 1) throw py::value_error("bits must be a 1-D array (packed uint8 bits or one bool per id)");
  if (a.dtype().kind() == 'b') {  // one bool per id: pack bit i into byte i / 8, bit i % 8
    auto flags = py::array_t<bool, py::array::c_style>::ensure(a);
    if (!flags) throw py::error_already_set();
    std::vector<uint8_t> packed((flags.shape(0) + 7) / 8, 0);
    for (py::ssize_t i = 0; i < flags.shape(0); i++) {
      if (flags.data()[i]) packed[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
    }
    return std::make_shared<IDSelectorBitmap>(packed.size(), packed.data());
  }
  if (a.dtype().kind() != 'u' || a.itemsize() != 1) {
    throw py::type_error("bits must be packed uint8 (numpy.packbits(..., bitorder='little')) or bool, got dtype " +
                         std::string(py::str(a.dtype())));
  }
  auto bytes = py::array_t<uint8_t, py::array::c_style>::ensure(a);
  if (!bytes) throw py::error_already_set();
  return std::make_shared<IDSelectorBitmap>(bytes.shape(0), bytes.data());
}

std::shared_ptr<const IDSelector> required(const std::shared_ptr<IDSelector>& sel, const char* name) {
  if (!sel) throw py::type_error(std::string(name) + " must be an IDSelector, got None");
  return sel;
}

// A SearchParams field as a Python attribute (None when unset).
template <class T>
void bind_knob(py::class_<SearchParams>& cls, const char* name, std::optional<T> SearchParams::*member) {
  cls.def_readwrite(name, member);
}

void bind_knob(py::class_<SearchParams>& cls, const char* name, std::shared_ptr<const IDSelector> SearchParams::*member) {
  cls.def_property(
      name, [member](const SearchParams& p) { return std::const_pointer_cast<IDSelector>(p.*member); },
      [member](SearchParams& p, const std::shared_ptr<IDSelector>& sel) { p.*member = sel; });
}

template <class T>
std::string knob_repr(const std::optional<T>& value) {
  return std::to_string(*value);
}

std::string knob_repr(const std::shared_ptr<const IDSelector>&) { return "<IDSelector>"; }

// Selectors pickle (and so travel to other processes: Ray tasks and actors) as their constructor arguments.
py::object as_python(const std::shared_ptr<const IDSelector>& sel) { return py::cast(std::const_pointer_cast<IDSelector>(sel)); }


}  // namespace

void bind_search_params(py::module_& m) {
  py::class_<IDSelector, std::shared_ptr<IDSelector>>(m, "IDSelector", "Decides which ids a search or removal applies to.")
      .def("is_member", &IDSelector::is_member, py::arg("id"));
  py::class_<IDSelectorRange, IDSelector, std::shared_ptr<IDSelectorRange>>(m, "IDSelectorRange", "Ids in [lo, hi).")
      .def(py::init<idx_t, idx_t>(), py::arg("lo"), py::arg("hi"))
      .def(py::pickle([](const IDSelectorRange& s) { return py::make_tuple(s.lo(), s.hi()); },
                      [](const py::tuple& t) { return IDSelectorRange(t[0].cast<idx_t>(), t[1].cast<idx_t>()); }));
  py::class_<IDSelectorBatch, IDSelector, std::shared_ptr<IDSelectorBatch>>(m, "IDSelectorBatch",
                                                                           "An explicit set of ids.")
      .def(py::init([](py::handle ids) {
             IdArray a = as_ids(ids, "ids");
             return std::make_shared<IDSelectorBatch>(a.shape(0), a.data());
           }),
           py::arg("ids"))
      .def(py::pickle(
          [](const IDSelectorBatch& s) { return py::make_tuple(py::array_t<int64_t>(s.ids().size(), s.ids().data())); },
          [](const py::tuple& t) {
            IdArray a = as_ids(t[0], "ids");
            return std::make_shared<IDSelectorBatch>(a.shape(0), a.data());
          }));
  py::class_<IDSelectorBitmap, IDSelector, std::shared_ptr<IDSelectorBitmap>>(
      m, "IDSelectorBitmap",
      "Ids whose bit is set: bits is packed uint8 (bit i = bit i % 8 of byte i // 8) or one bool per id.")
      .def(py::init(&make_bitmap), py::arg("bits"))
      .def(py::pickle(
          [](const IDSelectorBitmap& s) { return py::make_tuple(py::array_t<uint8_t>(s.bitmap().size(), s.bitmap().data())); },
          [](const py::tuple& t) { return make_bitmap(t[0]); }));
  py::class_<IDSelectorNot, IDSelector, std::shared_ptr<IDSelectorNot>>(m, "IDSelectorNot", "Ids not in sel.")
      .def(py::init([](const std::shared_ptr<IDSelector>& sel) { return std::make_shared<IDSelectorNot>(required(sel, "sel")); }),
           py::arg("sel"))
      .def(py::pickle([](const IDSelectorNot& s) { return py::make_tuple(as_python(s.inner())); },
                      [](const py::tuple& t) {
                        return std::make_shared<IDSelectorNot>(required(t[0].cast<std::shared_ptr<IDSelector>>(), "sel"));
                      }));
  py::class_<IDSelectorAnd, IDSelector, std::shared_ptr<IDSelectorAnd>>(m, "IDSelectorAnd", "Ids in both a and b.")
      .def(py::init([](const std::shared_ptr<IDSelector>& a, const std::shared_ptr<IDSelector>& b) {
             return std::make_shared<IDSelectorAnd>(required(a, "a"), required(b, "b"));
           }),
           py::arg("a"), py::arg("b"))
      .def(py::pickle([](const IDSelectorAnd& s) { return py::make_tuple(as_python(s.a()), as_python(s.b())); },
                      [](const py::tuple& t) {
                        return std::make_shared<IDSelectorAnd>(required(t[0].cast<std::shared_ptr<IDSelector>>(), "a"),
                                                               required(t[1].cast<std::shared_ptr<IDSelector>>(), "b"));
                      }));
  py::class_<IDSelectorOr, IDSelector, std::shared_ptr<IDSelectorOr>>(m, "IDSelectorOr", "Ids in a or b.")
      .def(py::init([](const std::shared_ptr<IDSelector>& a, const std::shared_ptr<IDSelector>& b) {
             return std::make_shared<IDSelectorOr>(required(a, "a"), required(b, "b"));
           }),
           py::arg("a"), py::arg("b"))
      .def(py::pickle([](const IDSelectorOr& s) { return py::make_tuple(as_python(s.a()), as_python(s.b())); },
                      [](const py::tuple& t) {
                        return std::make_shared<IDSelectorOr>(required(t[0].cast<std::shared_ptr<IDSelector>>(), "a"),
                                                              required(t[1].cast<std::shared_ptr<IDSelector>>(), "b"));
                      }));
  py::class_<IDSelectorShifted, IDSelector, std::shared_ptr<IDSelectorShifted>>(
      m, "IDSelectorShifted", "Ids i for which sel accepts i + offset (a selector over all ids, seen from a shard).")
      .def(py::init([](const std::shared_ptr<IDSelector>& sel, idx_t offset) {
             return std::make_shared<IDSelectorShifted>(required(sel, "sel"), offset);
           }),
           py::arg("sel"), py::arg("offset"))
      .def(py::pickle([](const IDSelectorShifted& s) { return py::make_tuple(as_python(s.inner()), s.offset()); },
                      [](const py::tuple& t) {
                        return std::make_shared<IDSelectorShifted>(
                            required(t[0].cast<std::shared_ptr<IDSelector>>(), "sel"), t[1].cast<idx_t>());
                      }));

  py::class_<SearchParams> params(m, "SearchParams", R"doc(
The knobs of one search call; unset knobs (None) keep the index's defaults.
An index rejects a knob it does not use. Same as passing them as keywords:
index.search(x, k, params=SearchParams(nprobe=8)) == index.search(x, k, nprobe=8).)doc");
  params.def(py::init([](const py::kwargs& knobs) { return search_params(py::none(), knobs); }));
  for_each_knob([&](const char* name, Knob, auto member) { bind_knob(params, name, member); });
  params.def("__repr__", [](const SearchParams& p) {
    std::string set;
    for_each_knob([&](const char* name, Knob, auto member) {
      if (!(p.*member)) return;
      set += (set.empty() ? "" : ", ") + std::string(name) + "=" + knob_repr(p.*member);
    });
    return "SearchParams(" + set + ")";
  });
}

}  // namespace sextant::python
