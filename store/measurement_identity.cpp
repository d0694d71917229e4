#include "store/measurement_identity.hpp"

#include <nlohmann/json.hpp>

#include "engine/common/hash.hpp"

namespace ktune::store {

namespace {

using json = nlohmann::json;  // std::map-backed: keys come out sorted

Result<json> parse_kernel_form(std::string_view kernel_json) {
  json form = json::parse(kernel_json, nullptr, /*allow_exceptions=*/false);
  const auto kind = form.is_object() ? form.find("form") : form.end();
  if (!form.is_object() || kind == form.end() || !kind->is_string() || kind->get<std::string>() != "ktune-kernel")
    return make_error(Errc::corrupt, "the stored kernel form is not a ktune-kernel JSON object");
  return form;
}

}  // namespace

Result<std::string> measurement_canonical_form(const MeasurementSubject& subject) {
  auto kernel = parse_kernel_form(subject.kernel_json);
  if (!kernel) return kernel.error();
  // The space a configuration was chosen from does not change what measuring it gives: the lists
  // and the constraints go; the parameter names stay (they are the -D names or template order).
  json param_names = json::array();
  if (auto params = kernel->find("params"); params != kernel->end() && params->is_array())
    for (const json& p : *params)
      if (p.is_object() && p.contains("name")) param_names.push_back(p["name"]);
  kernel->erase("params");
  kernel->erase("constraints");
  (*kernel)["param_names"] = param_names;
  // Verification is a recorded property of each measurement, filtered on read, not part of what
  // was measured (docs/keys.md).
  kernel->erase("verify");
  // The objective ranks measurements; a measured time is the same whatever ranks it.
  kernel->erase("objective");

  json sizes = json::array();
  if (auto names = kernel->find("sizes"); names != kernel->end() && names->is_array()) {
    for (const json& name : *names) {
      if (!name.is_string()) return make_error(Errc::corrupt, "the stored kernel form has a size name that is not text");
      auto value = find_value(*subject.sizes, name.get<std::string>());
      if (!value) return make_error(Errc::corrupt, "no value for size " + name.get<std::string>());
      sizes.push_back(json::array({name, *value}));
    }
  }
  json inputs = json::parse(subject.inputs_json, nullptr, /*allow_exceptions=*/false);
  if (inputs.is_discarded()) return make_error(Errc::invalid_argument, "the measurement's inputs are not JSON");

  json form;
  form["form"] = "ktune-measurement";
  form["version"] = kMeasurementFormVersion;
  form["kernel"] = std::move(*kernel);
  form["inputs"] = std::move(inputs);
  form["sizes"] = std::move(sizes);
  form["device"] = json{{"name", subject.device}, {"arch", subject.arch}};
  form["toolchain"] = subject.toolchain;
  return form.dump();
}

Result<std::string> measurement_key(const MeasurementSubject& subject) {
  auto form = measurement_canonical_form(subject);
  if (!form) return form.error();
  return xxh3_128(*form).hex();
}

Result<bool> kernel_form_verifies(std::string_view kernel_json) {
  auto kernel = parse_kernel_form(kernel_json);
  if (!kernel) return kernel.error();
  auto verify = kernel->find("verify");
  return !(verify != kernel->end() && verify->is_boolean() && !verify->get<bool>());
}

}  // namespace ktune::store
