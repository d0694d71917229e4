#include "engine/model/entry_pattern.hpp"

#include <algorithm>
#include <stdexcept>

#include "engine/common/identifier.hpp"

namespace ktune {

bool is_entry_pattern(std::string_view entry) noexcept { return entry.find_first_of("{}") != std::string_view::npos; }

namespace {

// Calls `on_text(literal)` and `on_name(name)` in order; an error for a brace out of place.
template <class OnText, class OnName>
Status walk(std::string_view entry, OnText on_text, OnName on_name) {
  std::size_t at = 0;
  while (at < entry.size()) {
    const std::size_t open = entry.find_first_of("{}", at);
    on_text(entry.substr(at, open == std::string_view::npos ? std::string_view::npos : open - at));
    if (open == std::string_view::npos) break;
    if (entry[open] == '}')
      return make_error(Errc::invalid_spec, "\"}\" at position " + std::to_string(open) + " closes no \"{\"");
    const std::size_t close = entry.find_first_of("{}", open + 1);
    if (close == std::string_view::npos || entry[close] != '}')
      return make_error(Errc::invalid_spec, "\"{\" at position " + std::to_string(open) + " is not closed by \"}\"");
    const std::string name(entry.substr(open + 1, close - open - 1));
    if (!is_identifier(name))
      return make_error(Errc::invalid_spec, "{" + name + "} is not a parameter name (write {NAME}, e.g. {BLOCK})");
    on_name(name);
    at = close + 1;
  }
  return Ok{};
}

}  // namespace

Result<std::vector<std::string>> entry_pattern_params(std::string_view entry, const ParamSpace& space) {
  std::vector<std::string> names;
  auto ok = walk(entry, [](std::string_view) {}, [&](const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  });
  if (!ok) return ok.error();
  for (const auto& name : names)
    if (space.param_index(name) < 0) {
      std::string known;
      for (const auto& p : space.params) known += (known.empty() ? "" : ", ") + p.name;
      return make_error(Errc::invalid_spec, "{" + name + "} names no parameter (the parameters are " + known + ")");
    }
  return names;
}

std::string resolve_entry(std::string_view entry, const ParamSpace& space, const Config& config) {
  if (!is_entry_pattern(entry)) return std::string(entry);
  std::string out;
  auto ok = walk(entry, [&](std::string_view text) { out += text; }, [&](const std::string& name) {
    const auto value = find_value(config, name);
    if (!value) throw std::logic_error("resolve_entry: the configuration has no value for " + name);
    out += space.value_text(name, *value);
  });
  if (!ok) throw std::logic_error("resolve_entry: " + ok.error().message);
  return out;
}

}  // namespace ktune
