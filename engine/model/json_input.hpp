#pragma once
// Reading user-written JSON (kernel specs, sweep files) the same way everywhere: duplicate keys
// are mistakes (nlohmann would keep the last one silently), unknown fields get a "did you mean",
// parse errors say line and column, types are named the way a person reads them.
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "engine/common/json_integer.hpp"
#include "engine/common/result.hpp"

namespace ktune::json_input {

using json = nlohmann::ordered_json;

// A mistake at a field, thrown inside a reader and turned into one Error by read_document:
// "<origin>: <path>: <message>" ("sweep.json: items[1].sizes[0]: unknown size Q ...").
struct FieldError {
  std::string path;  // empty: the message stands alone
  std::string message;
};

// What a document is called in messages: "kernel spec" / "spec", "sweep file" / "sweep".
struct DocumentKind {
  const char* full;   // "larger than 4 MiB; not a <full>"
  const char* short_;  // "malformed <short_>: ...", "no such <short_> file"
  Errc errc;          // the code of every mistake in the document
  std::size_t max_bytes = std::size_t{4} << 20;  // user-written documents are small
};

// Parses `text` (duplicate keys rejected) and hands the root to `read`, which throws FieldError
// for a mistake; every failure comes back as one Error prefixed with `origin`.
template <class Read>
auto read_document(std::string_view text, const DocumentKind& kind, const std::string& origin, Read&& read)
    -> Result<decltype(read(std::declval<const json&>()))>;

// The whole file, refused before reading when it is missing or larger than kind.max_bytes.
Result<std::string> read_document_file(const std::filesystem::path& path, const DocumentKind& kind);

// An integer field as int64 (engine/common/json_integer.hpp, shared with the store's table reader).
inline std::optional<std::int64_t> as_int64(const json& value) { return json_int64(value); }

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

template <class Read>
auto read_document(std::string_view text, const DocumentKind& kind, const std::string& origin, Read&& read)
    -> Result<decltype(read(std::declval<const json&>()))> {
  auto error = [&](const std::string& message) { return make_error(kind.errc, origin + ": " + message); };
  if (text.size() > kind.max_bytes) return error("larger than 4 MiB; not a " + std::string(kind.full));
  try {
    std::string duplicate;
    json root = parse_rejecting_duplicates(text, duplicate);
    if (!duplicate.empty()) throw FieldError{duplicate, "duplicate key in the JSON (a later value would silently win)"};
    return read(root);
  } catch (const FieldError& failure) {
    return error(failure.path.empty() ? failure.message : failure.path + ": " + failure.message);
  } catch (const json::parse_error& e) {
    return error(describe_parse_error(text, e));
  } catch (const json::exception& e) {
    return error("malformed " + std::string(kind.short_) + ": " + e.what());
  }
}

}  // namespace ktune::json_input
