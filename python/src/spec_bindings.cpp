// ktune.Spec: a kernel spec parsed by the C++ parser, held as a PreparedKernel so lookups compute
// its keys once (as the C API's ktune_spec does).
#include "spec_bindings.hpp"

#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "errors.hpp"
#include "named_values.hpp"
#include "tuner/param_space.hpp"
#include "tuner/search_space.hpp"

namespace nb = nanobind;

namespace ktune::python {

namespace {

// The space at `sizes` (or without the constraints over sizes when None), enumerated.
std::uint64_t valid_count(const Spec& spec, const nb::handle& sizes) {
  const KernelSpec& kernel = spec.kernel.spec();
  if (sizes.is_none()) return unwrap(SearchSpace::build(kernel.space, nullptr)).valid_count();
  Sizes ordered = unwrap(kernel.ordered_sizes(named_from_dict(sizes, "sizes")));
  nb::gil_scoped_release unlocked;  // enumeration runs on oneTBB threads; large spaces take a while
  return unwrap(SearchSpace::build(kernel.space, &ordered)).valid_count();
}

}  // namespace

void bind_spec(nb::module_& m) {
  nb::class_<Spec>(m, "Spec",
                   "A kernel spec (docs/spec-format.md). Make one with Spec.from_file, Spec.from_dict or "
                   "Spec.from_json; a malformed spec raises ktune.SpecError with the parser's message.")
      .def_static(
          "from_file", [](const std::filesystem::path& path) { return Spec{PreparedKernel::from(unwrap(KernelSpec::from_file(path)))}; },
          nb::arg("path"), "Parses a spec file (JSON); a relative \"source\" is found next to it.")
      .def_static(
          "from_json",
          [](const std::string& text, const std::filesystem::path& base_dir) {
            return Spec{PreparedKernel::from(unwrap(KernelSpec::from_json_text(text, base_dir)))};
          },
          nb::arg("text"), nb::arg("base_dir") = std::filesystem::path(),
          "Parses spec JSON text; base_dir resolves a relative \"source\" file and include dirs.")
      .def_static(
          "from_dict",
          [](const nb::dict& spec, const std::filesystem::path& base_dir) {
            std::string text = nb::cast<std::string>(nb::module_::import_("json").attr("dumps")(spec));
            return Spec{PreparedKernel::from(unwrap(KernelSpec::from_json_text(text, base_dir)))};
          },
          nb::arg("spec"), nb::arg("base_dir") = std::filesystem::path(),
          "A spec given as a dict (what the JSON file holds); base_dir resolves a relative \"source\".")
      .def_prop_ro("name", [](const Spec& s) { return s.kernel.spec().name; })
      .def_prop_ro("description", [](const Spec& s) { return s.kernel.spec().description; })
      .def_prop_ro("entry", [](const Spec& s) { return s.kernel.spec().entry; })
      .def_prop_ro("source", [](const Spec& s) { return s.kernel.spec().source; }, "The CUDA C++ text.")
      .def_prop_ro(
          "params",
          [](const Spec& s) {
            nb::dict params;
            for (const Parameter& p : s.kernel.spec().space.params) params[p.name.c_str()] = nb::cast(p.values);
            return params;
          },
          "{name: [candidate values, ascending]} in the spec's order.")
      .def_prop_ro("sizes", [](const Spec& s) { return s.kernel.spec().space.size_names; }, "The problem size names.")
      .def_prop_ro("default_config", [](const Spec& s) { return dict_from_named(s.kernel.spec().default_config); })
      .def_prop_ro("product", [](const Spec& s) { return s.kernel.spec().space.product(); },
                   "The number of configurations before constraints (saturates at 2**64-1).")
      .def("space_size", &valid_count, nb::arg("sizes") = nb::none(),
           "The number of valid configurations at these sizes; without sizes, constraints over sizes are skipped.")
      .def(
          "why_invalid",
          [](const Spec& s, const nb::handle& config, const nb::handle& sizes) -> std::optional<std::string> {
            const KernelSpec& kernel = s.kernel.spec();
            Sizes ordered = unwrap(kernel.ordered_sizes(named_from_dict(sizes, "sizes")));
            return why_invalid_at(kernel.space, named_from_dict(config, "config"), ordered);
          },
          nb::arg("config"), nb::arg("sizes"),
          "Why the configuration is not valid at these sizes (one line), or None when it is.")
      .def("__repr__", [](const Spec& s) {
        const KernelSpec& kernel = s.kernel.spec();
        std::string sizes;
        for (const auto& n : kernel.space.size_names) sizes += (sizes.empty() ? "" : ", ") + n;
        return "<ktune.Spec " + kernel.name + ": " + std::to_string(kernel.space.params.size()) + " parameters, sizes " +
               sizes + ">";
      });
}

}  // namespace ktune::python
