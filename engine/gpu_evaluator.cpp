#include "engine/gpu_evaluator.hpp"

#include <tbb/concurrent_queue.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include "engine/model/instantiate.hpp"
#include "engine/measurement_record.hpp"

namespace ktune {

namespace {

// What the runner launches for a compiled configuration: the first lowered name, a pipeline's
// later kernels by theirs, then the setup kernels' (the compile job named every stage in launch
// order, then every setup kernel: KernelSpec::name_expressions_for).
runner::KernelJob kernel_job(std::string label, const workers::CompileResult& compiled, const runner::LaunchPlan& plan,
                             const std::string& entry) {
  runner::KernelJob job;
  job.label = std::move(label);
  job.cubin = compiled.cubin;
  const auto& names = compiled.lowered_names;
  job.lowered_name = names.empty() ? entry : names.front();
  const std::size_t stages_end = std::min(names.size(), 1 + plan.stage_shapes.size());
  if (names.size() > 1) job.stage_lowered_names.assign(names.begin() + 1, names.begin() + static_cast<std::ptrdiff_t>(stages_end));
  job.setup_lowered_names.assign(names.begin() + static_cast<std::ptrdiff_t>(stages_end), names.end());
  job.launch = plan;
  return job;
}

}  // namespace

GpuEvaluator::GpuEvaluator(const KernelSpec& spec, Sizes sizes, workers::CompilePool& pool, GpuRunner& runner,
                           GpuEvaluatorOptions options)
    : spec_(spec), sizes_(std::move(sizes)), pool_(pool), runner_(runner), options_(std::move(options)) {
  options_.measure.verify = spec_.verify.enabled ? runner::VerifyMode::compare : runner::VerifyMode::none;
}

Result<std::unique_ptr<GpuEvaluator>> GpuEvaluator::create(const KernelSpec& spec, const Sizes& sizes, workers::CompilePool& pool,
                                                           GpuRunner& runner, GpuEvaluatorOptions options) {
  auto problem = make_problem(spec, sizes);
  if (!problem) return problem.error();
  if (auto ok = runner.set_problem(*problem); !ok) return ok.error();
  std::unique_ptr<GpuEvaluator> evaluator(new GpuEvaluator(spec, sizes, pool, runner, std::move(options)));
  // Where every output has an answer file, the files are the reference: nothing runs first.
  if (!spec.needs_reference_run()) return evaluator;
  if (spec.verify.kernel) {
    if (auto ok = evaluator->run_reference_kernel(); !ok) return ok.error();
    return evaluator;
  }

  // The reference configuration first: every later configuration is compared with its outputs.
  const Config& reference = spec.verify.reference;
  auto instance = instantiate(spec, reference, sizes, evaluator->options_.arch);
  if (!instance)
    return make_error(Errc::invalid_argument, "the reference configuration " + spec.space.format(reference) + ": " + instance.error().message);
  const runner::LaunchPlan* plan = &instance->launch;
  workers::CompileResult compiled = pool.submit(std::move(instance->compile)).get();
  if (!compiled.ok())
    return make_error(Errc::invalid_spec, "the reference configuration " + spec.space.format(reference) + " does not compile: " +
                                              compile_failure_evaluation(reference, compiled).measurement.message);
  evaluator->options_.measure.reference_label = "configuration " + spec.space.format(reference) + " of the same kernel";
  Evaluation e = evaluator->measure_compiled(reference, compiled, *plan, std::nullopt, runner::VerifyMode::set_reference);
  if (e.measurement.status != MeasurementStatus::ok)
    return make_error(Errc::invalid_spec, "the reference configuration " + spec.space.format(reference) + " failed (" +
                                              std::string(store::to_string(e.measurement.status)) + "): " + e.measurement.message);
  evaluator->reference_ = std::move(e);
  return evaluator;
}

// The reference kernel is compiled once and run once (no samples: it is not a configuration and
// its time means nothing here); its outputs become the reference. Not recorded anywhere.
Status GpuEvaluator::run_reference_kernel() {
  const ReferenceKernel& kernel = *spec_.verify.kernel;
  const std::string what = "the reference kernel " + kernel.entry;
  auto instance = instantiate_reference(spec_, sizes_, options_.arch);
  if (!instance) return make_error(Errc::invalid_argument, what + ": " + instance.error().message);
  workers::CompileResult compiled = pool_.submit(std::move(instance->compile)).get();
  if (!compiled.ok())
    return make_error(Errc::invalid_spec, what + " does not compile: " + compiled.log.substr(0, 2000));
  runner::KernelJob job = kernel_job("reference kernel " + kernel.entry, compiled, instance->launch, kernel.entry);
  job.own_args = instance->own_args;
  runner::MeasureOptions options = options_.measure;
  options.verify = runner::VerifyMode::set_reference;
  options.reference_label = "reference kernel " + kernel.entry;
  options.run_once = true;
  options.best_median_ns.reset();
  auto results = runner_.measure({job}, options);
  if (!results) return make_error(Errc::internal, what + ": " + results.error().message);
  const runner::KernelMeasurement& m = results->front();
  if (m.status != MeasurementStatus::ok)
    return make_error(Errc::invalid_spec, what + " failed (" + std::string(store::to_string(m.status)) + "): " + m.message);
  return Ok{};
}

Evaluation GpuEvaluator::measure_compiled(const Config& config, const workers::CompileResult& compiled, const runner::LaunchPlan& plan,
                                          std::optional<double> best_ns, runner::VerifyMode verify) {
  runner::KernelJob job = kernel_job(spec_.space.format(config), compiled, plan, spec_.entry);
  runner::MeasureOptions options = options_.measure;
  options.best_median_ns = best_ns;
  options.verify = verify;
  compiled_.insert_or_assign(config, std::make_pair(compiled, plan));

  auto results = runner_.measure({job}, options);
  if (!results) return failed_evaluation(config, MeasurementStatus::crash, results.error().message);
  return runner_evaluation(config, results->front(), plan, compiled.compile_seconds);
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
      auto instance = instantiate(spec_, batch[i], sizes_, options_.arch);
      if (!instance) {
        on_result(failed_evaluation(batch[i], MeasurementStatus::invalid_config, instance.error().message));
        continue;
      }
      plans[i] = std::move(instance->launch);
      ++pending;
      pool_.submit(std::move(instance->compile),
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
      on_result(compile_failure_evaluation(config, item.result));
      continue;
    }
    Evaluation e = measure_compiled(config, item.result, *plans[item.index], best, options_.measure.verify);
    if (auto t = e.time_ns(); t && (!best || *t < *best)) best = t;
    on_result(std::move(e));
  }
}

std::vector<Evaluation> GpuEvaluator::setup_evaluations() const {
  if (!reference_) return {};
  return {*reference_};
}

std::vector<Evaluation> GpuEvaluator::remeasure(const std::vector<Config>& finalists) {
  std::vector<runner::KernelJob> jobs;
  std::vector<Config> configs;
  for (const auto& config : finalists) {
    auto it = compiled_.find(config);
    if (it == compiled_.end()) continue;
    jobs.push_back(kernel_job(spec_.space.format(config), it->second.first, it->second.second, spec_.entry));
    configs.push_back(config);
  }
  std::vector<Evaluation> out;
  if (jobs.size() < 2) return out;
  runner::MeasureOptions options = options_.measure;
  options.verify = runner::VerifyMode::none;  // already verified
  options.best_median_ns.reset();
  auto results = runner_.measure(jobs, options);
  if (!results) return out;
  for (std::size_t i = 0; i < results->size(); ++i)
    out.push_back(runner_evaluation(configs[i], (*results)[i], jobs[i].launch, std::nullopt));
  return out;
}

}  // namespace ktune
