// `ktune tune SPEC --size ...` — tune a kernel at given sizes on this machine's GPU, with a
// progress line, and remember the winner. `ktune bench` measures one configuration.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <optional>
#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "tools/commands.hpp"
#include "tools/spec_loading.hpp"
#include "tools/tuning_output.hpp"
#include "tools/tuning_trace.hpp"

namespace ktune::cli {

namespace {

struct TuneCliOptions {
  std::string spec, sizes, strategy = std::string(kDefaultStrategy), db, arch, config, timer = "cupti", trace;
  std::size_t budget = 0, workers = 0, random_count = 64, random_starts = 0;
  double time_limit = 0;
  int device = 0;
  bool refine = false, force = false, warm_cache = false, json = false, no_cache = false;
  std::uint64_t seed = 1;
};

[[noreturn]] void no_gpu(const Error& error) {
  throw CliFailure("no GPU to tune on (" + error.message +
                       "); `ktune compile SPEC` compiles the space without one, `ktune replay` runs strategies "
                       "on recorded measurements",
                   3);
}

std::unique_ptr<Engine> make_engine(const TuneCliOptions& o) {
  EngineOptions options;
  options.store_path = o.db;
  options.workers = o.workers;
  options.device = o.device;
  options.use_cubin_cache = !o.no_cache;
  return Engine::create(options).value_or_throw();
}

TuneOptions tune_options(const TuneCliOptions& o) {
  TuneOptions t;
  t.strategy = o.strategy;
  t.limits.max_evaluations = o.budget;
  t.limits.max_seconds = o.time_limit;
  t.random_count = o.random_count;
  t.random_starts = o.random_starts;
  t.refine = o.refine;
  t.force = o.force;
  t.flush_l2 = !o.warm_cache;
  t.seed = o.seed;
  t.arch = o.arch;
  t.use_cupti = o.timer != "events";
  return t;
}

void run_tune(const TuneCliOptions& o) {
  KernelSpec spec = load_spec(o.spec);
  Sizes sizes = parse_sizes(o.sizes, spec);
  auto engine = make_engine(o);
  auto device = engine->device();
  if (!device) {
    if (device.error().code == Errc::no_gpu) no_gpu(device.error());
    throw KtuneError(device.error());
  }
  TuneOptions options = tune_options(o);
  ProgressPrinter progress(!o.json && isatty(STDERR_FILENO), o.json);
  if (!o.json)
    std::printf("tuning %s  %s  on %s (%s), strategy %s\n", spec.name.c_str(), format_named(sizes).c_str(), device->name.c_str(),
                device->arch.c_str(), o.strategy.c_str());
  std::fflush(stdout);
  options.hooks.on_progress = [&](const TuneProgress& p) { progress.update(p, o.strategy == "exhaustive"); };
  std::optional<TuningTrace> trace;
  if (!o.trace.empty()) {
    trace.emplace(o.trace, &spec.space);
    options.hooks.on_evaluation = [&](const Evaluation& e) { trace->record(e); };
  }
  auto outcome = engine->tune(spec, sizes, options);
  progress.finish();
  if (!outcome) throw KtuneError(outcome.error());
  if (o.json) {
    std::printf("%s\n", outcome_json(spec, sizes, *outcome, engine->store_path()).dump(2).c_str());
    return;
  }
  print_summary(spec, sizes, *outcome, engine->store_path());
}

void run_bench(const TuneCliOptions& o) {
  KernelSpec spec = load_spec(o.spec);
  Sizes sizes = parse_sizes(o.sizes, spec);
  Config config = spec.default_config;
  if (!o.config.empty()) {
    auto given = spec.space.parse(o.config);
    if (!given) throw CliFailure("--config: " + given.error().message);
    for (const auto& [name, value] : *given) {
      bool found = false;
      for (auto& [param, v] : config)
        if (param == name) {
          v = value;
          found = true;
        }
      if (!found) throw CliFailure("--config: " + name + " is not a parameter of " + spec.name);
    }
  }
  auto engine = make_engine(o);
  auto device = engine->device();
  if (!device) {
    if (device.error().code == Errc::no_gpu) no_gpu(device.error());
    throw KtuneError(device.error());
  }
  auto evaluation = engine->measure(spec, sizes, config, tune_options(o)).value_or_throw();
  print_measurement(spec, sizes, evaluation, *device, o.json);
}

void add_common(CLI::App* cmd, TuneCliOptions& o) {
  cmd->add_option("spec", o.spec, "Kernel spec (JSON)")->required();
  cmd->add_option("--size,-s", o.sizes, "Problem sizes, e.g. M=4096,N=4096,K=4096")->required();
  cmd->add_option("--db", o.db, "Store file (default: $KTUNE_DB or ~/.cache/ktune/ktune.db)");
  cmd->add_option("--workers", o.workers, "Compile workers (default: min(cores, 32))");
  cmd->add_option("--gpu", o.device, "GPU ordinal")->capture_default_str();
  cmd->add_option("--arch", o.arch, "Compile for this architecture instead of the GPU's");
  cmd->add_flag("--warm-cache", o.warm_cache, "Do not flush the L2 before each sample");
  cmd->add_flag("--no-cubin-cache", o.no_cache, "Compile everything again");
  cmd->add_flag("--json", o.json, "Machine-readable output");
  cmd->add_option("--timer", o.timer, "cupti (kernel time, the default) or events (CUDA events around the launch)")
      ->check(CLI::IsMember({"cupti", "events"}));
}

}  // namespace

void add_tune_command(CLI::App& app) {
  auto o = std::make_shared<TuneCliOptions>();
  auto* cmd = app.add_subcommand("tune", "Tune a kernel at given sizes on the GPU and remember the winner");
  add_common(cmd, *o);
  cmd->add_option("--strategy", o->strategy, "bestfirst (default), coordesc, exhaustive or random")->capture_default_str();
  cmd->add_option("--budget", o->budget, "At most this many new evaluations");
  cmd->add_option("--time", o->time_limit, "Stop proposing new batches after this many seconds");
  cmd->add_option("--samples", o->random_count, "Configurations tried by --strategy random")->capture_default_str();
  cmd->add_option("--random-starts", o->random_starts, "coordesc: also try this many random starting points");
  cmd->add_option("--seed", o->seed, "Seed of random choices")->capture_default_str();
  cmd->add_option("--trace", o->trace, "Write one JSON line per evaluation to this file (seconds, config, time, best so far)");
  cmd->add_flag("--refine", o->refine, "Start coordinate descent from the lookup table's answer and improve it");
  cmd->add_flag("--force", o->force, "Tune even when the lookup table already has an exact answer");
  cmd->callback([o] { run_tune(*o); });

  auto b = std::make_shared<TuneCliOptions>();
  auto* bench = app.add_subcommand("bench", "Measure one configuration (default: the spec's default)");
  add_common(bench, *b);
  bench->add_option("--config,-c", b->config, "Parameter values, e.g. BM=128,BN=128 (others from the default)");
  bench->callback([b] { run_bench(*b); });
}

}  // namespace ktune::cli
