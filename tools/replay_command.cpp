// `ktune replay SPEC --size ... --from recorded.db` — run a strategy on recorded measurements (no
// GPU) and compare its answer and its cost with the best recorded configuration.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/replay.hpp"
#include "engine/model/toolchain.hpp"
#include "tools/commands.hpp"
#include "tools/spec_loading.hpp"
#include "tools/tuning_output.hpp"

namespace ktune::cli {

namespace {
struct ReplayOptions {
  std::string spec, sizes, from, device, arch, nvrtc, strategy = std::string(kDefaultStrategy);
  std::size_t random_starts = 0, random_count = 64, budget = 0, repeat = 1;
  std::uint64_t seed = 1;
  bool json = false;
};

std::string percent(double fraction) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, fraction < 0.1 ? "%.1f %%" : "%.0f %%", 100 * fraction);
  return buffer;
}

void run(const ReplayOptions& o) {
  KernelSpec spec = load_spec(o.spec);
  Sizes sizes = parse_sizes(o.sizes, spec);
  if (o.device.empty() || o.arch.empty()) throw CliFailure("--device and --arch: name the GPU the recording was made on");
  if (o.repeat == 0) throw CliFailure("--repeat must be at least 1");
  Toolchain toolchain = o.nvrtc.empty() ? current_toolchain() : Toolchain{o.nvrtc};
  TuneOptions options;
  options.strategy = o.strategy;
  options.random_starts = o.random_starts;
  options.random_count = o.random_count;
  options.seed = o.seed;
  options.limits.max_evaluations = o.budget;
  auto space = RecordedSpace::open(spec, sizes, {o.device, o.arch}, toolchain, std::filesystem::path(o.from)).value_or_throw();
  auto study = space.study(options, o.repeat).value_or_throw();
  const ReplayReport& first = study.runs.front();
  const double valid = static_cast<double>(first.valid);
  if (o.json) {
    nlohmann::ordered_json out;
    out["strategy"] = first.run.strategy;
    out["budget"] = o.budget ? nlohmann::ordered_json(o.budget) : nullptr;
    out["valid"] = first.valid;
    out["recorded"] = first.recorded;
    out["recorded_best_ns"] = first.recorded_best_ns;
    out["recorded_best"] = format_named(first.recorded_best);
    if (o.repeat == 1) {
      out["evaluations"] = first.run.evaluated;
      out["fraction_evaluated"] = first.fraction_evaluated();
      out["best_ns"] = first.run.best_ns;
      out["quality"] = first.quality();
      out["best"] = format_named(first.run.best);
    } else {
      out["repeat"] = o.repeat;
      out["seeds"] = {o.seed, o.seed + o.repeat - 1};
      out["quality"] = {{"mean", study.mean_quality()}, {"min", study.min_quality()}, {"max", study.max_quality()}};
      out["mean_evaluations"] = study.mean_evaluated();
      out["mean_fraction_evaluated"] = valid > 0 ? study.mean_evaluated() / valid : 0;
      out["runs"] = nlohmann::ordered_json::array();
      for (const auto& r : study.runs)
        out["runs"].push_back({{"seed", options.seed + out["runs"].size()}, {"evaluations", r.run.evaluated}, {"best_ns", r.run.best_ns},
                               {"quality", r.quality()}, {"best", format_named(r.run.best)}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  const std::string budget = o.budget ? ", budget " + std::to_string(o.budget) + " evaluations" : "";
  std::printf("%s on recorded %s measurements (%zu valid configurations, %zu recorded%s)\n", first.run.strategy.c_str(),
              o.device.c_str(), first.valid, first.recorded, budget.c_str());
  if (o.repeat > 1) {
    std::printf("%zu runs (seeds %llu-%llu): fraction of the optimum mean %.3f, min %.3f, max %.3f; %.0f evaluations on average (%s of the valid space)\n",
                o.repeat, static_cast<unsigned long long>(o.seed), static_cast<unsigned long long>(o.seed + o.repeat - 1),
                study.mean_quality(), study.min_quality(), study.max_quality(), study.mean_evaluated(),
                percent(valid > 0 ? study.mean_evaluated() / valid : 0).c_str());
    std::printf("recorded  %s   %s (the exhaustive best)\n", format_named(first.recorded_best).c_str(),
                format_time(first.recorded_best_ns).c_str());
    return;
  }
  std::printf("found     %s   %s after %zu evaluations (%s of the valid space)\n", format_named(first.run.best).c_str(),
              format_time(first.run.best_ns).c_str(), first.run.evaluated, percent(first.fraction_evaluated()).c_str());
  const double gap = first.run.best_ns / first.recorded_best_ns - 1;
  char slower[48];
  std::snprintf(slower, sizeof slower, "found is %.1f %% slower", 100 * gap);
  std::string verdict = first.run.best == first.recorded_best ? "found it"
                        : gap > 0 ? slower
                                  : "found is as fast (within measurement noise)";
  std::printf("recorded  %s   %s (the exhaustive best): %s; fraction of the optimum %.3f\n", format_named(first.recorded_best).c_str(),
              format_time(first.recorded_best_ns).c_str(), verdict.c_str(), first.quality());
}
}  // namespace

void add_replay_command(CLI::App& app) {
  auto o = std::make_shared<ReplayOptions>();
  auto* cmd = app.add_subcommand("replay", "Run a strategy on recorded measurements instead of the GPU");
  cmd->add_option("spec", o->spec, "Kernel spec (JSON)")->required();
  cmd->add_option("--size,-s", o->sizes, "Problem sizes")->required();
  cmd->add_option("--from", o->from, "Store holding the recorded measurements (e.g. tests/data/h100-sgemm.db)")->required();
  cmd->add_option("--device", o->device, "GPU the recording was made on")->required();
  cmd->add_option("--arch", o->arch, "Its architecture, e.g. sm_90")->required();
  cmd->add_option("--nvrtc", o->nvrtc, "NVRTC version of the recording (default: this one)");
  cmd->add_option("--strategy", o->strategy, "bestfirst (default), coordesc, exhaustive or random")->capture_default_str();
  cmd->add_option("--random-starts", o->random_starts, "coordesc: random starting points besides the default");
  cmd->add_option("--samples", o->random_count, "Configurations tried by --strategy random")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of random choices (the first of --repeat runs)")->capture_default_str();
  cmd->add_option("--budget", o->budget, "At most this many evaluations (every strategy; random samples exactly this many)");
  cmd->add_option("--repeat", o->repeat, "Run this many times with seeds --seed, --seed+1, ...: mean, min and max fraction of the optimum")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Machine-readable output");
  cmd->callback([o] { run(*o); });
}

}  // namespace ktune::cli
