#include "numpy_args.h"

#include <string>

namespace sextant::python {

namespace {

std::string describe_shape(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); i++) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

py::array as_array(py::handle obj, const char* name) {
  if (obj.is_none()) throw py::type_error(std::string(name) + " must be an array, got None");
  py::array a = py::array::ensure(obj);
  if (a) return a;
  PyErr_Clear();
  throw py::type_error(std::string(name) + " must be array-like, got " + std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
}

int64_t integer_knob(const std::string& name, py::handle value) {
  if (py::isinstance<py::bool_>(value) || !PyIndex_Check(value.ptr())) {
    throw py::type_error(name + " must be an integer, got " + std::string(py::str(py::type::handle_of(value).attr("__name__"))));
  }
  return py::reinterpret_steal<py::int_>(PyNumber_Index(value.ptr())).cast<int64_t>();
}

float float_knob(const std::string& name, py::handle value) {
  if (py::isinstance<py::bool_>(value) || !PyNumber_Check(value.ptr())) {
    throw py::type_error(name + " must be a number, got " + std::string(py::str(py::type::handle_of(value).attr("__name__"))));
  }
  return py::float_(py::reinterpret_borrow<py::object>(value)).cast<float>();
}

// A keyword knob's value, by the type of its SearchParams field.
void set_knob(const std::string& name, py::handle value, std::optional<int64_t>& knob) {
  knob = integer_knob(name, value);
}

void set_knob(const std::string& name, py::handle value, std::optional<float>& knob) { knob = float_knob(name, value); }

void set_knob(const std::string& name, py::handle value, std::shared_ptr<const IDSelector>& knob) {
  if (!py::isinstance<IDSelector>(value)) {
    throw py::type_error(name + " must be an IDSelector, got " + std::string(py::str(py::type::handle_of(value).attr("__name__"))));
  }
  knob = value.cast<std::shared_ptr<IDSelector>>();
}

}  // namespace

FloatMatrix as_matrix(py::handle obj, const char* name, std::optional<int64_t> d) {
  py::array a = as_array(obj, name);
  char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u') {
    throw py::type_error(std::string(name) + " must hold real numbers (float32 preferred), got dtype " +
                         std::string(py::str(a.dtype())));
  }
  if (a.ndim() != 2) {
    throw py::value_error(std::string(name) + " must be a 2-D array of shape (n, d), got shape " + describe_shape(a) +
                          (a.ndim() == 1 ? "; use x.reshape(1, -1) for a single vector" : ""));
  }
  if (d && a.shape(1) != *d) {
    throw py::value_error(std::string(name) + " must have " + std::to_string(*d) + " columns (the index dimension d), got shape " +
                          describe_shape(a));
  }
  FloatMatrix m = FloatMatrix::ensure(a);
  if (!m) throw py::error_already_set();
  return m;
}

IdArray as_ids(py::handle obj, const char* name, int64_t n) {
  py::array a = as_array(obj, name);
  char kind = a.dtype().kind();
  if (kind != 'i' && kind != 'u') {
    throw py::type_error(std::string(name) + " must hold integers (int64 preferred), got dtype " +
                         std::string(py::str(a.dtype())));
  }
  if (a.ndim() != 1) {
    throw py::value_error(std::string(name) + " must be a 1-D array, got shape " + describe_shape(a));
  }
  if (n >= 0 && a.shape(0) != n) {
    throw py::value_error(std::string(name) + " must have " + std::to_string(n) + " entries (one per vector), got " +
                          std::to_string(a.shape(0)));
  }
  IdArray ids = IdArray::ensure(a);
  if (!ids) throw py::error_already_set();
  return ids;
}

SearchParams search_params(py::handle params, const py::kwargs& knobs) {
  if (!params.is_none()) {
    if (knobs.size() > 0) {
      throw py::type_error("pass search knobs either as params=SearchParams(...) or as keywords, not both");
    }
    return params.cast<SearchParams>();
  }
  SearchParams p;
  for (auto [key, value] : knobs) {
    std::string k = py::str(key);
    if (value.is_none()) continue;
    bool known = false;
    for_each_knob([&](const char* name, Knob, auto member) {
      if (k != name) return;
      set_knob(k, value, p.*member);
      known = true;
    });
    if (!known) {
      throw py::type_error("unexpected keyword argument '" + k + "'; search knobs are " + knob_names(kAllKnobs));
    }
  }
  return p;
}

std::string format_shape(std::initializer_list<int64_t> shape) {
  std::string text = "(";
  for (int64_t extent : shape) {
    if (text.size() > 1) text += ", ";
    text += std::to_string(extent);
  }
  return text + ")";
}

}  // namespace sextant::python
