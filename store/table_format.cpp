#include "store/table_format.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "engine/common/json_integer.hpp"
#include "store/try.hpp"

namespace ktune::store {

namespace {
using Json = nlohmann::ordered_json;  // keeps sizes and configs in spec order, both ways

Json named_to_json(const NamedValues& values) {
  Json object = Json::object();
  for (const auto& [name, value] : values) object[name] = value;
  return object;
}

std::vector<std::int64_t> size_values(const Sizes& sizes) {
  std::vector<std::int64_t> out;
  out.reserve(sizes.size());
  for (const auto& item : sizes) out.push_back(item.second);
  return out;
}

// Validation state for one object: checks fields one by one and names the object in errors.
class Fields {
 public:
  Fields(const Json& object, std::string where) : object_(object), where_(std::move(where)) {}

  Error error(const std::string& what) const { return make_error(Errc::corrupt, where_ + ": " + what); }

  Status known_only(std::initializer_list<std::string_view> names) const {
    for (auto it = object_.begin(); it != object_.end(); ++it)
      if (std::find(names.begin(), names.end(), it.key()) == names.end())
        return error("unknown field '" + it.key() + "'");
    for (std::string_view name : names)
      if (!object_.contains(name)) return error("missing field '" + std::string(name) + "'");
    return Ok{};
  }

  Result<std::string> text(const char* name, bool allow_empty = false) const {
    const Json& v = object_.at(name);
    if (!v.is_string()) return error("field '" + std::string(name) + "' must be a string");
    std::string s = v.get<std::string>();
    if (s.empty() && !allow_empty) return error("field '" + std::string(name) + "' must not be empty");
    return s;
  }

  Result<std::string> key(const char* name) const {
    auto s = text(name);
    if (!s) return s;
    if (!is_key(*s)) return error("field '" + std::string(name) + "' must be 32 lowercase hex digits, got '" + *s + "'");
    return s;
  }

  Result<std::int64_t> integer(const Json& v, const std::string& name) const {
    if (!v.is_number_integer()) return error("field '" + name + "' must be an integer");
    if (auto value = json_int64(v)) return *value;
    return error("field '" + name + "' is out of range");
  }
  Result<std::int64_t> integer(const char* name) const { return integer(object_.at(name), name); }

  Result<double> number(const char* name) const {
    const Json& v = object_.at(name);
    if (!v.is_number()) return error("field '" + std::string(name) + "' must be a number");
    return v.get<double>();
  }

  Result<NamedValues> named(const char* name) const {
    const Json& v = object_.at(name);
    if (!v.is_object()) return error("field '" + std::string(name) + "' must be an object of integers");
    NamedValues out;
    for (auto it = v.begin(); it != v.end(); ++it) {
      auto value = integer(it.value(), std::string(name) + "." + it.key());
      if (!value) return value.error();
      out.emplace_back(it.key(), *value);
    }
    return out;
  }

 private:
  const Json& object_;
  std::string where_;
};

Result<KernelRecord> parse_kernel(const Json& j, std::size_t index) {
  std::string where = "kernels[" + std::to_string(index) + "]";
  if (!j.is_object()) return make_error(Errc::corrupt, where + ": must be an object");
  if (j.contains("name") && j["name"].is_string()) where += " (" + j["name"].get<std::string>() + ")";
  Fields f(j, where);
  KTUNE_TRY(f.known_only({"kernel_key", "name", "kernel_json"}));
  KernelRecord k;
  KTUNE_ASSIGN_OR_RETURN(k.kernel_key, f.key("kernel_key"));
  KTUNE_ASSIGN_OR_RETURN(k.name, f.text("name"));
  KTUNE_ASSIGN_OR_RETURN(k.kernel_json, f.text("kernel_json"));
  if (auto valid = validate(k); !valid) return f.error(valid.error().message);
  return k;
}

Result<BestRecord> parse_entry(const Json& j, std::size_t index) {
  std::string where = "entries[" + std::to_string(index) + "]";
  if (!j.is_object()) return make_error(Errc::corrupt, where + ": must be an object");
  if (j.contains("tuning_key") && j["tuning_key"].is_string())
    where += " (tuning_key " + j["tuning_key"].get<std::string>() + ")";
  Fields f(j, where);
  KTUNE_TRY(f.known_only({"tuning_key", "kernel_key", "sizes", "device", "arch", "toolchain", "config", "time_ns",
                          "default_time_ns", "strategy", "evaluations", "wall_seconds", "tuned_at",
                          "ktune_version"}));
  BestRecord b;
  KTUNE_ASSIGN_OR_RETURN(b.tuning.tuning_key, f.key("tuning_key"));
  KTUNE_ASSIGN_OR_RETURN(b.tuning.kernel_key, f.key("kernel_key"));
  KTUNE_ASSIGN_OR_RETURN(b.tuning.sizes, f.named("sizes"));
  KTUNE_ASSIGN_OR_RETURN(b.tuning.device, f.text("device"));
  KTUNE_ASSIGN_OR_RETURN(b.tuning.arch, f.text("arch"));
  KTUNE_ASSIGN_OR_RETURN(b.tuning.toolchain, f.text("toolchain"));
  KTUNE_ASSIGN_OR_RETURN(b.config, f.named("config"));
  KTUNE_ASSIGN_OR_RETURN(b.time_ns, f.number("time_ns"));
  if (!j["default_time_ns"].is_null()) {
    double d = 0;
    KTUNE_ASSIGN_OR_RETURN(d, f.number("default_time_ns"));
    b.default_time_ns = d;
  }
  KTUNE_ASSIGN_OR_RETURN(b.strategy, f.text("strategy"));
  KTUNE_ASSIGN_OR_RETURN(b.evaluations, f.integer("evaluations"));
  KTUNE_ASSIGN_OR_RETURN(b.wall_seconds, f.number("wall_seconds"));
  std::string tuned_at;
  KTUNE_ASSIGN_OR_RETURN(tuned_at, f.text("tuned_at"));
  auto when = parse_utc(tuned_at);
  if (!when) return f.error("field 'tuned_at': " + when.error().message);
  b.tuned_at = *when;
  KTUNE_ASSIGN_OR_RETURN(b.ktune_version, f.text("ktune_version"));
  if (auto valid = validate(b); !valid) return f.error(valid.error().message);
  return b;
}

}  // namespace

void sort_canonical(LookupTable& table) {
  std::map<std::string, std::string, std::less<>> names;
  for (const auto& k : table.kernels) names[k.kernel_key] = k.name;
  std::sort(table.kernels.begin(), table.kernels.end(), [](const KernelRecord& a, const KernelRecord& b) {
    return std::tie(a.name, a.kernel_key) < std::tie(b.name, b.kernel_key);
  });
  auto order = [&](const BestRecord& e) {
    return std::make_tuple(names[e.tuning.kernel_key], e.tuning.kernel_key, e.tuning.device, e.tuning.toolchain,
                           size_values(e.tuning.sizes), e.tuning.tuning_key);
  };
  std::sort(table.entries.begin(), table.entries.end(),
            [&](const BestRecord& a, const BestRecord& b) { return order(a) < order(b); });
}

std::string table_to_json(const LookupTable& table) {
  Json root = Json::object();
  root["format"] = kTableFormatName;
  root["version"] = kTableFormatVersion;
  root["kernels"] = Json::array();
  for (const auto& k : table.kernels)
    root["kernels"].push_back(Json{{"kernel_key", k.kernel_key}, {"name", k.name}, {"kernel_json", k.kernel_json}});
  root["entries"] = Json::array();
  for (const auto& e : table.entries) {
    Json entry = Json::object();
    entry["tuning_key"] = e.tuning.tuning_key;
    entry["kernel_key"] = e.tuning.kernel_key;
    entry["sizes"] = named_to_json(e.tuning.sizes);
    entry["device"] = e.tuning.device;
    entry["arch"] = e.tuning.arch;
    entry["toolchain"] = e.tuning.toolchain;
    entry["config"] = named_to_json(e.config);
    entry["time_ns"] = e.time_ns;
    entry["default_time_ns"] = e.default_time_ns ? Json(*e.default_time_ns) : Json(nullptr);
    entry["strategy"] = e.strategy;
    entry["evaluations"] = e.evaluations;
    entry["wall_seconds"] = e.wall_seconds;
    entry["tuned_at"] = format_utc(e.tuned_at);
    entry["ktune_version"] = e.ktune_version;
    root["entries"].push_back(std::move(entry));
  }
  return root.dump(2) + "\n";
}

Result<LookupTable> table_from_json(std::string_view text) {
  Json root;
  try {
    root = Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    return make_error(Errc::corrupt, std::string("not valid JSON (truncated?): ") + e.what());
  } catch (const nlohmann::json::exception& e) {
    // A number beyond a double's range (1e400) is out_of_range, not parse_error: still bad input.
    return make_error(Errc::corrupt, std::string("not a valid lookup table: ") + e.what());
  }
  if (!root.is_object()) return make_error(Errc::corrupt, "a lookup table must be a JSON object");
  Fields top(root, "lookup table");
  KTUNE_TRY(top.known_only({"format", "version", "kernels", "entries"}));
  if (root["format"] != kTableFormatName)
    return top.error("field 'format' must be \"" + std::string(kTableFormatName) + "\"");
  auto version = top.integer("version");
  if (!version) return version.error();
  if (*version != kTableFormatVersion)
    return make_error(Errc::unsupported, "lookup table format version " + std::to_string(*version) +
                                             " is not supported (this ktune reads version " +
                                             std::to_string(kTableFormatVersion) + ")");
  if (!root["kernels"].is_array()) return top.error("field 'kernels' must be an array");
  if (!root["entries"].is_array()) return top.error("field 'entries' must be an array");

  LookupTable table;
  for (std::size_t i = 0; i < root["kernels"].size(); ++i) {
    auto kernel = parse_kernel(root["kernels"][i], i);
    if (!kernel) return kernel.error();
    table.kernels.push_back(std::move(*kernel));
  }
  for (std::size_t i = 0; i < root["entries"].size(); ++i) {
    auto entry = parse_entry(root["entries"][i], i);
    if (!entry) return entry.error();
    table.entries.push_back(std::move(*entry));
  }
  if (auto ok = check_table(table); !ok) return ok.error();
  return table;
}

Status check_table(const LookupTable& table) {
  std::set<std::string, std::less<>> kernel_keys, tuning_keys;
  for (std::size_t i = 0; i < table.kernels.size(); ++i) {
    const KernelRecord& k = table.kernels[i];
    const std::string where = "kernels[" + std::to_string(i) + "] (" + k.name + ")";
    if (auto ok = validate(k); !ok) return make_error(Errc::corrupt, where + ": " + ok.error().message);
    if (!kernel_keys.insert(k.kernel_key).second)
      return make_error(Errc::corrupt, where + ": kernel_key " + k.kernel_key + " appears twice");
  }
  for (std::size_t i = 0; i < table.entries.size(); ++i) {
    const BestRecord& e = table.entries[i];
    const std::string where = "entries[" + std::to_string(i) + "] (tuning_key " + e.tuning.tuning_key + ")";
    if (auto ok = validate(e); !ok) return make_error(Errc::corrupt, where + ": " + ok.error().message);
    if (!tuning_keys.insert(e.tuning.tuning_key).second) return make_error(Errc::corrupt, where + ": tuning_key appears twice");
    if (!kernel_keys.contains(e.tuning.kernel_key))
      return make_error(Errc::corrupt, where + ": kernel_key " + e.tuning.kernel_key + " is not among the table's kernels");
  }
  return Ok{};
}

std::string format_utc(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

Result<std::int64_t> parse_utc(std::string_view text) {
  auto bad = [&] {
    return make_error(Errc::corrupt, "'" + std::string(text) + "' is not a UTC time like 2026-11-22T10:15:00Z");
  };
  if (text.size() != 20) return bad();
  std::tm tm{};
  int consumed = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 20)
    return bad();
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::int64_t seconds = static_cast<std::int64_t>(timegm(&tm));
  // timegm normalises 2026-13-40 into a real date; only a text that round-trips is accepted.
  if (format_utc(seconds) != text) return bad();
  return seconds;
}

}  // namespace ktune::store
