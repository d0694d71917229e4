#include "engine/engine.hpp"

#include <mutex>

#include "engine/bench/gpu_runner.hpp"
#include "engine/compile_plan.hpp"
#include "engine/gpu_evaluator.hpp"
#include "engine/toolchain.hpp"
#include "engine/tuning_question.hpp"
#include "store/store.hpp"
#include "store/store_path.hpp"
#include "tuner/strategy.hpp"
#include "workers/compile_pool.hpp"
#include "workers/cubin_cache.hpp"

namespace ktune {

struct Engine::State {
  EngineOptions options;
  std::filesystem::path store_path;
  std::optional<store::Store> store;
  std::unique_ptr<workers::CubinCache> cache;
  std::unique_ptr<workers::CompilePool> pool;
  std::unique_ptr<bench::GpuRunner> runner;
  std::mutex mutex;  // one tuning at a time per engine: the GPU is one resource

  Status ensure_pool() {
    if (pool) return Ok{};
    workers::CompilePoolOptions pool_options;
    pool_options.workers = options.workers;
    if (options.use_cubin_cache) {
      auto dir = options.cubin_cache_dir.empty() ? default_cache_dir() / "cubins" : options.cubin_cache_dir;
      auto opened = workers::CubinCache::open({dir});
      if (!opened) return opened.error();
      cache = std::move(*opened);
      pool_options.cache = cache.get();
    }
    auto created = workers::CompilePool::create(pool_options);
    if (!created) return created.error();
    pool = std::move(*created);
    pool->warm();  // workers start while the runner initialises the GPU
    return Ok{};
  }

  Status ensure_runner() {
    if (runner) return Ok{};
    bench::GpuRunnerOptions runner_options;
    runner_options.device = options.device;
    auto started = bench::GpuRunner::start(runner_options);
    if (!started) return started.error();
    runner = std::move(*started);
    return Ok{};
  }
};

Engine::Engine(std::unique_ptr<State> state) : state_(std::move(state)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::create(EngineOptions options) {
  auto state = std::make_unique<State>();
  state->store_path = default_store_path(options.store_path.string());
  auto opened = store::Store::open(state->store_path);
  if (!opened) return opened.error();
  state->store.emplace(std::move(*opened));
  state->options = std::move(options);
  return std::unique_ptr<Engine>(new Engine(std::move(state)));
}

const std::filesystem::path& Engine::store_path() const noexcept { return state_->store_path; }

Result<DeviceSignature> Engine::device() {
  std::lock_guard lock(state_->mutex);
  if (auto ok = state_->ensure_runner(); !ok) return ok.error();
  const auto& d = state_->runner->hello().device;
  return DeviceSignature{d.name, d.arch};
}

Result<store::LookupAnswer> Engine::lookup(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device) {
  if (auto ok = spec.check_sizes(sizes); !ok) return ok.error();
  TuningQuestion question{&spec, sizes, device, current_toolchain()};
  return state_->store->lookup(question.lookup_request());
}

Result<TuneOutcome> Engine::tune(const KernelSpec& spec, const Sizes& given_sizes, const TuneOptions& options) {
  if (auto ok = spec.check_sizes(given_sizes); !ok) return ok.error();
  Sizes sizes;  // spec order, so keys do not depend on how the caller wrote them
  for (const auto& name : spec.space.size_names) sizes.emplace_back(name, *find_value(given_sizes, name));
  auto strategy_name = canonical_strategy_name(options.strategy);
  if (!strategy_name)
    return make_error(Errc::invalid_argument, "unknown strategy '" + options.strategy + "' (exhaustive, random, coordesc)");
  auto space = SearchSpace::build(spec.space, &sizes);
  if (!space) return space.error();

  std::lock_guard lock(state_->mutex);
  if (auto ok = state_->ensure_runner(); !ok) return ok.error();
  const auto& hello = state_->runner->hello();
  TuneOutcome outcome;
  outcome.device = DeviceSignature{hello.device.name, hello.device.arch};
  TuningQuestion question{&spec, sizes, outcome.device, current_toolchain()};

  auto known = state_->store->lookup(question.lookup_request());
  if (!known) return known.error();
  if (known->rule == store::LookupRule::exact && !options.force && !options.refine) {
    outcome.answered_from_lookup = true;
    outcome.report.strategy = known->entry->strategy;
    outcome.report.best = known->entry->config;
    outcome.report.best_ns = known->entry->time_ns;
    outcome.report.default_ns = known->entry->default_time_ns;
    return outcome;
  }

  auto arch = choose_arch(options.arch, hello.device.arch, spec);
  if (!arch) return arch.error();
  outcome.arch = *arch;
  if (auto ok = state_->ensure_pool(); !ok) return ok.error();

  std::unique_ptr<Strategy> strategy;
  if (*strategy_name == "exhaustive") {
    strategy = make_exhaustive(*space);
  } else if (*strategy_name == "random") {
    strategy = make_random(*space, options.random_count, options.seed);
  } else {
    // Start from the best known point: the table's answer for nearby sizes or another device of
    // this architecture (or the exact one, when refining), else the spec's default.
    CoordinateDescentOptions cd;
    cd.start = spec.default_config;
    if (known->entry && space->is_valid(known->entry->config)) cd.start = known->entry->config;
    cd.random_starts = options.random_starts;
    cd.seed = options.seed;
    strategy = make_coordinate_descent(*space, cd);
  }

  GpuEvaluatorOptions evaluator_options;
  evaluator_options.arch = *arch;
  evaluator_options.measure.rule = options.rule;
  evaluator_options.measure.flush_l2 = options.flush_l2;
  evaluator_options.measure.use_cupti = options.use_cupti;
  evaluator_options.queue_capacity = std::max<std::size_t>(64, 4 * workers::default_worker_count());
  auto evaluator = GpuEvaluator::create(spec, sizes, *state_->pool, *state_->runner, evaluator_options);
  if (!evaluator) return evaluator.error();

  auto report = run_tuning(question, *space, *strategy, **evaluator, &*state_->store, options.limits, options.hooks,
                           (*evaluator)->reference_evaluation());
  if (!report) return report.error();
  outcome.report = std::move(*report);
  return outcome;
}

Result<Evaluation> Engine::measure(const KernelSpec& spec, const Sizes& given_sizes, const Config& config, const TuneOptions& options) {
  if (auto ok = spec.check_sizes(given_sizes); !ok) return ok.error();
  Sizes sizes;
  for (const auto& name : spec.space.size_names) sizes.emplace_back(name, *find_value(given_sizes, name));
  auto space = SearchSpace::build(spec.space, &sizes);
  if (!space) return space.error();
  if (auto why = space->why_invalid(config)) return make_error(Errc::invalid_argument, format_named(config) + ": " + *why);

  std::lock_guard lock(state_->mutex);
  if (auto ok = state_->ensure_runner(); !ok) return ok.error();
  const auto& hello = state_->runner->hello();
  auto arch = choose_arch(options.arch, hello.device.arch, spec);
  if (!arch) return arch.error();
  if (auto ok = state_->ensure_pool(); !ok) return ok.error();
  GpuEvaluatorOptions evaluator_options;
  evaluator_options.arch = *arch;
  evaluator_options.measure.rule = options.rule;
  evaluator_options.measure.flush_l2 = options.flush_l2;
  evaluator_options.measure.use_cupti = options.use_cupti;
  auto evaluator = GpuEvaluator::create(spec, sizes, *state_->pool, *state_->runner, evaluator_options);
  if (!evaluator) return evaluator.error();

  std::optional<Evaluation> result;
  if (const auto& reference = (*evaluator)->reference_evaluation(); reference && reference->measurement.config == config)
    result = reference;
  else
    (*evaluator)->evaluate({config}, std::nullopt, [&](Evaluation e) { result = std::move(e); });
  TuningQuestion question{&spec, sizes, DeviceSignature{hello.device.name, hello.device.arch}, current_toolchain()};
  if (auto ok = state_->store->put_kernel(question.kernel_record()); !ok) return ok.error();
  if (auto ok = state_->store->record_measurements({question.tuning_record(), {result->measurement}}); !ok) return ok.error();
  return std::move(*result);
}

}  // namespace ktune
