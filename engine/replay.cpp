#include "engine/replay.hpp"

#include "engine/model/tuning_question.hpp"
#include "engine/replay_evaluator.hpp"
#include "engine/measurement_ledger.hpp"
#include "engine/tuning_session.hpp"
#include "tuner/strategy_factory.hpp"

namespace ktune {

Result<ReplayReport> replay(const KernelSpec& spec, const Sizes& given_sizes, const DeviceSignature& device, const Toolchain& toolchain,
                            store::Store& recorded, const TuneOptions& options) {
  auto sizes = spec.ordered_sizes(given_sizes);
  if (!sizes) return sizes.error();
  auto space = SearchSpace::build(spec.space, &*sizes);
  if (!space) return space.error();
  TuningQuestion question{&spec, *sizes, device, toolchain};
  auto evaluator = ReplayEvaluator::from_store(recorded, question.tuning_record().tuning_key);
  if (!evaluator) return evaluator.error();
  auto best = (*evaluator)->best_recorded();
  if (!best) return make_error(Errc::not_found, "the recording has no successful measurement");

  // The same choice as the engine's (tuner/strategy_factory.hpp); a recording has no lookup table,
  // so a local search starts from the spec's default.
  StrategyOptions strategy_options;
  strategy_options.start_candidates = {spec.default_config};
  strategy_options.random_count = options.random_count;
  strategy_options.random_starts = options.random_starts;
  strategy_options.seed = options.seed;
  auto strategy = make_strategy(options.strategy, *space, strategy_options);
  if (!strategy) return strategy.error();
  auto ledger = MeasurementLedger::open(question, nullptr);  // a replay writes nothing
  if (!ledger) return ledger.error();
  auto run = TuningSession(question, *space, **strategy, **evaluator, *ledger, options.limits, options.hooks).run();
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
