#include "engine/engine.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "engine/compile_service.hpp"
#include "engine/fork_guard.hpp"
#include "engine/prepared_kernel_snapshot.hpp"
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
#include "workers/compile_pool.hpp"

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

// Adds the time a caller spends blocked in a call to the engine's wait counter.
class WaitTimer {
 public:
  explicit WaitTimer(std::atomic<std::uint64_t>& total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  ~WaitTimer() {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count();
    total_.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
  }
  WaitTimer(const WaitTimer&) = delete;
  WaitTimer& operator=(const WaitTimer&) = delete;

 private:
  std::atomic<std::uint64_t>& total_;
  std::chrono::steady_clock::time_point start_;
};

Errc errc_for(workers::CompileStatus status) {
  switch (status) {
    case workers::CompileStatus::compile_error: return Errc::invalid_spec;
    case workers::CompileStatus::cancelled: return Errc::unsupported;
    default: return Errc::internal;
  }
}

template <class T>
std::shared_future<Result<T>> ready_future(Result<T> value) {
  std::promise<Result<T>> promise;
  promise.set_value(std::move(value));
  return promise.get_future().share();
}
}  // namespace

struct Engine::State {
  EngineOptions options;
  ForkGuard fork_guard;  // a fork()ed child must not use what this process started
  std::filesystem::path store_path;
  std::shared_ptr<store::Store> store;
  std::optional<LookupTable> table;  // the read side, over the same store
  Toolchain lookup_toolchain;        // what LookupTable keys its questions with, asked once
  std::mutex pool_mutex;
  std::unique_ptr<CompileService> compile;  // made once, on first need (pool_mutex); never replaced
  std::unique_ptr<GpuRunner> runner;        // the GPU thread's only
  std::atomic<bool> runner_alive{false};
  std::optional<store::Store> recording;  // options.replay: measurements come from here
  std::mutex mutex;  // one tuning at a time per engine: the GPU is one resource
  InFlightRequests in_flight;
  // The device is set once (the recording's at create, the GPU's when the runner first says
  // hello) and never changed, so hot lookups read it without a lock once device_known is set.
  std::mutex device_mutex;
  std::optional<DeviceSignature> device;
  std::atomic<bool> device_known{false};
  std::atomic<bool> shut_down{false};
  std::shared_future<Status> runner_start;  // warm start: the runner starting on the GPU thread

  std::atomic<std::uint64_t> wait_ns{0};
  std::atomic<std::uint64_t> tunings_run{0};
  std::atomic<std::uint64_t> tunings_from_table{0};
  std::atomic<std::uint64_t> lookups{0};

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
          auto has_work = [this] { return stopping || !queue.empty(); };
          const auto idle = options.lifecycle.runner_idle_timeout;
          if (runner && idle.count() > 0) {
            if (!queue_cv.wait_for(lock, idle, has_work)) {
              // Idle past the timeout: the runner's context and GPU memory go back to the system.
              lock.unlock();
              stop_runner();
              continue;
            }
          } else {
            queue_cv.wait(lock, has_work);
          }
          if (queue.empty()) return;  // stopping, and everything queued has run
          task = std::move(queue.front());
          queue.pop_front();
        }
        task();
      }
    });
  }

  void stop_runner() {  // GPU thread
    runner.reset();
    runner_alive = false;
  }

  // After each tune or measure request (GPU thread): the problem's buffers go back.
  void after_gpu_request() {
    if (runner && options.lifecycle.runner_frees_problem) runner->release_problem();
  }

  // Why this engine cannot be used from here, if it cannot. `needs_processes`: the call would
  // start or use workers or the runner, which shutdown() refuses.
  Status usable(const char* what, bool needs_processes) const {
    if (fork_guard.in_forked_child())
      return make_error(Errc::unsupported, std::string(what) + ": " + fork_guard.message("this ktune engine"));
    if (needs_processes && shut_down.load())
      return make_error(Errc::unsupported, std::string(what) + ": the engine has been shut down");
    return Ok{};
  }

  const DeviceSignature* known_device() const noexcept {
    return device_known.load(std::memory_order_acquire) ? &*device : nullptr;
  }
  void remember_device(DeviceSignature signature) {
    std::lock_guard lock(device_mutex);
    if (device_known.load()) return;  // never changed once known: lock-free readers hold references
    device = std::move(signature);
    device_known.store(true, std::memory_order_release);
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

  // The compile service, made on first need (any thread), or why it cannot be.
  Result<CompileService*> ensure_pool() {
    std::lock_guard lock(pool_mutex);
    if (compile) return compile.get();
    CompileServiceOptions compile_options;
    compile_options.workers = options.workers;
    compile_options.worker_executable = options.worker_executable;
    compile_options.use_cubin_cache = options.use_cubin_cache;
    compile_options.cubin_cache_dir = options.cubin_cache_dir;
    compile_options.worker_idle_timeout = options.lifecycle.worker_idle_timeout;
    auto created = CompileService::create(compile_options);
    if (!created) return created.error();
    compile = std::move(*created);
    compile->warm();  // workers start while the runner initialises the GPU
    return compile.get();
  }
  CompileService* existing_pool() {
    std::lock_guard lock(pool_mutex);
    return compile.get();
  }

  // One compile job through the cubin cache and the pool; the future is set on a pool thread.
  std::shared_future<Result<CompiledKernel>> compile_job(workers::CompileJob job, Config config) {
    auto service = ensure_pool();
    if (!service) return ready_future<CompiledKernel>(service.error());
    auto promise = std::make_shared<std::promise<Result<CompiledKernel>>>();
    auto future = promise->get_future().share();
    std::string arch = job.arch;
    (*service)->pool().submit(std::move(job), [promise, config = std::move(config), arch](workers::CompileResult r) {
      if (!r.ok()) {
        promise->set_value(make_error(errc_for(r.status), format_named(config) + " for " + arch + ": " +
                                                              workers::compile_status_name(r.status) + ": " + r.log));
        return;
      }
      CompiledKernel kernel;
      kernel.config = config;
      kernel.arch = arch;
      kernel.cubin = std::move(r.cubin);
      if (!r.lowered_names.empty()) kernel.entry = r.lowered_names.front();
      kernel.lowered_names = std::move(r.lowered_names);
      kernel.from_cache = r.from_cache;
      kernel.compile_seconds = r.compile_seconds;
      kernel.log = std::move(r.log);
      promise->set_value(std::move(kernel));
    });
    return future;
  }

  // The device this engine measures on: the GPU (starts the runner) or the recording's.
  Result<DeviceSignature> ensure_device() {
    if (options.replay) return options.replay->device;
    if (auto ok = ensure_runner(); !ok) return ok.error();
    return *known_device();
  }
  Toolchain toolchain() const { return options.replay ? options.replay->toolchain : current_toolchain(); }

  // The compile ∥ benchmark pipeline on the GPU, or the recording. `arch` is set to what it compiles for.
  Result<std::unique_ptr<Evaluator>> make_evaluator(const KernelSpec& spec, const TuningQuestion& question,
                                                    const TuneSettings& settings, std::string& arch) {
    if (recording) {
      arch = question.device.arch;
      auto replay = ReplayEvaluator::from_store(*recording, question);
      if (!replay) return replay.error();
      (*replay)->simulate_cost(options.replay->simulated_cost);
      return std::unique_ptr<Evaluator>(std::move(*replay));
    }
    auto chosen = choose_arch(settings.arch, question.device.arch, spec);
    if (!chosen) return chosen.error();
    arch = *chosen;
    auto service = ensure_pool();
    if (!service) return service.error();
    auto gpu = GpuEvaluator::create(spec, question.sizes, (*service)->pool(), *runner, evaluator_options_for(arch, settings));
    if (!gpu) return gpu.error();
    return std::unique_ptr<Evaluator>(std::move(*gpu));
  }

  Status ensure_runner() {
    if (runner) return Ok{};
    GpuRunnerOptions runner_options;
    runner_options.device = options.device;
    runner_options.runner_path = options.runner_executable;
    auto started = GpuRunner::start(runner_options);
    if (!started) return started.error();
    runner = std::move(*started);
    runner_alive = true;
    remember_device(DeviceSignature{runner->hello().device.name, runner->hello().device.arch});
    return Ok{};
  }
};

Engine::Engine(std::unique_ptr<State> state) : state_(std::move(state)) {}

Engine::~Engine() {
  if (state_->fork_guard.in_forked_child()) {
    // An engine inherited through fork(): its threads do not exist here and its workers and runner
    // are the parent's. Joining, stopping or closing any of it would hang or harm the parent, so
    // the child leaves it all alone (its memory goes when the child exits).
    (void)state_.release();
    return;
  }
  // Background tunings hold references to this engine: let them finish first.
  for (auto& f : state_->in_flight.pending()) f.wait();
}

Status Engine::wait_ready(std::chrono::milliseconds timeout) {
  if (auto ok = state_->usable("wait_ready", true); !ok) return ok;
  WaitTimer timer(state_->wait_ns);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto service = state_->ensure_pool();
  if (!service) return service.error();
  if (auto ok = (*service)->pool().wait_ready(timeout); !ok) return ok;
  if (state_->options.replay) return Ok{};  // measurements come from the recording: no runner
  std::shared_future<Status> started = state_->runner_start;
  if (!started.valid()) {
    started = state_->on_gpu_thread([this]() -> Status {
                        std::lock_guard lock(state_->mutex);
                        return state_->ensure_runner();
                      }).share();
  }
  if (started.wait_until(deadline) != std::future_status::ready)
    return make_error(Errc::internal, "wait_ready: the GPU runner did not start within " + std::to_string(timeout.count()) + " ms");
  return started.get();
}

Status Engine::shutdown(std::chrono::milliseconds timeout) {
  if (auto ok = state_->usable("shutdown", false); !ok) return ok;
  state_->shut_down = true;  // queued and new requests fail at once from here on
  // The workers and the runner stop on the GPU thread, after a tuning in flight: cutting that one
  // short would record its remaining configurations as failed (cancelled compiles), and the store
  // never evaluates a recorded configuration again. Pending compile_async/binary jobs come back
  // cancelled, which nothing records.
  auto stopped = state_->on_gpu_thread([this] {
    state_->stop_runner();
    if (auto* service = state_->existing_pool()) service->shutdown();
  });
  if (stopped.wait_for(timeout) != std::future_status::ready)
    return make_error(Errc::internal, "shutdown: a tuning was still running after " + std::to_string(timeout.count()) +
                                          " ms; the workers and the runner stop when it ends");
  return Ok{};
}

std::shared_future<Result<TuneOutcome>> Engine::tune_async(const KernelSpec& spec, const Sizes& sizes, const TuneOptions& options) {
  if (auto ok = state_->usable("tune", true); !ok) return ready_future<TuneOutcome>(ok.error());
  TuneRequest request{kernel_key(spec).hex(), {}, options};
  // Spec order, however the caller wrote them; a request with bad sizes is its own (it fails at once).
  if (auto ordered = spec.ordered_sizes(sizes)) request.sizes = spec.bucketed_sizes(*ordered);
  else request.sizes = sizes;
  auto joined = state_->in_flight.join(request, options.hooks);
  if (!joined.promise) return joined.future;
  TuneOptions run_options = options;
  run_options.hooks = joined.hooks;  // every waiter's hooks, including ones that join later
  state_->on_gpu_thread([this, promise = joined.promise, request, spec_copy = spec, sizes, run_options]() mutable {
    Result<TuneOutcome> result = make_error(Errc::internal, "tuning did not run");
    try {
      result = tune_now(spec_copy, sizes, run_options);
      state_->after_gpu_request();
    } catch (const std::exception& e) {
      result = make_error(Errc::internal, std::string("tuning failed: ") + e.what());
    }
    state_->in_flight.finish(request, *promise, std::move(result));
  });
  return joined.future;
}

Result<TuneOutcome> Engine::tune(const KernelSpec& spec, const Sizes& sizes, const TuneOptions& options) {
  WaitTimer timer(state_->wait_ns);
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
  if (const DeviceSignature* device = state_->known_device()) {
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
  if (options.store_path.empty() && std::getenv("KTUNE_DB") == nullptr) {
    auto cache_dir = find_cache_dir();  // no home: an error value, never a shared /tmp folder
    if (!cache_dir) return cache_dir.error();
  }
  state->store_path = default_store_path(options.store_path.string());
  store::StoreOptions store_options;
  store_options.durable = !options.scratch_store;
  auto opened = store::Store::open(state->store_path, store_options);
  if (!opened) return opened.error();
  state->store = std::make_shared<store::Store>(std::move(*opened));
  state->table.emplace(state->store);
  state->lookup_toolchain = current_toolchain();
  if (options.replay) {
    store::StoreOptions read_only;
    read_only.read_only = true;
    auto recording = store::Store::open(options.replay->store, read_only);
    if (!recording) return recording.error();
    state->recording.emplace(std::move(*recording));
    state->remember_device(options.replay->device);  // known at once: get() answers from the table on it
  }
  state->options = std::move(options);
  state->start_gpu_thread();
  if (state->options.lifecycle.warm_start) {
    // Workers spawn now; the runner starts on the GPU thread meanwhile. Failures surface in
    // wait_ready (and again on the first request), not here: a compiler without a GPU still
    // gets an engine that looks up and compiles.
    (void)state->ensure_pool();
    if (!state->options.replay) {
      State* raw = state.get();
      state->runner_start = state->on_gpu_thread([raw]() -> Status {
                                     std::lock_guard lock(raw->mutex);
                                     return raw->ensure_runner();
                                   }).share();
    }
  }
  return std::unique_ptr<Engine>(new Engine(std::move(state)));
}

const std::filesystem::path& Engine::store_path() const noexcept { return state_->store_path; }

Result<DeviceSignature> Engine::device() {
  if (auto ok = state_->usable("device", false); !ok) return ok.error();
  if (const DeviceSignature* known = state_->known_device()) return *known;
  if (auto ok = state_->usable("device", true); !ok) return ok.error();
  return state_
      ->on_gpu_thread([this]() -> Result<DeviceSignature> {
        std::lock_guard lock(state_->mutex);
        return state_->ensure_device();
      })
      .get();
}

Result<LookupAnswer> Engine::lookup(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device) {
  if (auto ok = state_->usable("lookup", false); !ok) return ok.error();
  state_->lookups.fetch_add(1, std::memory_order_relaxed);
  return state_->table->lookup(spec, sizes, device);
}

Result<LookupAnswer> Engine::lookup(const PreparedKernel& kernel, const Sizes& sizes, const DeviceSignature& device) {
  if (auto ok = state_->usable("lookup", false); !ok) return ok.error();
  const auto& snapshot = kernel.snapshot();
  auto question = snapshot.questions.question(snapshot.spec, sizes, device, state_->lookup_toolchain);
  if (!question) return question.error();
  state_->lookups.fetch_add(1, std::memory_order_relaxed);
  auto answer = state_->store->lookup((*question)->request, (*question)->usable);
  if (answer && (*question)->bucketed && answer->rule == LookupRule::exact) answer->rule = LookupRule::bucket;
  return answer;
}

Result<LookupAnswer> Engine::lookup(const PreparedKernel& kernel, const Sizes& sizes) {
  if (const DeviceSignature* known = state_->known_device()) return lookup(kernel, sizes, *known);
  auto device = this->device();
  if (!device) return device.error();
  return lookup(kernel, sizes, *device);
}

Result<KernelBinary> Engine::binary(const KernelSpec& spec, const Sizes& sizes, std::optional<DeviceSignature> device) {
  if (auto ok = state_->usable("binary", true); !ok) return ok.error();
  // A KernelBinary carries no TMA descriptors or a cluster shape, which the caller could not see.
  if (spec.launch.cluster || std::any_of(spec.args.begin(), spec.args.end(), [](const Argument& a) { return a.tensor_map.has_value(); }))
    return make_error(Errc::unsupported, "binary: " + spec.name +
                                             " takes a tensor_map argument or launches in clusters; a KernelBinary holds a "
                                             "plain launch only");
  WaitTimer timer(state_->wait_ns);
  if (!device) {
    auto known = this->device();
    if (!known) return known.error();
    device = std::move(*known);
  }
  auto ordered = spec.ordered_sizes(sizes);
  if (!ordered) return ordered.error();
  auto answer = lookup(spec, *ordered, *device);
  if (!answer) return answer.error();
  KernelBinary binary;
  binary.rule = answer->rule;
  const Config& config = answer->entry ? answer->entry->config : spec.default_config;
  auto arch = choose_arch({}, device->arch, spec);
  if (!arch) return arch.error();
  auto instance = instantiate(spec, config, *ordered, *arch, state_->options.use_nvrtc_cache);
  if (!instance) return instance.error();
  const runner::LaunchPlan& plan = instance->launch;
  auto compiled = state_->compile_job(std::move(instance->compile), config).get();
  if (!compiled) return compiled.error();
  binary.kernel = std::move(*compiled);
  if (auto ok = fill_kernels(binary, spec, plan); !ok) return ok.error();
  return binary;
}

std::shared_future<Result<CompiledKernel>> Engine::compile_async(const KernelSpec& spec, const Config& config,
                                                                 const std::string& arch) {
  if (auto ok = state_->usable("compile_async", true); !ok) return ready_future<CompiledKernel>(ok.error());
  std::string device_arch;
  if (arch.empty()) {
    auto device = this->device();
    if (!device) return ready_future<CompiledKernel>(device.error());
    device_arch = device->arch;
  }
  auto chosen = choose_arch(arch, device_arch, spec);
  if (!chosen) return ready_future<CompiledKernel>(chosen.error());
  return state_->compile_job(make_compile_job(spec, config, *chosen, state_->options.use_nvrtc_cache), config);
}

EngineCounters Engine::counters() const {
  EngineCounters counters;
  if (state_->fork_guard.in_forked_child()) return counters;  // the parent's pool is not ours to ask
  if (auto* service = state_->existing_pool()) {
    auto stats = service->pool().stats();
    counters.compiles_started = stats.submitted;
    counters.compiles_finished = stats.completed;
    counters.compiles_failed = stats.failed;
    counters.compiles_from_cache = stats.cache_hits;
    counters.workers_alive = service->pool().worker_pids().size();
  }
  counters.wait_seconds = static_cast<double>(state_->wait_ns.load()) * 1e-9;
  counters.tunings_run = state_->tunings_run.load();
  counters.tunings_from_table = state_->tunings_from_table.load();
  counters.lookups = state_->lookups.load();
  counters.runner_alive = state_->runner_alive.load();
  return counters;
}

Result<TuneOutcome> Engine::tune_now(const KernelSpec& spec, const Sizes& given_sizes, const TuneOptions& options) {
  if (auto ok = state_->usable("tune", true); !ok) return ok.error();  // shut down while queued
  auto sizes = spec.ordered_sizes(given_sizes);  // spec order, so keys do not depend on how the caller wrote them
  if (!sizes) return sizes.error();
  // One tuning per bucket: measured and stored at the bucket's representative size.
  *sizes = spec.bucketed_sizes(*sizes);
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
  outcome.tuning_key = question.tuning_record().tuning_key;

  auto known = state_->store->lookup(question.lookup_request(), question.usable_config());
  if (!known) return known.error();
  if (known->rule == store::LookupRule::exact && !options.force && !options.refine) {
    state_->tunings_from_table.fetch_add(1);
    outcome.answered_from_lookup = true;
    outcome.report.strategy = known->entry->strategy;
    outcome.report.best = known->entry->config;
    outcome.report.best_ns = known->entry->time_ns;
    outcome.report.default_ns = known->entry->default_time_ns;
    outcome.report.objective = spec.objective.by_time() ? "time" : spec.objective.maximize;
    // A pipeline's per-kernel times are in the winner's measurement, not in the table's row.
    if (spec.is_pipeline())
      if (auto measured = state_->store->measurements_for(known->entry->tuning.tuning_key))
        for (const auto& m : *measured)
          if (m.config == known->entry->config && m.status == MeasurementStatus::ok && !m.stage_median_ns.empty())
            outcome.report.best_stage_ns = m.stage_median_ns;
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
  state_->tunings_run.fetch_add(1);
  auto report = TuningSession(question, *space, *strategy, **evaluator, *ledger, options.limits, options.hooks).run();
  if (!report) return report.error();
  outcome.report = std::move(*report);
  return outcome;
}

Result<Evaluation> Engine::measure(const KernelSpec& spec, const Sizes& sizes, const Config& config, const TuneOptions& options) {
  if (auto ok = state_->usable("measure", true); !ok) return ok.error();
  WaitTimer timer(state_->wait_ns);
  return state_
      ->on_gpu_thread([&]() {
        auto result = measure_now(spec, sizes, config, options);
        state_->after_gpu_request();
        return result;
      })
      .get();
}

Result<Evaluation> Engine::measure_now(const KernelSpec& spec, const Sizes& given_sizes, const Config& config,
                                       const TuneOptions& options) {
  auto sizes = spec.ordered_sizes(given_sizes);
  if (!sizes) return sizes.error();
  auto space = SearchSpace::build(spec.space, &*sizes);
  if (!space) return space.error();
  if (auto why = space->why_invalid(config)) return make_error(Errc::invalid_argument, spec.space.format(config) + ": " + *why);

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
  if (!result) return make_error(Errc::not_found, spec.space.format(config) + " was not measured");
  auto ledger = MeasurementLedger::open(question, &*state_->store);
  if (!ledger) return ledger.error();
  ledger->record(result->measurement);
  if (ledger->unsaved()) return make_error(Errc::io, *ledger->last_write_error());
  return std::move(*result);
}

}  // namespace ktune
