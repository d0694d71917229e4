#include "engine/gpu_evaluator.hpp"

#include <tbb/concurrent_queue.h>

#include <chrono>
#include <ctime>

#include "engine/model/compile_plan.hpp"
#include "engine/model/instantiate.hpp"
#include "engine/version.hpp"

namespace ktune {

namespace {

using store::MeasurementStatus;

MeasurementStatus from_runner(runner::MeasureStatus status) {
  switch (status) {
    case runner::MeasureStatus::ok: return MeasurementStatus::ok;
    case runner::MeasureStatus::invalid_config: return MeasurementStatus::invalid_config;
    case runner::MeasureStatus::launch_error: return MeasurementStatus::launch_error;
    case runner::MeasureStatus::wrong_result: return MeasurementStatus::wrong_result;
    case runner::MeasureStatus::timeout: return MeasurementStatus::timeout;
    case runner::MeasureStatus::crash: return MeasurementStatus::crash;
    case runner::MeasureStatus::pruned: return MeasurementStatus::pruned;
  }
  return MeasurementStatus::crash;
}

MeasurementStatus from_compiler(workers::CompileStatus status) {
  switch (status) {
    case workers::CompileStatus::timeout: return MeasurementStatus::timeout;
    case workers::CompileStatus::crash:
    case workers::CompileStatus::out_of_memory: return MeasurementStatus::crash;
    default: return MeasurementStatus::compile_error;
  }
}

Evaluation failed(const Config& config, MeasurementStatus status, std::string message) {
  Evaluation e;
  e.measurement.config = config;
  e.measurement.status = status;
  e.measurement.message = std::move(message);
  e.measurement.measured_at = static_cast<std::int64_t>(std::time(nullptr));
  e.measurement.ktune_version = version_string();
  return e;
}

// The first line of a compile log that mentions an error: what a user needs to see.
std::string log_headline(const std::string& log) {
  std::size_t start = 0;
  std::string first;
  while (start < log.size()) {
    const std::size_t end = std::min(log.find('\n', start), log.size());
    std::string line = log.substr(start, end - start);
    if (first.empty() && !line.empty()) first = line;
    if (line.find("error") != std::string::npos) return line;
    start = end + 1;
  }
  return first.empty() ? "compile failed" : first;
}

}  // namespace

GpuEvaluator::GpuEvaluator(const KernelSpec& spec, Sizes sizes, workers::CompilePool& pool, GpuRunner& runner,
                           GpuEvaluatorOptions options)
    : spec_(spec), sizes_(std::move(sizes)), pool_(pool), runner_(runner), options_(std::move(options)) {
  options_.measure.verify = spec_.verify.enabled ? runner::VerifyMode::compare : runner::VerifyMode::none;
  options_.measure.rtol = spec_.verify.rtol;
  options_.measure.atol = spec_.verify.atol;
}

Result<std::unique_ptr<GpuEvaluator>> GpuEvaluator::create(const KernelSpec& spec, const Sizes& sizes, workers::CompilePool& pool,
                                                           GpuRunner& runner, GpuEvaluatorOptions options) {
  auto problem = make_problem(spec, sizes);
  if (!problem) return problem.error();
  if (auto ok = runner.set_problem(*problem); !ok) return ok.error();
  std::unique_ptr<GpuEvaluator> evaluator(new GpuEvaluator(spec, sizes, pool, runner, std::move(options)));
  if (!spec.verify.enabled) return evaluator;

  // The reference first: every later configuration is compared with its outputs.
  const Config& reference = spec.verify.reference;
  auto plan = plan_launch(spec, reference, sizes);
  if (!plan) return make_error(Errc::invalid_argument, "the reference configuration " + format_named(reference) + ": " + plan.error().message);
  workers::CompileResult compiled = pool.submit(make_compile_job(spec, reference, evaluator->options_.arch)).get();
  if (!compiled.ok())
    return make_error(Errc::invalid_spec, "the reference configuration " + format_named(reference) + " does not compile: " +
                                              log_headline(compiled.log));
  Evaluation e = evaluator->measure_compiled(reference, compiled, *plan, std::nullopt, runner::VerifyMode::set_reference);
  if (e.measurement.status != MeasurementStatus::ok)
    return make_error(Errc::invalid_spec, "the reference configuration " + format_named(reference) + " failed (" +
                                              std::string(store::to_string(e.measurement.status)) + "): " + e.measurement.message);
  evaluator->reference_ = std::move(e);
  return evaluator;
}

Evaluation GpuEvaluator::measure_compiled(const Config& config, const workers::CompileResult& compiled, const runner::LaunchPlan& plan,
                                          std::optional<double> best_ns, runner::VerifyMode verify) {
  runner::KernelJob job;
  job.label = format_named(config);
  job.cubin = compiled.cubin;
  job.lowered_name = compiled.lowered_names.empty() ? spec_.entry : compiled.lowered_names.front();
  job.launch = plan;
  runner::MeasureOptions options = options_.measure;
  options.best_median_ns = best_ns;
  options.verify = verify;
  compiled_.insert_or_assign(config, std::make_pair(compiled, plan));

  auto results = runner_.measure({job}, options);
  if (!results) return failed(config, MeasurementStatus::crash, results.error().message);
  const runner::KernelMeasurement& m = results->front();
  Evaluation e = failed(config, from_runner(m.status), m.message);
  if (m.status == runner::MeasureStatus::ok || m.status == runner::MeasureStatus::pruned)
    e.measurement.timing = store::TimingStats{m.stats.median_ns, m.stats.min_ns, m.stats.mean_ns, m.stats.stddev_ns,
                                              static_cast<std::int64_t>(m.stats.samples), m.timer};
  if (m.registers) e.measurement.registers = m.registers;
  if (m.registers || m.static_shared_bytes)
    e.measurement.shared_bytes = m.static_shared_bytes + plan.shape.dynamic_shared_bytes;
  e.measurement.compile_seconds = compiled.compile_seconds;
  e.gpu_seconds = m.wall_seconds;
  return e;
}

void GpuEvaluator::evaluate(const std::vector<Config>& batch, std::optional<double> best_ns,
                            const std::function<void(Evaluation)>& on_result) {
  struct Compiled {
    std::size_t index;
    workers::CompileResult result;
  };
  // A window of at most `window` compiles in flight or waiting for the GPU: when the GPU is the
  // bottleneck the compilers stop ahead of it instead of piling up cubins. (Cache hits are
  // delivered on this thread inside submit(), so the window, not the queue, must do the bounding.)
  const std::size_t window = std::max<std::size_t>(options_.queue_capacity, 1);
  tbb::concurrent_bounded_queue<Compiled> ready;
  ready.set_capacity(static_cast<std::ptrdiff_t>(window));
  std::vector<std::optional<runner::LaunchPlan>> plans(batch.size());
  std::size_t next = 0, pending = 0;
  auto fill_window = [&] {
    while (next < batch.size() && pending < window) {
      const std::size_t i = next++;
      auto plan = plan_launch(spec_, batch[i], sizes_);
      if (!plan) {
        on_result(failed(batch[i], MeasurementStatus::invalid_config, plan.error().message));
        continue;
      }
      plans[i] = std::move(*plan);
      ++pending;
      pool_.submit(make_compile_job(spec_, batch[i], options_.arch),
                   [&ready, i](workers::CompileResult result) { ready.push(Compiled{i, std::move(result)}); });
    }
  };
  fill_window();
  std::optional<double> best = best_ns;
  while (pending > 0) {
    Compiled item;
    ready.pop(item);
    --pending;
    fill_window();
    const Config& config = batch[item.index];
    if (!item.result.ok()) {
      Evaluation e = failed(config, from_compiler(item.result.status), log_headline(item.result.log));
      e.measurement.compile_seconds = item.result.compile_seconds;
      on_result(std::move(e));
      continue;
    }
    Evaluation e = measure_compiled(config, item.result, *plans[item.index], best, options_.measure.verify);
    if (auto t = e.time_ns(); t && (!best || *t < *best)) best = t;
    on_result(std::move(e));
  }
}

std::vector<Evaluation> GpuEvaluator::remeasure(const std::vector<Config>& finalists) {
  std::vector<runner::KernelJob> jobs;
  std::vector<Config> configs;
  for (const auto& config : finalists) {
    auto it = compiled_.find(config);
    if (it == compiled_.end()) continue;
    runner::KernelJob job;
    job.label = format_named(config);
    job.cubin = it->second.first.cubin;
    job.lowered_name = it->second.first.lowered_names.empty() ? spec_.entry : it->second.first.lowered_names.front();
    job.launch = it->second.second;
    jobs.push_back(std::move(job));
    configs.push_back(config);
  }
  std::vector<Evaluation> out;
  if (jobs.size() < 2) return out;
  runner::MeasureOptions options = options_.measure;
  options.verify = runner::VerifyMode::none;  // already verified
  options.best_median_ns.reset();
  auto results = runner_.measure(jobs, options);
  if (!results) return out;
  for (std::size_t i = 0; i < results->size(); ++i) {
    const auto& m = (*results)[i];
    Evaluation e = failed(configs[i], from_runner(m.status), m.message);
    if (m.status == runner::MeasureStatus::ok)
      e.measurement.timing = store::TimingStats{m.stats.median_ns, m.stats.min_ns, m.stats.mean_ns, m.stats.stddev_ns,
                                                static_cast<std::int64_t>(m.stats.samples), m.timer};
    e.gpu_seconds = m.wall_seconds;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace ktune
