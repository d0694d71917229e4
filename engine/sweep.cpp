// Parsing and validating a sweep file (docs/sweep.md). Like the spec parser, every mistake is one
// error naming the field as a path ("items[2].sizes[0].M"), prefixed with the sweep file's name.
#include "engine/sweep.hpp"


#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "engine/model/json_input.hpp"
#include "tuner/strategy_factory.hpp"

namespace ktune {

namespace {

using json = json_input::json;
using json_input::type_name;

// Sweeps are small; anything bigger is a mistake.
constexpr json_input::DocumentKind kSweepDocument{"sweep file", "sweep", Errc::invalid_argument};

using SweepFailure = json_input::FieldError;

class SweepReader {
 public:
  explicit SweepReader(std::filesystem::path base_dir) : base_dir_(std::move(base_dir)) {}

  SweepPlan read(const json& root) {
    SweepPlan plan;
    if (!root.is_object()) fail("(top level)", "must be an object, got " + type_name(root));
    check_fields(root, "", {"ktune_sweep", "description", "strategy", "budget", "items"});

    auto version = root.find("ktune_sweep");
    if (version == root.end()) fail("ktune_sweep", "missing required field (the sweep format version: 1)");
    if (!version->is_number_integer())
      fail("ktune_sweep", "must be an integer (the sweep format version), got " + type_name(*version));
    if (version->get<std::int64_t>() != kSweepVersion)
      fail("ktune_sweep", "version " + version->dump() + " is not supported; this ktune reads version " +
                              std::to_string(kSweepVersion));
    if (root.contains("description") && !root["description"].is_string())
      fail("description", "must be a string, got " + type_name(root["description"]));
    if (root.contains("strategy")) plan.strategy = read_strategy(root["strategy"], "strategy");
    if (root.contains("budget")) plan.budget = read_budget(root["budget"], "budget");

    auto items = root.find("items");
    if (items == root.end()) fail("items", "missing required field (the list of {\"spec\": ..., \"sizes\": [...]})");
    if (!items->is_array()) fail("items", "must be an array of objects, got " + type_name(*items));
    if (items->empty()) fail("items", "is empty: nothing to tune");
    for (std::size_t i = 0; i < items->size(); ++i) plan.items.push_back(read_item((*items)[i], index("items", i), plan));
    return plan;
  }

 private:
  [[noreturn]] static void fail(const std::string& path, const std::string& message) { throw SweepFailure{path, message}; }
  static std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
  static std::string index(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

  static void check_fields(const json& object, const std::string& path, std::initializer_list<std::string_view> known) {
    if (auto unknown = json_input::find_unknown_field(object, known))
      fail(join(path, unknown->key), "unknown field" + unknown->hint);
  }

  static std::string read_strategy(const json& value, const std::string& path) {
    if (!value.is_string()) fail(path, "must be a string (" + std::string(strategy_names()) + "), got " + type_name(value));
    auto kind = parse_strategy_kind(value.get<std::string>());
    if (!kind) fail(path, "unknown strategy \"" + value.get<std::string>() + "\" (" + std::string(strategy_names()) + ")");
    return std::string(strategy_kind_name(*kind));
  }

  static std::size_t read_budget(const json& value, const std::string& path) {
    if (value.is_number_unsigned()) return value.get<std::size_t>();
    if (value.is_number_integer())
      fail(path, "must be a non-negative integer (new evaluations per size set; 0: no limit), got " + value.dump());
    fail(path, "must be a non-negative integer (new evaluations per size set; 0: no limit), got " + type_name(value));
  }

  SweepItem read_item(const json& item, const std::string& path, const SweepPlan& plan) {
    if (!item.is_object()) fail(path, "must be an object {\"spec\": ..., \"sizes\": [...]}, got " + type_name(item));
    check_fields(item, path, {"spec", "sizes", "strategy", "budget"});
    SweepItem out;
    out.strategy = item.contains("strategy") ? read_strategy(item["strategy"], join(path, "strategy")) : plan.strategy;
    out.budget = item.contains("budget") ? read_budget(item["budget"], join(path, "budget")) : plan.budget;

    const std::string spec_path = join(path, "spec");
    auto spec = item.find("spec");
    if (spec == item.end()) fail(spec_path, "missing required field (a kernel spec file, relative to the sweep file)");
    if (!spec->is_string()) fail(spec_path, "must be a file name, got " + type_name(*spec));
    out.spec_field = spec->get<std::string>();
    if (out.spec_field.empty()) fail(spec_path, "is empty");
    out.spec_path = (base_dir_ / out.spec_field).lexically_normal();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(out.spec_path, ec)) fail(spec_path, "no such spec file: " + out.spec_path.string());
    auto loaded = KernelSpec::from_file(out.spec_path);
    if (!loaded) fail(spec_path, loaded.error().message);  // the spec's own message names its file and field
    out.spec = std::move(*loaded);

    const std::string sizes_path = join(path, "sizes");
    auto sizes = item.find("sizes");
    if (sizes == item.end()) fail(sizes_path, "missing required field (a list of size sets, e.g. [{\"M\": 1024, ...}])");
    if (!sizes->is_array()) fail(sizes_path, "must be an array of objects like {\"M\": 1024}, got " + type_name(*sizes));
    if (sizes->empty()) fail(sizes_path, "is empty: give at least one size set");
    const std::string identity = identity_of(out.spec_path);
    for (std::size_t s = 0; s < sizes->size(); ++s) {
      const std::string set_path = index(sizes_path, s);
      Sizes set = read_sizes((*sizes)[s], set_path, out.spec);
      auto [it, inserted] = seen_.emplace(identity + "\n" + format_named(set), set_path);
      if (!inserted)
        fail(set_path, "duplicate: " + out.spec.name + " at " + format_named(set) + " is also " + it->second +
                           " (a run is tuned once; remove one)");
      out.sizes.push_back(std::move(set));
    }
    return out;
  }

  static Sizes read_sizes(const json& value, const std::string& path, const KernelSpec& spec) {
    if (!value.is_object()) fail(path, "must be an object like {\"M\": 1024}, got " + type_name(value));
    Sizes given;
    for (const auto& [name, v] : value.items()) {
      const std::string field = join(path, name);
      if (!v.is_number_integer()) fail(field, "must be an integer, got " + type_name(v));
      auto number = json_input::as_int64(v);
      if (!number) fail(field, "is too large");
      given.emplace_back(name, *number);
    }
    // The spec's order: keys and output do not depend on how the file wrote them. (A size written
    // twice cannot reach here: the JSON reader rejects duplicate keys.)
    auto ordered = spec.ordered_sizes(given);
    if (!ordered) fail(path, ordered.error().message);
    return std::move(*ordered);
  }

  // Two spellings of one spec file ("sgemm.json", "./sgemm.json") are one kernel for duplicates.
  static std::string identity_of(const std::filesystem::path& path) {
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(path, ec);
    return (ec ? path.lexically_normal() : canonical).string();
  }

  std::filesystem::path base_dir_;
  std::map<std::string, std::string> seen_;  // spec identity + sizes -> the field that named it first
};

}  // namespace

std::size_t SweepPlan::run_count() const noexcept {
  std::size_t n = 0;
  for (const auto& item : items) n += item.sizes.size();
  return n;
}

Result<SweepPlan> parse_sweep(std::string_view text, const std::filesystem::path& base_dir, const std::string& origin) {
  return json_input::read_document(text, kSweepDocument, origin, [&](const json& root) { return SweepReader(base_dir).read(root); });
}

Result<SweepPlan> load_sweep(const std::filesystem::path& path) {
  auto text = json_input::read_document_file(path, kSweepDocument);
  if (!text) return text.error();
  auto plan = parse_sweep(*text, path.parent_path(), path.string());
  if (plan) plan->path = path;
  return plan;
}

}  // namespace ktune
