#include "engine/common/named_values.hpp"

#include <cctype>
#include <charconv>

#include "engine/common/identifier.hpp"

namespace ktune {

std::optional<std::int64_t> find_value(const NamedValues& values, std::string_view name) {
  for (const auto& [key, value] : values)
    if (key == name) return value;
  return std::nullopt;
}

std::string format_named(const NamedValues& values, std::string_view separator) {
  std::string out;
  for (const auto& [key, value] : values) {
    if (!out.empty()) out += separator;
    out += key;
    out += '=';
    out += std::to_string(value);
  }
  return out;
}

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}
}  // namespace

Result<NamedWords> parse_named_words(std::string_view text) {
  NamedWords out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find_first_of(", ", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (item.empty()) continue;
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      return make_error(Errc::invalid_argument, "'" + std::string(item) + "' is not NAME=VALUE");
    std::string_view name = trim(item.substr(0, eq));
    std::string_view word = trim(item.substr(eq + 1));
    if (!is_identifier(name))
      return make_error(Errc::invalid_argument, "'" + std::string(name) + "' is not a valid name in '" +
                                                    std::string(item) + "'");
    for (const auto& [seen, unused] : out)
      if (seen == name) return make_error(Errc::invalid_argument, std::string(name) + " is given twice");
    out.emplace_back(std::string(name), std::string(word));
  }
  return out;
}

Result<std::int64_t> parse_named_integer(std::string_view name, std::string_view number) {
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || ptr != number.data() + number.size())
    return make_error(Errc::invalid_argument,
                      "value of " + std::string(name) + " must be an integer, got '" + std::string(number) + "'");
  return value;
}

Result<NamedValues> parse_named(std::string_view text) {
  auto words = parse_named_words(text);
  if (!words) return words.error();
  NamedValues out;
  for (const auto& [name, word] : *words) {
    auto value = parse_named_integer(name, word);
    if (!value) return value.error();
    out.emplace_back(name, *value);
  }
  return out;
}

}  // namespace ktune
