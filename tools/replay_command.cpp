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
  std::string spec, sizes, from, device, arch, nvrtc, strategy = "coordesc";
  std::size_t random_starts = 0, random_count = 64;
  std::uint64_t seed = 1;
  bool json = false;
};

void run(const ReplayOptions& o) {
  KernelSpec spec = load_spec(o.spec);
  Sizes sizes = parse_sizes(o.sizes, spec);
  if (o.device.empty() || o.arch.empty()) throw CliFailure("--device and --arch: name the GPU the recording was made on");
  Toolchain toolchain = o.nvrtc.empty() ? current_toolchain() : Toolchain{o.nvrtc};
  TuneOptions options;
  options.strategy = o.strategy;
  options.random_starts = o.random_starts;
  options.random_count = o.random_count;
  options.seed = o.seed;
  auto report = replay(spec, sizes, {o.device, o.arch}, toolchain, std::filesystem::path(o.from), options).value_or_throw();
  const double used = report.recorded ? 100.0 * static_cast<double>(report.run.evaluated) / static_cast<double>(report.recorded) : 0;
  if (o.json) {
    nlohmann::ordered_json out;
    out["strategy"] = report.run.strategy;
    out["evaluations"] = report.run.evaluated;
    out["recorded"] = report.recorded;
    out["best_ns"] = report.run.best_ns;
    out["recorded_best_ns"] = report.recorded_best_ns;
    out["quality"] = report.quality();
    out["best"] = format_named(report.run.best);
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("%s on recorded %s measurements (%zu configurations)\n", report.run.strategy.c_str(), o.device.c_str(), report.recorded);
  std::printf("found     %s   %s after %zu evaluations (%.0f %% of the recording)\n", format_named(report.run.best).c_str(),
              format_time(report.run.best_ns).c_str(), report.run.evaluated, used);
  const double gap = report.run.best_ns / report.recorded_best_ns - 1;
  std::string verdict = report.run.best == report.recorded_best ? "found it"
                        : gap > 0 ? "found is " + std::to_string(100 * gap).substr(0, 4) + " % slower"
                                  : "found is as fast (within measurement noise)";
  std::printf("recorded  %s   %s (the exhaustive best): %s\n", format_named(report.recorded_best).c_str(),
              format_time(report.recorded_best_ns).c_str(), verdict.c_str());
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
  cmd->add_option("--strategy", o->strategy, "coordesc (default), exhaustive or random")->capture_default_str();
  cmd->add_option("--random-starts", o->random_starts, "coordesc: random starting points besides the default");
  cmd->add_option("--samples", o->random_count, "Configurations tried by --strategy random")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of random choices")->capture_default_str();
  cmd->add_flag("--json", o->json, "Machine-readable output");
  cmd->callback([o] { run(*o); });
}

}  // namespace ktune::cli
