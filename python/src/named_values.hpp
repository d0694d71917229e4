#pragma once
// Sizes and configurations cross into Python as dicts {name: int}, in the spec's order.
#include <nanobind/nanobind.h>

#include <string>

#include "engine/common/named_values.hpp"

namespace ktune::python {

// {"M": 4096, ...} -> NamedValues in the dict's order; `what` names the argument in errors
// ("sizes: value of 'M' must be an int, not str").
inline NamedValues named_from_dict(const nanobind::handle& mapping, const char* what) {
  namespace nb = nanobind;
  if (!nb::isinstance<nb::dict>(mapping))
    throw nb::type_error((std::string(what) + " must be a dict {name: int}, not " +
                          nb::cast<std::string>(nb::str(mapping.type().attr("__name__"))))
                             .c_str());
  NamedValues values;
  for (auto [key, value] : nb::borrow<nb::dict>(mapping)) {
    if (!nb::isinstance<nb::str>(key)) throw nb::type_error((std::string(what) + ": every name must be a str").c_str());
    std::string name = nb::cast<std::string>(key);
    if (!PyLong_Check(value.ptr()) || PyBool_Check(value.ptr()))
      throw nb::type_error((std::string(what) + ": value of '" + name + "' must be an int, not " +
                            nb::cast<std::string>(nb::str(value.type().attr("__name__"))))
                               .c_str());
    values.emplace_back(std::move(name), nb::cast<std::int64_t>(value));
  }
  return values;
}

inline nanobind::dict dict_from_named(const NamedValues& values) {
  nanobind::dict out;
  for (const auto& [name, value] : values) out[name.c_str()] = value;
  return out;
}

}  // namespace ktune::python
