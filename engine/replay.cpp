#include "engine/replay.hpp"

#include "engine/model/tuning_question.hpp"
#include "tuner/strategy.hpp"

namespace ktune {

Result<ReplayReport> replay(const KernelSpec& spec, const Sizes& given_sizes, const DeviceSignature& device, const Toolchain& toolchain,
                            store::Store& recorded, const TuneOptions& options) {
  auto ordered = spec.ordered_sizes(given_sizes);
  if (!ordered) return ordered.error();
  const Sizes& sizes = *ordered;
  auto space = SearchSpace::build(spec.space, &sizes);
  if (!space) return space.error();
  TuningQuestion question{&spec, sizes, device, toolchain};
  auto evaluator = ReplayEvaluator::from_store(recorded, question.tuning_record().tuning_key);
  if (!evaluator) return evaluator.error();
  auto best = (*evaluator)->best_recorded();
  if (!best) return make_error(Errc::not_found, "the recording has no successful measurement");

  auto name = canonical_strategy_name(options.strategy);
  if (!name) return make_error(Errc::invalid_argument, "unknown strategy '" + options.strategy + "'");
  std::unique_ptr<Strategy> strategy;
  if (*name == "exhaustive") strategy = make_exhaustive(*space);
  else if (*name == "random") strategy = make_random(*space, options.random_count, options.seed);
  else {
    CoordinateDescentOptions cd;
    cd.start = spec.default_config;
    cd.random_starts = options.random_starts;
    cd.seed = options.seed;
    strategy = make_coordinate_descent(*space, cd);
  }
  auto run = run_tuning(question, *space, *strategy, **evaluator, nullptr, options.limits, options.hooks, std::nullopt, false);
  if (!run) return run.error();
  ReplayReport report;
  report.run = std::move(*run);
  report.recorded = (*evaluator)->recorded();
  report.recorded_best = best->first;
  report.recorded_best_ns = best->second;
  return report;
}

Result<ReplayReport> replay(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device, const Toolchain& toolchain,
                            const std::filesystem::path& recording, const TuneOptions& options) {
  store::StoreOptions read_only;
  read_only.read_only = true;
  auto recorded = store::Store::open(recording, read_only);
  if (!recorded) return recorded.error();
  return replay(spec, sizes, device, toolchain, *recorded, options);
}

}  // namespace ktune
