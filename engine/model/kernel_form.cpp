#include "engine/model/kernel_form.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

#include "engine/common/identifier.hpp"
#include "engine/common/json_integer.hpp"
#include "engine/model/key.hpp"

namespace ktune {

namespace {

using json = nlohmann::json;

Error bad(const std::string& what) { return make_error(Errc::corrupt, "kernel_json is not a ktune kernel form: " + what); }

bool name_taken(const ParamSpace& space, const std::string& name) { return space.slot_of(name).has_value(); }

}  // namespace

Result<ParamSpace> space_from_kernel_form(std::string_view kernel_json) {
  json form;
  try {
    form = json::parse(kernel_json.begin(), kernel_json.end());
  } catch (const json::exception&) {
    return bad("not valid JSON");
  }
  if (!form.is_object()) return bad("not a JSON object");
  if (!form.contains("form") || form["form"] != "ktune-kernel") return bad("field 'form' is not \"ktune-kernel\"");
  if (!form.contains("version") || !form["version"].is_number_integer() || form["version"] != kKeyFormatVersion)
    return bad("field 'version' is not " + std::to_string(kKeyFormatVersion));
  for (const char* field : {"source", "params", "sizes", "constraints"})
    if (!form.contains(field)) return bad("missing field '" + std::string(field) + "'");
  if (!form["source"].is_string() || form["source"].get<std::string>().empty())
    return bad("field 'source' must be a non-empty string");
  if (!form["params"].is_array()) return bad("field 'params' must be an array");
  if (!form["sizes"].is_array()) return bad("field 'sizes' must be an array");
  if (!form["constraints"].is_array()) return bad("field 'constraints' must be an array");

  ParamSpace space;
  for (std::size_t i = 0; i < form["params"].size(); ++i) {
    const json& p = form["params"][i];
    const std::string where = "params[" + std::to_string(i) + "]";
    if (!p.is_object() || !p.contains("name") || !p["name"].is_string() || !p.contains("values") ||
        !p["values"].is_array())
      return bad(where + " must be {\"name\": ..., \"values\": [...]}");
    Parameter parameter{p["name"].get<std::string>(), {}, {}};
    if (!is_identifier(parameter.name)) return bad(where + ": '" + parameter.name + "' is not an identifier");
    if (name_taken(space, parameter.name)) return bad(where + ": " + parameter.name + " is named twice");
    if (p["values"].empty()) return bad(where + " (" + parameter.name + ") has no values");
    for (const json& v : p["values"]) {
      auto value = json_int64(v);
      if (!value) return bad(where + " (" + parameter.name + ") has a value that is not a 64-bit integer");
      parameter.values.push_back(*value);
    }
    if (p.contains("choices")) {  // named choices: their strings, parallel to the values (codes)
      if (!p["choices"].is_array() || p["choices"].size() != parameter.values.size())
        return bad(where + " (" + parameter.name + ") choices do not match its values");
      for (std::size_t c = 0; c < parameter.values.size(); ++c) {
        const json& choice = p["choices"][c];
        if (!choice.is_string() || choice_code(choice.get<std::string>()) != parameter.values[c])
          return bad(where + " (" + parameter.name + ") choice " + std::to_string(c) + " is not its value's string");
        parameter.choices.push_back(choice.get<std::string>());
      }
    }
    // The writer sorts and deduplicates; anything else was edited, and binary searches rely on it.
    if (std::adjacent_find(parameter.values.begin(), parameter.values.end(),
                           [](std::int64_t a, std::int64_t b) { return a >= b; }) != parameter.values.end())
      return bad(where + " (" + parameter.name + ") values are not distinct and ascending");
    space.params.push_back(std::move(parameter));
  }
  for (std::size_t i = 0; i < form["sizes"].size(); ++i) {
    const json& s = form["sizes"][i];
    const std::string where = "sizes[" + std::to_string(i) + "]";
    if (!s.is_string() || !is_identifier(s.get<std::string>())) return bad(where + " is not an identifier");
    const std::string name = s.get<std::string>();
    if (name_taken(space, name)) return bad(where + ": " + name + " is named twice");
    space.size_names.push_back(name);
  }
  const std::size_t param_count = space.params.size();
  for (std::size_t i = 0; i < form["constraints"].size(); ++i) {
    const json& c = form["constraints"][i];
    const std::string where = "constraints[" + std::to_string(i) + "]";
    if (!c.is_string()) return bad(where + " is not a string");
    auto expr = Expr::parse(c.get<std::string>(), space.resolver(), where, space.choice_resolver());
    if (!expr) return bad(expr.error().message);
    const bool uses_sizes = std::any_of(expr->slots_used().begin(), expr->slots_used().end(),
                                        [&](int slot) { return static_cast<std::size_t>(slot) >= param_count; });
    space.constraints.push_back(Constraint{std::move(*expr), uses_sizes});
  }
  return space;
}

}  // namespace ktune
