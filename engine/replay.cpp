#include "engine/replay.hpp"

#include <algorithm>

#include "engine/measurement_ledger.hpp"
#include "engine/model/tuning_question.hpp"
#include "engine/tuning_session.hpp"
#include "tuner/strategy_factory.hpp"

namespace ktune {

double ReplayStudy::mean_quality() const {
  double sum = 0;
  for (const auto& r : runs) sum += r.quality();
  return runs.empty() ? 0 : sum / static_cast<double>(runs.size());
}
double ReplayStudy::min_quality() const {
  double out = runs.empty() ? 0 : runs.front().quality();
  for (const auto& r : runs) out = std::min(out, r.quality());
  return out;
}
double ReplayStudy::max_quality() const {
  double out = 0;
  for (const auto& r : runs) out = std::max(out, r.quality());
  return out;
}
double ReplayStudy::mean_evaluated() const {
  double sum = 0;
  for (const auto& r : runs) sum += static_cast<double>(r.run.evaluated);
  return runs.empty() ? 0 : sum / static_cast<double>(runs.size());
}

Result<RecordedSpace> RecordedSpace::open(const KernelSpec& spec, const Sizes& given_sizes, const DeviceSignature& device,
                                          const Toolchain& toolchain, store::Store& recorded) {
  auto sizes = spec.ordered_sizes(given_sizes);
  if (!sizes) return sizes.error();
  auto space = SearchSpace::build(spec.space, &*sizes);
  if (!space) return space.error();
  RecordedSpace out;
  out.spec_ = &spec;
  out.question_ = TuningQuestion{&spec, *sizes, device, toolchain};
  out.space_ = std::make_unique<SearchSpace>(std::move(*space));
  auto evaluator = ReplayEvaluator::from_store(recorded, out.question_.tuning_record().tuning_key);
  if (!evaluator) return evaluator.error();
  out.evaluator_ = std::move(*evaluator);
  auto best = out.evaluator_->best_recorded();
  if (!best) return make_error(Errc::not_found, "the recording has no successful measurement");
  out.best_ = std::move(*best);
  return out;
}

Result<RecordedSpace> RecordedSpace::open(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device,
                                          const Toolchain& toolchain, const std::filesystem::path& recording) {
  store::StoreOptions read_only;
  read_only.read_only = true;
  auto recorded = store::Store::open(recording, read_only);
  if (!recorded) return recorded.error();
  return open(spec, sizes, device, toolchain, *recorded);  // the measurements are read: the file can close
}

Result<ReplayReport> RecordedSpace::run(const TuneOptions& options) const {
  // The same choice as the engine's (tuner/strategy_factory.hpp); a recording has no lookup table,
  // so a local search starts from the spec's default.
  StrategyOptions strategy_options;
  strategy_options.start_candidates = {spec_->default_config};
  strategy_options.random_count = options.limits.max_evaluations && parse_strategy_kind(options.strategy) == StrategyKind::random
                                      ? options.limits.max_evaluations
                                      : options.random_count;
  strategy_options.random_starts = options.random_starts;
  strategy_options.seed = options.seed;
  strategy_options.budget = options.limits.max_evaluations;
  auto strategy = make_strategy(options.strategy, *space_, strategy_options);
  if (!strategy) return strategy.error();
  auto ledger = MeasurementLedger::open(question_, nullptr);  // a replay writes nothing
  if (!ledger) return ledger.error();
  auto run = TuningSession(question_, *space_, **strategy, *evaluator_, *ledger, options.limits, options.hooks).run();
  if (!run) return run.error();
  ReplayReport report;
  report.run = std::move(*run);
  report.recorded = evaluator_->recorded();
  report.valid = space_->valid_count();
  report.recorded_best = best_.first;
  report.recorded_best_ns = best_.second;
  return report;
}

Result<ReplayStudy> RecordedSpace::study(const TuneOptions& options, std::size_t repeats) const {
  ReplayStudy out;
  TuneOptions each = options;
  for (std::size_t i = 0; i < std::max<std::size_t>(repeats, 1); ++i) {
    each.seed = options.seed + i;
    auto report = run(each);
    if (!report) return report.error();
    out.runs.push_back(std::move(*report));
  }
  return out;
}

Result<ReplayReport> replay(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device, const Toolchain& toolchain,
                            store::Store& recorded, const TuneOptions& options) {
  auto space = RecordedSpace::open(spec, sizes, device, toolchain, recorded);
  if (!space) return space.error();
  return space->run(options);
}

Result<ReplayReport> replay(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device, const Toolchain& toolchain,
                            const std::filesystem::path& recording, const TuneOptions& options) {
  auto space = RecordedSpace::open(spec, sizes, device, toolchain, recording);
  if (!space) return space.error();
  return space->run(options);
}

}  // namespace ktune
