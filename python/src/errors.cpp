#include "errors.hpp"

#include <array>
#include <string>

namespace nb = nanobind;

namespace ktune::python {

namespace {

// The Python class of each Errc (index = the enum's value), created once at import.
std::array<PyObject*, static_cast<std::size_t>(Errc::internal) + 1> g_classes{};
PyObject* g_base = nullptr;

struct ErrorClass {
  Errc code;
  const char* name;     // Python class name
  PyObject* builtin;    // the built-in it also derives from (so `except ValueError` works), or null
};

}  // namespace

void register_errors(nb::module_& module) {
  g_base = PyErr_NewExceptionWithDoc("ktune.KtuneError",
                                     "Base of every ktune error; .code is the library's error kind "
                                     "(\"invalid_spec\", \"no_gpu\", ...).",
                                     PyExc_RuntimeError, nullptr);
  module.attr("KtuneError") = nb::handle(g_base);
  const ErrorClass classes[] = {
      {Errc::invalid_spec, "SpecError", PyExc_ValueError},
      {Errc::invalid_argument, "InvalidArgumentError", PyExc_ValueError},
      {Errc::io, "FileError", PyExc_OSError},
      {Errc::not_found, "NotFoundError", PyExc_LookupError},
      {Errc::no_gpu, "NoGpuError", nullptr},
      {Errc::corrupt, "CorruptError", nullptr},
      {Errc::conflict, "ConflictError", nullptr},
      {Errc::unsupported, "UnsupportedError", nullptr},
      {Errc::internal, "InternalError", nullptr},
  };
  for (const ErrorClass& c : classes) {
    PyObject* bases = c.builtin ? PyTuple_Pack(2, g_base, c.builtin) : PyTuple_Pack(1, g_base);
    const std::string qualified = std::string("ktune.") + c.name;
    PyObject* cls = PyErr_NewException(qualified.c_str(), bases, nullptr);
    Py_DECREF(bases);
    if (!cls) throw nb::python_error();
    g_classes[static_cast<std::size_t>(c.code)] = cls;  // kept for the module's life
    module.attr(c.name) = nb::handle(cls);
  }
  nb::register_exception_translator([](const std::exception_ptr& thrown, void*) {
    try {
      std::rethrow_exception(thrown);
    } catch (const KtuneError& e) {
      PyObject* cls = g_classes[static_cast<std::size_t>(e.error().code)];
      nb::object error = nb::steal(PyObject_CallFunction(cls ? cls : g_base, "s", e.error().message.c_str()));
      if (!error.is_valid()) return;  // the call set its own exception
      error.attr("code") = errc_name(e.error().code);
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
    }
  });
}

}  // namespace ktune::python
