#pragma once
// Reading user-written JSON (kernel specs, sweep files) the same way everywhere: duplicate keys
// are mistakes (nlohmann would keep the last one silently), unknown fields get a "did you mean",
// parse errors say line and column, types are named the way a person reads them.
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace ktune::json_input {

using json = nlohmann::ordered_json;

// Parses `text`; `duplicate` receives the first key that appears twice in one object (empty if
// none). Throws json::parse_error for malformed text, like json::parse, and for text nested
// deeper than 64 levels.
json parse_rejecting_duplicates(std::string_view text, std::string& duplicate);

// "not valid JSON at line 3, column 5: <reason>" for a parse error of `text`.
std::string describe_parse_error(std::string_view text, const json::parse_error& error);

// "a string", "an integer", "an object", ...
std::string type_name(const json& value);

// The first field of `object` not in `known`, with " (did you mean \"x\"?)" when one is close.
struct UnknownField {
  std::string key;
  std::string hint;
};
std::optional<UnknownField> find_unknown_field(const json& object, std::initializer_list<std::string_view> known);

}  // namespace ktune::json_input
