#include "engine/sweep_runner.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "engine/compile_service.hpp"

namespace ktune {

namespace {

class EngineLane final : public SweepLane {
 public:
  explicit EngineLane(std::unique_ptr<Engine> engine) : engine_(std::move(engine)) {}
  Result<TuneOutcome> tune(const KernelSpec& spec, const Sizes& sizes, const TuneOptions& options) override {
    return engine_->tune(spec, sizes, options);
  }

 private:
  std::unique_ptr<Engine> engine_;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Result<std::unique_ptr<SweepRunner>> SweepRunner::create(const SweepOptions& options) {
  if (options.gpus.empty()) return make_error(Errc::invalid_argument, "a sweep needs at least one GPU");
  std::vector<std::unique_ptr<SweepLane>> lanes;
  std::vector<DeviceSignature> devices;
  std::filesystem::path store_path;
  for (int ordinal : options.gpus) {
    EngineOptions engine_options;
    engine_options.store_path = options.store_path;
    engine_options.scratch_store = options.scratch_store;
    // The compile workers are shared out between the engines: together they use the machine once.
    engine_options.workers =
        options.workers ? options.workers : std::max<std::size_t>(1, CompileService::default_worker_count() / options.gpus.size());
    engine_options.device = ordinal;
    engine_options.replay = options.replay;
    auto engine = Engine::create(engine_options);
    if (!engine) return engine.error();
    auto device = (*engine)->device();
    if (!device) return device.error();
    store_path = (*engine)->store_path();
    devices.push_back(std::move(*device));
    lanes.push_back(std::make_unique<EngineLane>(std::move(*engine)));
  }
  return std::make_unique<SweepRunner>(std::move(lanes), std::move(devices), std::move(store_path));
}

SweepRunner::SweepRunner(std::vector<std::unique_ptr<SweepLane>> lanes, std::vector<DeviceSignature> devices,
                         std::filesystem::path store_path)
    : lanes_(std::move(lanes)), devices_(std::move(devices)), store_path_(std::move(store_path)) {
  if (lanes_.empty()) throw std::invalid_argument("SweepRunner needs at least one lane");
}

SweepTotals sum_totals(const std::vector<SweepRun>& runs) {
  SweepTotals t;
  t.runs = runs.size();
  for (const SweepRun& run : runs) {
    if (run.failed()) {
      ++t.failed;
    } else if (run.done_earlier()) {
      ++t.done_earlier;
    } else {
      ++t.tuned_now;
      t.evaluated += run.outcome->report.evaluated;
      t.from_store += run.outcome->report.from_store;
      t.gpu_seconds += run.outcome->report.gpu_seconds;
    }
  }
  return t;
}

SweepResult SweepRunner::run(const SweepPlan& plan, const SweepRunOptions& options) {
  SweepResult result;
  std::vector<SweepRun> every_run;
  for (std::size_t i = 0; i < plan.items.size(); ++i) {
    for (const Sizes& sizes : plan.items[i].sizes) {
      SweepRun run;
      run.index = every_run.size();
      run.item = i;
      run.spec = &plan.items[i].spec;
      run.sizes = sizes;
      run.strategy = plan.items[i].strategy;
      every_run.push_back(std::move(run));
    }
  }
  if (options.runs) {
    std::vector<std::size_t> chosen = *options.runs;
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
    for (std::size_t r : chosen) result.runs.push_back(std::move(every_run.at(r)));
  } else {
    result.runs = std::move(every_run);
  }

  const auto sweep_start = std::chrono::steady_clock::now();
  std::atomic<std::size_t> next{0};
  std::mutex done_mutex;
  std::size_t finished = 0;
  auto work = [&](std::size_t lane) {
    for (std::size_t r = next++; r < result.runs.size(); r = next++) {
      SweepRun& run = result.runs[r];
      const SweepItem& item = plan.items[run.item];
      run.lane = lane;
      TuneOptions tune_options;
      tune_options.strategy = item.strategy;
      tune_options.limits.max_evaluations = item.budget;
      tune_options.force = options.force;
      if (options.on_progress)
        tune_options.hooks.on_progress = [&options, &run](const TuneProgress& p) { options.on_progress(run, p); };
      if (options.on_run_start) options.on_run_start(run);
      const auto start = std::chrono::steady_clock::now();
      auto outcome = lanes_[lane]->tune(item.spec, run.sizes, tune_options);
      run.wall_seconds = seconds_since(start);
      if (outcome) run.outcome = std::move(*outcome);
      else run.error = outcome.error().message;  // reported with the run; the sweep goes on
      std::lock_guard lock(done_mutex);
      ++finished;
      if (options.on_run_done) options.on_run_done(run, finished, result.runs.size());
    }
  };
  {
    // The calling thread works the first lane: with one GPU nothing else is started.
    std::vector<std::jthread> threads;
    for (std::size_t lane = 1; lane < lanes_.size(); ++lane) threads.emplace_back(work, lane);
    work(0);
  }

  result.totals = sum_totals(result.runs);
  result.totals.wall_seconds = seconds_since(sweep_start);
  return result;
}

}  // namespace ktune
