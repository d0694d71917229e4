// `ktune lookup SPEC --size ...` — what the lookup table answers, and which rule matched. Never
// tunes, never creates a store.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <nlohmann/json.hpp>

#include "engine/common/printable.hpp"
#include "engine/lookup_table.hpp"
#include "engine/store_file.hpp"
#include "tools/commands.hpp"
#include "tools/spec_loading.hpp"
#include "tools/tuning_output.hpp"

namespace ktune::cli {

namespace {

struct LookupOptions {
  std::string spec, sizes, device, arch, db;
  bool json = false;
};

std::string date_of(std::int64_t unix_seconds) {
  std::string text = format_utc(unix_seconds);
  return text.substr(0, 10);
}

void run(const LookupOptions& o) {
  KernelSpec spec = load_spec(o.spec);
  const Sizes sizes = parse_sizes(o.sizes, spec);
  const DeviceSignature device = resolve_device(o.device, o.arch);
  const auto table = LookupTable::open(default_store_path(o.db)).value_or_throw();
  const LookupAnswer answer = table.lookup(spec, sizes, device).value_or_throw();
  const Config& config = answer.entry ? answer.entry->config : spec.default_config;
  // Stored answers are valid at these sizes (LookupTable skips others); the default may not be.
  const std::optional<std::string> default_problem =
      answer.entry ? std::nullopt : spec.why_default_invalid_at(spec.ordered_sizes(sizes).value_or_throw());
  if (default_problem)
    std::fprintf(stderr, "ktune: warning: the spec's default %s is not valid at %s (%s); tune at these sizes\n",
                 spec.space.format(config).c_str(), format_named(sizes).c_str(), default_problem->c_str());

  std::string why;
  switch (answer.rule) {
    case LookupRule::exact: why = "exact match"; break;
    case LookupRule::bucket: why = "bucket match, tuned at " + format_named(answer.entry->tuning.sizes) + " for its bucket"; break;
    case LookupRule::nearest_size:
      why = "nearest tuned size " + format_named(answer.entry->tuning.sizes) + ", distance " + std::to_string(answer.distance).substr(0, 4);
      break;
    case LookupRule::same_arch: why = "same architecture, tuned on " + answer.entry->tuning.device; break;
    case LookupRule::none:
      why = default_problem ? "the spec's default, NOT VALID at these sizes: nothing valid tuned for this kernel here"
                            : "the spec's default: nothing tuned for this kernel here";
      break;
  }
  if (o.json) {
    nlohmann::ordered_json out;
    out["config"] = config_json(config, &spec.space);
    out["rule"] = std::string(to_string(answer.rule));
    out["valid"] = !default_problem;
    if (default_problem) out["problem"] = *default_problem;
    if (answer.entry) {
      out["time_ns"] = answer.entry->time_ns;
      out["tuned_on"] = answer.entry->tuning.device;
      out["tuned_sizes"] = format_named(answer.entry->tuning.sizes);
      out["tuned_at"] = format_utc(answer.entry->tuned_at);
      out["distance"] = answer.distance;
    }
    std::printf("%s\n", printable_json(out.dump(2)).c_str());
    return;
  }
  std::string detail = why;
  if (answer.entry) {
    char time[32];
    std::snprintf(time, sizeof time, "%.3f ms", answer.entry->time_ns / 1e6);
    detail += ", tuned " + date_of(answer.entry->tuned_at) + " on " + answer.entry->tuning.device + ", " + time;
  }
  std::printf("%s   (%s)\n", printable(spec.space.format(config)).c_str(), printable(detail).c_str());
}

}  // namespace

void add_lookup_command(CLI::App& app) {
  auto o = std::make_shared<LookupOptions>();
  auto* cmd = app.add_subcommand("lookup", "Answer from the lookup table (exact, nearest size, same architecture, default)");
  cmd->add_option("spec", o->spec, "Kernel spec (JSON)")->required();
  cmd->add_option("--size,-s", o->sizes, "Problem sizes, e.g. M=4096,N=4096,K=4096")->required();
  cmd->add_option("--device", o->device, "Device name (default: the first GPU)");
  cmd->add_option("--arch", o->arch, "Architecture, e.g. sm_90 (default: the first GPU's)");
  cmd->add_option("--db", o->db, "Store file (default: $KTUNE_DB or ~/.cache/ktune/ktune.db)");
  cmd->add_flag("--json", o->json, "Machine-readable output");
  cmd->callback([o] { run(*o); });
}

}  // namespace ktune::cli
