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
    : spec_(spec), sizes_(std::move(sizes)), pool_(pool), runner_(runner), options_(std::move(options)), objective_(spec_, sizes_) {
  options_.measure.verify = spec_.verify.enabled ? runner::VerifyMode::compare : runner::VerifyMode::none;
}

Result<std::unique_ptr<GpuEvaluator>> GpuEvaluator::create(const KernelSpec& spec, const Sizes& sizes, workers::CompilePool& pool,
                                                           GpuRunner& runner, GpuEvaluatorOptions options) {
  // Buffers in the types of the first reference (a buffer may follow a named choice).
  const Config& first = spec.verify.kernel || !spec.verify.enabled ? spec.default_config : spec.verify.reference;
  auto problem = make_problem(spec, sizes, &first);
  if (!problem) return problem.error();
  if (auto ok = runner.set_problem(*problem); !ok) return ok.error();
  std::unique_ptr<GpuEvaluator> evaluator(new GpuEvaluator(spec, sizes, pool, runner, std::move(options)));
  evaluator->buffer_types_ = spec.type_group(first);
  // Where every output has an answer file, the files are the reference: nothing runs first.
  if (!spec.needs_reference_run()) return evaluator;
  if (spec.verify.kernel) {
    if (auto ok = evaluator->run_reference_kernel(); !ok) return ok.error();
    evaluator->current_group_ = spec.match_group(spec.default_config);
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
  evaluator->current_group_ = spec.match_group(reference);
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
  const std::string label = spec_.verify.match.empty() ? "reference kernel " + kernel.entry
                                                        : spec_.describe_reference(&spec_.default_config);
  runner::KernelJob job = kernel_job(label, compiled, instance->launch, kernel.entry);
  job.own_args = instance->own_args;
  runner::MeasureOptions options = options_.measure;
  options.verify = runner::VerifyMode::set_reference;
  options.reference_label = label;
  options.run_once = true;
  options.best_median_ns.reset();
  auto results = runner_.measure({job}, options);
  if (!results) return make_error(Errc::internal, what + ": " + results.error().message);
  const runner::KernelMeasurement& m = results->front();
  if (m.status != MeasurementStatus::ok)
    return make_error(Errc::invalid_spec, what + " failed (" + std::string(store::to_string(m.status)) + "): " + m.message);
  return Ok{};
}

GpuEvaluator::GroupReference GpuEvaluator::prepare_group_reference(const Config& config) {
  GroupReference ref;
  ref.label = spec_.describe_reference(&config);
  if (spec_.verify.kernel) {
    auto instance = instantiate_reference(spec_, sizes_, options_.arch, &config);
    if (!instance) {
      ref.error = "cannot be verified: its " + ref.label + ": " + instance.error().message;
      return ref;
    }
    ref.compiled = pool_.submit(std::move(instance->compile)).get();
    ref.plan = std::move(instance->launch);
    ref.own_args = instance->own_args;
    if (!ref.compiled.ok()) ref.error = "cannot be verified: its " + ref.label + " does not compile: " + ref.compiled.log.substr(0, 2000);
    return ref;
  }
  // The reference configuration with this configuration's matched values: a configuration like
  // any other, so it must be valid at these sizes.
  const Config reference = spec_.reference_config_for(config);
  const std::string what = "cannot be verified: its reference, configuration " + spec_.space.format(reference, " ");
  if (auto why = why_invalid_at(spec_.space, reference, sizes_)) {
    ref.error = what + ", is not a valid configuration (" + *why + ")";
    return ref;
  }
  auto instance = instantiate(spec_, reference, sizes_, options_.arch);
  if (!instance) {
    ref.error = what + ": " + instance.error().message;
    return ref;
  }
  ref.compiled = pool_.submit(std::move(instance->compile)).get();
  ref.plan = std::move(instance->launch);
  if (!ref.compiled.ok()) ref.error = what + ", does not compile: " + compile_failure_evaluation(reference, ref.compiled).measurement.message;
  return ref;
}

std::optional<std::string> GpuEvaluator::use_buffers_for(const Config& config) {
  if (!spec_.has_typed_buffers()) return std::nullopt;
  Config types = spec_.type_group(config);
  if (types == buffer_types_) return std::nullopt;
  auto problem = make_problem(spec_, sizes_, &config);
  if (!problem) return "its buffers (" + spec_.space.format(types, " ") + ") could not be planned: " + problem.error().message;
  current_group_.reset();  // new buffers: the reference outputs are gone with the old ones
  buffer_types_.clear();
  if (auto ok = runner_.set_problem(*problem); !ok)
    return "its buffers (" + spec_.space.format(types, " ") + ") could not be set up: " + ok.error().message;
  buffer_types_ = std::move(types);
  return std::nullopt;
}

std::optional<std::string> GpuEvaluator::use_reference_for(const Config& config) {
  if (auto why = use_buffers_for(config)) return why;
  if (spec_.verify.match.empty() || options_.measure.verify != runner::VerifyMode::compare || !spec_.needs_reference_run())
    return std::nullopt;
  Config group = spec_.match_group(config);
  if (current_group_ && *current_group_ == group) return std::nullopt;
  auto it = group_references_.find(group);
  if (it == group_references_.end()) it = group_references_.emplace(group, prepare_group_reference(config)).first;
  GroupReference& ref = it->second;
  if (!ref.error.empty()) return ref.error;
  // Run once (never timed, never recorded): its outputs become the runner's reference.
  runner::KernelJob job = kernel_job(ref.label, ref.compiled, ref.plan, spec_.verify.kernel ? spec_.verify.kernel->entry : spec_.entry);
  job.own_args = ref.own_args;
  runner::MeasureOptions options = options_.measure;
  options.verify = runner::VerifyMode::set_reference;
  options.reference_label = ref.label;
  options.run_once = true;
  options.best_median_ns.reset();
  current_group_.reset();  // whatever happens now, the runner's reference is no longer the old one
  auto results = runner_.measure({job}, options);
  if (!results) return "cannot be verified: its " + ref.label + " could not run: " + results.error().message;
  const runner::KernelMeasurement& m = results->front();
  if (m.status != MeasurementStatus::ok) {
    ref.error = "cannot be verified: its " + ref.label + " failed (" + std::string(store::to_string(m.status)) + "): " + m.message;
    return ref.error;
  }
  current_group_ = std::move(group);
  return std::nullopt;
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

void GpuEvaluator::evaluate(const std::vector<Config>& given, std::optional<double> best_cost,
                            const std::function<void(Evaluation)>& on_result) {
  // With verify.match, configurations of one combination are compiled (and so mostly measured)
  // one after another, so the runner's reference changes as few times as the batch allows.
  // Likewise buffers that follow a named choice change as few times as the batch allows.
  const bool regroup = !spec_.verify.match.empty() || spec_.has_typed_buffers();
  std::vector<Config> grouped;
  if (regroup) {
    grouped = given;
    std::stable_sort(grouped.begin(), grouped.end(), [&](const Config& a, const Config& b) {
      return std::make_pair(spec_.type_group(a), spec_.match_group(a)) < std::make_pair(spec_.type_group(b), spec_.match_group(b));
    });
  }
  const std::vector<Config>& batch = regroup ? grouped : given;
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
  std::optional<double> best = best_cost;
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
    if (auto why = use_reference_for(config)) {
      on_result(failed_evaluation(config, MeasurementStatus::invalid_config, *why));
      continue;
    }
    // The runner races against a time: the best cost as this configuration's time.
    const std::optional<double> best_ns = best ? objective_.time_at_cost(config, *best) : std::nullopt;
    Evaluation e = measure_compiled(config, item.result, *plans[item.index], best_ns, options_.measure.verify);
    if (auto t = e.time_ns())
      if (auto c = objective_.cost(config, *t); c && (!best || *c < *best)) best = c;
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
  // Side by side on one set of buffers: with buffers following a named choice, the finalists of
  // the best's types (the others are compared through their first measurements).
  if (!finalists.empty() && use_buffers_for(finalists.front())) return {};
  for (const auto& config : finalists) {
    if (spec_.type_group(config) != buffer_types_) continue;
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
