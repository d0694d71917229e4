#include "engine/engine.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "engine/compile_service.hpp"
#include "engine/runner_client.hpp"
#include "engine/model/instantiate.hpp"
#include "engine/gpu_evaluator.hpp"
#include "engine/replay_evaluator.hpp"
#include "engine/model/toolchain.hpp"
#include "engine/in_flight_requests.hpp"
#include "engine/measurement_ledger.hpp"
#include "engine/model/tuning_question.hpp"
#include "engine/tuning_session.hpp"
#include "store/store.hpp"
#include "store/store_path.hpp"
#include "tuner/strategy_factory.hpp"

namespace ktune {

namespace {
// What a tuning's settings ask of the compile ∥ benchmark pipeline.
GpuEvaluatorOptions evaluator_options_for(const std::string& arch, const TuneSettings& settings) {
  GpuEvaluatorOptions options;
  options.arch = arch;
  options.measure.rule = settings.rule;
  options.measure.flush_l2 = settings.flush_l2;
  options.measure.use_cupti = settings.use_cupti;
  options.queue_capacity = std::max<std::size_t>(64, 4 * CompileService::default_worker_count());
  return options;
}
}  // namespace

struct Engine::State {
  EngineOptions options;
  std::filesystem::path store_path;
  std::shared_ptr<store::Store> store;
  std::optional<LookupTable> table;  // the read side, over the same store
  std::unique_ptr<CompileService> compile;
  std::unique_ptr<GpuRunner> runner;
  std::optional<store::Store> recording;  // options.replay: measurements come from here
  std::mutex mutex;  // one tuning at a time per engine: the GPU is one resource
  InFlightRequests in_flight;
  std::mutex device_mutex;
  std::optional<DeviceSignature> device;      // known once the runner has started (device_mutex)

  // Every piece of GPU work runs on this one long-lived thread. The runner must be spawned from a
  // thread that outlives it (a child's parent-death signal fires when the spawning *thread* ends,
  // seen on the H100: a runner started from a finished tune_async thread was killed), and GPU
  // requests are serialised here anyway.
  std::thread gpu_thread;
  std::mutex queue_mutex;
  std::condition_variable queue_cv;
  std::deque<std::function<void()>> queue;
  bool stopping = false;

  void start_gpu_thread() {
    gpu_thread = std::thread([this] {
      for (;;) {
        std::function<void()> task;
        {
          std::unique_lock lock(queue_mutex);
          queue_cv.wait(lock, [this] { return stopping || !queue.empty(); });
          if (queue.empty()) return;  // stopping, and everything queued has run
          task = std::move(queue.front());
          queue.pop_front();
        }
        task();
      }
    });
  }

  template <class F>
  auto on_gpu_thread(F f) -> std::future<decltype(f())> {
    auto task = std::make_shared<std::packaged_task<decltype(f())()>>(std::move(f));
    auto future = task->get_future();
    {
      std::lock_guard lock(queue_mutex);
      queue.emplace_back([task] { (*task)(); });
    }
    queue_cv.notify_one();
    return future;
  }

  ~State() {
    {
      std::lock_guard lock(queue_mutex);
      stopping = true;
    }
    queue_cv.notify_all();
    if (gpu_thread.joinable()) gpu_thread.join();
  }

  Status ensure_pool() {
    if (compile) return Ok{};
    CompileServiceOptions compile_options;
    compile_options.workers = options.workers;
    compile_options.use_cubin_cache = options.use_cubin_cache;
    compile_options.cubin_cache_dir = options.cubin_cache_dir;
    auto created = CompileService::create(compile_options);
    if (!created) return created.error();
    compile = std::move(*created);
    compile->warm();  // workers start while the runner initialises the GPU
    return Ok{};
  }

  // The device this engine measures on: the GPU (starts the runner) or the recording's.
  Result<DeviceSignature> ensure_device() {
    if (options.replay) return options.replay->device;
    if (auto ok = ensure_runner(); !ok) return ok.error();
    return DeviceSignature{runner->hello().device.name, runner->hello().device.arch};
  }
  Toolchain toolchain() const { return options.replay ? options.replay->toolchain : current_toolchain(); }

  // The compile ∥ benchmark pipeline on the GPU, or the recording. `arch` is set to what it compiles for.
  Result<std::unique_ptr<Evaluator>> make_evaluator(const KernelSpec& spec, const TuningQuestion& question,
                                                    const TuneSettings& settings, std::string& arch) {
    if (recording) {
      arch = question.device.arch;
      auto replay = ReplayEvaluator::from_store(*recording, question);
      if (!replay) return replay.error();
      return std::unique_ptr<Evaluator>(std::move(*replay));
    }
    auto chosen = choose_arch(settings.arch, question.device.arch, spec);
    if (!chosen) return chosen.error();
    arch = *chosen;
    if (auto ok = ensure_pool(); !ok) return ok.error();
    auto gpu = GpuEvaluator::create(spec, question.sizes, compile->pool(), *runner, evaluator_options_for(arch, settings));
    if (!gpu) return gpu.error();
    return std::unique_ptr<Evaluator>(std::move(*gpu));
  }

  Status ensure_runner() {
    if (runner) return Ok{};
    GpuRunnerOptions runner_options;
    runner_options.device = options.device;
    auto started = GpuRunner::start(runner_options);
    if (!started) return started.error();
    runner = std::move(*started);
    std::lock_guard lock(device_mutex);
    device = DeviceSignature{runner->hello().device.name, runner->hello().device.arch};
    return Ok{};
  }
};

Engine::Engine(std::unique_ptr<State> state) : state_(std::move(state)) {}

Engine::~Engine() {
  // Background tunings hold references to this engine: let them finish first.
  for (auto& f : state_->in_flight.pending()) f.wait();
}

std::shared_future<Result<TuneOutcome>> Engine::tune_async(const KernelSpec& spec, const Sizes& sizes, const TuneOptions& options) {
  TuneRequest request{kernel_key(spec).hex(), {}, options};
  // Spec order, however the caller wrote them; a request with bad sizes is its own (it fails at once).
  if (auto ordered = spec.ordered_sizes(sizes)) request.sizes = std::move(*ordered);
  else request.sizes = sizes;
  auto joined = state_->in_flight.join(request, options.hooks);
  if (!joined.promise) return joined.future;
  TuneOptions run_options = options;
  run_options.hooks = joined.hooks;  // every waiter's hooks, including ones that join later
  state_->on_gpu_thread([this, promise = joined.promise, request, spec_copy = spec, sizes, run_options]() mutable {
    Result<TuneOutcome> result = make_error(Errc::internal, "tuning did not run");
    try {
      result = tune_now(spec_copy, sizes, run_options);
    } catch (const std::exception& e) {
      result = make_error(Errc::internal, std::string("tuning failed: ") + e.what());
    }
    state_->in_flight.finish(request, *promise, std::move(result));
  });
  return joined.future;
}

Result<TuneOutcome> Engine::tune(const KernelSpec& spec, const Sizes& sizes, const TuneOptions& options) {
  return tune_async(spec, sizes, options).get();
}

struct TunedConfig::Shared {
  mutable std::mutex mutex;
  mutable Config config;
  mutable std::string source;
  mutable bool tuned = false;
  std::shared_future<Result<TuneOutcome>> done;

  // Moves to the tuned answer once the background tuning has finished; no thread of its own.
  void refresh() const {
    if (tuned || done.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
    const auto& result = done.get();
    if (!result) return;
    config = result->report.best;
    source = result->answered_from_lookup ? "exact" : "tuned";
    tuned = true;
  }
};

Config TunedConfig::config() const {
  std::lock_guard lock(shared_->mutex);
  shared_->refresh();
  return shared_->config;
}
bool TunedConfig::tuned() const {
  std::lock_guard lock(shared_->mutex);
  shared_->refresh();
  return shared_->tuned;
}
std::string TunedConfig::source() const {
  std::lock_guard lock(shared_->mutex);
  shared_->refresh();
  return shared_->source;
}
Status TunedConfig::wait() const {
  const auto& result = shared_->done.get();
  if (!result) return result.error();
  return Ok{};
}

TunedConfig Engine::get(const KernelSpec& spec, const Sizes& sizes, const TuneOptions& options) {
  auto shared = std::make_shared<TunedConfig::Shared>();
  shared->config = spec.default_config;
  shared->source = "default";
  // The store alone answers at once; the GPU's name is only known once the runner has started.
  std::optional<DeviceSignature> device;
  {
    std::lock_guard lock(state_->device_mutex);
    device = state_->device;
  }
  if (device) {
    if (auto answer = lookup(spec, sizes, *device); answer && answer->entry) {
      shared->config = answer->entry->config;
      shared->source = std::string(store::to_string(answer->rule));
    }
  }
  shared->done = tune_async(spec, sizes, options);
  return TunedConfig(shared);
}

Result<std::unique_ptr<Engine>> Engine::create(EngineOptions options) {
  auto state = std::make_unique<State>();
  state->store_path = default_store_path(options.store_path.string());
  auto opened = store::Store::open(state->store_path);
  if (!opened) return opened.error();
  state->store = std::make_shared<store::Store>(std::move(*opened));
  state->table.emplace(state->store);
  if (options.replay) {
    store::StoreOptions read_only;
    read_only.read_only = true;
    auto recording = store::Store::open(options.replay->store, read_only);
    if (!recording) return recording.error();
    state->recording.emplace(std::move(*recording));
    state->device = options.replay->device;  // known at once: get() answers from the table on it
  }
  state->options = std::move(options);
  state->start_gpu_thread();
  return std::unique_ptr<Engine>(new Engine(std::move(state)));
}

const std::filesystem::path& Engine::store_path() const noexcept { return state_->store_path; }

Result<DeviceSignature> Engine::device() {
  return state_
      ->on_gpu_thread([this]() -> Result<DeviceSignature> {
        std::lock_guard lock(state_->mutex);
        return state_->ensure_device();
      })
      .get();
}

Result<LookupAnswer> Engine::lookup(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device) {
  return state_->table->lookup(spec, sizes, device);
}

Result<TuneOutcome> Engine::tune_now(const KernelSpec& spec, const Sizes& given_sizes, const TuneOptions& options) {
  auto sizes = spec.ordered_sizes(given_sizes);  // spec order, so keys do not depend on how the caller wrote them
  if (!sizes) return sizes.error();
  auto kind = parse_strategy_kind(options.strategy);
  if (!kind)
    return make_error(Errc::invalid_argument, "unknown strategy '" + options.strategy + "' (" + std::string(strategy_names()) + ")");
  auto space = SearchSpace::build(spec.space, &*sizes);
  if (!space) return space.error();

  std::lock_guard lock(state_->mutex);
  auto device = state_->ensure_device();
  if (!device) return device.error();
  TuneOutcome outcome;
  outcome.device = *device;
  TuningQuestion question{&spec, *sizes, outcome.device, state_->toolchain()};

  auto known = state_->store->lookup(question.lookup_request(), question.usable_config());
  if (!known) return known.error();
  if (known->rule == store::LookupRule::exact && !options.force && !options.refine) {
    outcome.answered_from_lookup = true;
    outcome.report.strategy = known->entry->strategy;
    outcome.report.best = known->entry->config;
    outcome.report.best_ns = known->entry->time_ns;
    outcome.report.default_ns = known->entry->default_time_ns;
    return outcome;
  }

  auto evaluator = state_->make_evaluator(spec, question, options, outcome.arch);
  if (!evaluator) return evaluator.error();

  // A local search starts from the best known point: the table's answer for nearby sizes or another
  // device of this architecture (or the exact one, when refining), else the spec's default.
  StrategyOptions strategy_options;
  if (known->entry) strategy_options.start_candidates.push_back(known->entry->config);
  strategy_options.start_candidates.push_back(spec.default_config);
  strategy_options.random_count = options.random_count;
  strategy_options.random_starts = options.random_starts;
  strategy_options.seed = options.seed;
  strategy_options.budget = options.limits.max_evaluations;
  auto strategy = make_strategy(*kind, *space, strategy_options);

  auto ledger = MeasurementLedger::open(question, &*state_->store);
  if (!ledger) return ledger.error();
  auto report = TuningSession(question, *space, *strategy, **evaluator, *ledger, options.limits, options.hooks).run();
  if (!report) return report.error();
  outcome.report = std::move(*report);
  return outcome;
}

Result<Evaluation> Engine::measure(const KernelSpec& spec, const Sizes& sizes, const Config& config, const TuneOptions& options) {
  return state_->on_gpu_thread([&]() { return measure_now(spec, sizes, config, options); }).get();
}

Result<Evaluation> Engine::measure_now(const KernelSpec& spec, const Sizes& given_sizes, const Config& config,
                                       const TuneOptions& options) {
  auto sizes = spec.ordered_sizes(given_sizes);
  if (!sizes) return sizes.error();
  auto space = SearchSpace::build(spec.space, &*sizes);
  if (!space) return space.error();
  if (auto why = space->why_invalid(config)) return make_error(Errc::invalid_argument, format_named(config) + ": " + *why);

  std::lock_guard lock(state_->mutex);
  auto device = state_->ensure_device();
  if (!device) return device.error();
  TuningQuestion question{&spec, *sizes, *device, state_->toolchain()};
  std::string arch;
  auto evaluator = state_->make_evaluator(spec, question, options, arch);
  if (!evaluator) return evaluator.error();

  // The reference was measured while the pipeline was set up: that is the answer when asked for.
  std::optional<Evaluation> result;
  for (auto& e : (*evaluator)->setup_evaluations())
    if (e.measurement.config == config) result = std::move(e);
  if (!result) (*evaluator)->evaluate({config}, std::nullopt, [&](Evaluation e) { result = std::move(e); });
  if (!result) return make_error(Errc::not_found, format_named(config) + " was not measured");
  auto ledger = MeasurementLedger::open(question, &*state_->store);
  if (!ledger) return ledger.error();
  ledger->record(result->measurement);
  if (ledger->unsaved()) return make_error(Errc::io, *ledger->last_write_error());
  return std::move(*result);
}

}  // namespace ktune
