// `ktune space SPEC [--size ...]` — how big the search space is, what the constraints reject, and
// a few sample configurations.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "tools/commands.hpp"
#include "tools/spec_loading.hpp"
#include "tools/tuning_output.hpp"
#include "tuner/search_space.hpp"

namespace ktune::cli {

namespace {

struct SpaceOptions {
  std::string spec;
  std::string sizes;
  std::size_t samples = 5;
  std::uint64_t seed = 1;
  bool json = false;
  bool no_check = false;
  std::string arch;
};

std::string values_text(const Parameter& p) {
  std::string out;
  for (auto v : p.values) out += (out.empty() ? "" : " ") + p.value_text(v);
  return out;
}

void run(const SpaceOptions& options) {
  KernelSpec spec = load_spec(options.spec);
  std::optional<Sizes> sizes;
  if (!options.sizes.empty()) sizes = parse_sizes(options.sizes, spec);

  auto start = std::chrono::steady_clock::now();
  SearchSpace space = SearchSpace::build(spec.space, sizes ? &*sizes : nullptr).value_or_throw();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto samples = space.sample(options.samples, options.seed);
  // Before the space is worth reading, the kernel must be the one the spec describes.
  std::string entry_check = "not checked (--no-check)";
  if (!options.no_check)
    entry_check = check_entry_and_args(spec, choose_compile_arch(options.arch, spec), nullptr, false, sizes ? &*sizes : nullptr);
  // A constraint over sizes can reject the default at some sizes; the parser checks it only
  // without sizes (spec_json.cpp), so it is said here, where sizes are known.
  const std::optional<std::string> default_problem = sizes ? spec.why_default_invalid_at(*sizes) : std::nullopt;

  if (options.json) {
    nlohmann::ordered_json out;
    out["kernel"] = spec.name;
    out["product"] = space.product();
    out["valid"] = space.valid_count();
    out["sizes_applied"] = space.sizes_applied();
    if (sizes) out["default_valid"] = !default_problem;
    if (default_problem) out["default_problem"] = *default_problem;
    nlohmann::ordered_json constraints = nlohmann::ordered_json::array();
    for (std::size_t c = 0; c < spec.space.constraints.size(); ++c) {
      const auto& constraint = spec.space.constraints[c];
      bool skipped = constraint.uses_sizes && !space.sizes_applied();
      constraints.push_back({{"constraint", constraint.expr.text()},
                             {"rejected", space.first_rejections()[c]},
                             {"skipped", skipped}});
    }
    out["constraints"] = constraints;
    out["verified_against"] = spec.describe_reference();
    nlohmann::ordered_json sample_list = nlohmann::ordered_json::array();
    for (const auto& config : samples) {
      sample_list.push_back(config_json(config, &spec.space));
    }
    out["samples"] = sample_list;
    out["filter_seconds"] = seconds;
    out["entry_check"] = entry_check;
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }

  std::printf("%s  (%s)\n", spec.name.c_str(), options.spec.c_str());
  if (sizes) std::printf("sizes        %s\n", format_named(*sizes).c_str());
  bool first = true;
  for (const auto& p : spec.space.params) {
    std::printf("%-12s %s: %s\n", first ? "parameters" : "", p.name.c_str(), values_text(p).c_str());
    first = false;
  }
  std::printf("product      %s configurations\n", fmt::format("{}", space.product()).c_str());
  const double fraction = space.product() ? 100.0 * static_cast<double>(space.valid_count()) / static_cast<double>(space.product()) : 0;
  const double rate = seconds > 0 ? static_cast<double>(space.product()) / seconds : 0;
  std::printf("valid        %llu (%.1f %%)   filtered in %.3f ms (%.3g configs/s)\n",
              static_cast<unsigned long long>(space.valid_count()), fraction, seconds * 1e3, rate);
  first = true;
  for (std::size_t c = 0; c < spec.space.constraints.size(); ++c) {
    const auto& constraint = spec.space.constraints[c];
    if (constraint.uses_sizes && !space.sizes_applied()) {
      std::printf("%-12s %-40s not applied: depends on sizes (pass --size)\n", first ? "constraints" : "",
                  constraint.expr.text().c_str());
    } else {
      std::printf("%-12s %-40s rejects %llu\n", first ? "constraints" : "", constraint.expr.text().c_str(),
                  static_cast<unsigned long long>(space.first_rejections()[c]));
    }
    first = false;
  }
  if (space.evaluation_failures())
    std::printf("             (%llu configurations rejected because a constraint could not be evaluated)\n",
                static_cast<unsigned long long>(space.evaluation_failures()));
  std::printf("entry        %s\n", entry_check.c_str());
  std::printf("default      %s\n", spec.space.format(spec.default_config).c_str());
  std::printf("verify       against %s\n", spec.describe_reference().c_str());
  if (!spec.objective.by_time())
    std::printf("objective    maximize %s per second (metrics.%s), not time per launch\n", spec.objective.maximize.c_str(),
                spec.objective.maximize.c_str());
  if (default_problem)
    std::printf("             warning: the default is not valid at %s: %s\n", format_named(*sizes).c_str(),
                default_problem->c_str());
  first = true;
  for (const auto& config : samples) {
    std::printf("%-12s %s\n", first ? "samples" : "", spec.space.format(config).c_str());
    first = false;
  }
}

}  // namespace

void add_space_command(CLI::App& app) {
  auto options = std::make_shared<SpaceOptions>();
  auto* cmd = app.add_subcommand("space", "Show a spec's search space: size, valid configurations, samples");
  cmd->add_option("spec", options->spec, "Kernel spec (JSON)")->required();
  cmd->add_option("--size,-s", options->sizes, "Problem sizes, e.g. M=4096,N=4096,K=4096 (applies size constraints)");
  cmd->add_option("--samples", options->samples, "How many sample configurations to print")->capture_default_str();
  cmd->add_option("--seed", options->seed, "Seed of the sample")->capture_default_str();
  cmd->add_flag("--json", options->json, "Machine-readable output");
  cmd->add_flag("--no-check", options->no_check,
                "Skip the NVRTC check of the entry and of args against the kernel's parameters");
  cmd->add_option("--arch", options->arch, "Architecture of the entry check (default: the first GPU's, else sm_90)");
  cmd->callback([options] { run(*options); });
}

}  // namespace ktune::cli
