#include "engine/model/json_input.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

namespace ktune::json_input {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string line_and_column(std::string_view text, std::size_t byte) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < std::min(byte, text.size()); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// nlohmann parses any depth, but printing a value (error messages quote them) recurses per level:
// a 400 KB spec of nested brackets overflowed the stack. Nothing ktune reads nests more than a few
// levels, so deeper text is refused before it is parsed, as a parse error at the bracket.
constexpr std::size_t kMaxNesting = 64;

void check_nesting(std::string_view text) {
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNesting)
        throw json::parse_error::create(101, i + 1, "nested deeper than " + std::to_string(kMaxNesting) + " levels", nullptr);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

}  // namespace

json parse_rejecting_duplicates(std::string_view text, std::string& duplicate) {
  check_nesting(text);
  std::vector<std::set<std::string>> open_objects;
  duplicate.clear();
  json::parser_callback_t callback = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: open_objects.emplace_back(); break;
      case json::parse_event_t::object_end: open_objects.pop_back(); break;
      case json::parse_event_t::key:
        if (!open_objects.back().insert(parsed.get<std::string>()).second && duplicate.empty())
          duplicate = parsed.get<std::string>();
        break;
      default: break;
    }
    return true;
  };
  return json::parse(text.begin(), text.end(), callback);
}

std::string describe_parse_error(std::string_view text, const json::parse_error& error) {
  std::string what = error.what();
  // "[json.exception.parse_error.101] parse error at line 3, column 5: ..." -> keep the reason.
  auto colon = what.find(": ", what.find("parse error"));
  return "not valid JSON at " + line_and_column(text, error.byte == 0 ? 0 : error.byte - 1) + ": " +
         (colon == std::string::npos ? what : what.substr(colon + 2));
}

std::string type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "a value";
  }
}

std::optional<UnknownField> find_unknown_field(const json& object, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string_view best;
    std::size_t best_distance = 3;  // typos, not different words
    for (auto k : known) {
      if (std::size_t d = edit_distance(key, k); d < best_distance) {
        best_distance = d;
        best = k;
      }
    }
    return UnknownField{key, best.empty() ? std::string() : " (did you mean \"" + std::string(best) + "\"?)"};
  }
  return std::nullopt;
}

Result<std::string> read_document_file(const std::filesystem::path& path, const DocumentKind& kind) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return make_error(Errc::not_found, path.string() + ": no such " + kind.short_ + " file");
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return make_error(Errc::io, path.string() + ": " + ec.message());
  if (size > kind.max_bytes) return make_error(kind.errc, path.string() + ": larger than 4 MiB; not a " + kind.full);
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::io, path.string() + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace ktune::json_input
