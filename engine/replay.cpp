#include "engine/replay.hpp"

#include <algorithm>

#include "engine/replay_evaluator.hpp"
#include "engine/store_file.hpp"
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

struct RecordedSpace::State {
  const KernelSpec* spec = nullptr;
  TuningQuestion question;
  SearchSpace space;
  // Shared by copies: a replay only reads the recording (Evaluator::evaluate is non-const by interface).
  std::unique_ptr<ReplayEvaluator> evaluator;
  std::pair<Config, double> best;
};

const SearchSpace& RecordedSpace::space() const noexcept { return state_->space; }
std::size_t RecordedSpace::recorded() const noexcept { return state_->evaluator->recorded(); }
const std::pair<Config, double>& RecordedSpace::recorded_best() const noexcept { return state_->best; }

Result<RecordedSpace> RecordedSpace::open(const KernelSpec& spec, const Sizes& given_sizes, const DeviceSignature& device,
                                          const Toolchain& toolchain, store::Store& recorded) {
  auto sizes = spec.ordered_sizes(given_sizes);
  if (!sizes) return sizes.error();
  auto space = SearchSpace::build(spec.space, &*sizes);
  if (!space) return space.error();
  auto state = std::make_shared<State>(State{&spec, TuningQuestion{&spec, *sizes, device, toolchain}, std::move(*space), nullptr, {}});
  auto evaluator = ReplayEvaluator::from_store(recorded, state->question);
  if (!evaluator) return evaluator.error();
  state->evaluator = std::move(*evaluator);
  auto best = state->evaluator->best_recorded();
  if (!best) return make_error(Errc::not_found, "the recording has no successful measurement");
  state->best = std::move(*best);
  return RecordedSpace(std::move(state));
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
  strategy_options.start_candidates = {state_->spec->default_config};
  strategy_options.random_count = options.limits.max_evaluations && parse_strategy_kind(options.strategy) == StrategyKind::random
                                      ? options.limits.max_evaluations
                                      : options.random_count;
  strategy_options.random_starts = options.random_starts;
  strategy_options.seed = options.seed;
  strategy_options.budget = options.limits.max_evaluations;
  auto strategy = make_strategy(options.strategy, state_->space, strategy_options);
  if (!strategy) return strategy.error();
  auto ledger = MeasurementLedger::open(state_->question, nullptr);  // a replay writes nothing
  if (!ledger) return ledger.error();
  auto run = TuningSession(state_->question, state_->space, **strategy, *state_->evaluator, *ledger, options.limits, options.hooks).run();
  if (!run) return run.error();
  ReplayReport report;
  report.run = std::move(*run);
  report.recorded = state_->evaluator->recorded();
  report.valid = state_->space.valid_count();
  report.recorded_best = state_->best.first;
  report.recorded_best_ns = state_->best.second;
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

Result<EngineOptions::Recording> recording_at(const std::filesystem::path& recording, const std::string& device) {
  auto file = StoreFile::open_read_only(recording);
  if (!file) return file.error();
  auto targets = file->measured_targets();
  if (!targets) return targets.error();
  std::erase_if(*targets, [&](const MeasuredTarget& t) { return !device.empty() && t.device != device; });
  const std::string where = "recording '" + recording.string() + "'";
  if (targets->empty())
    return make_error(Errc::not_found, where + " holds no measurements" + (device.empty() ? "" : " taken on " + device));
  if (targets->size() > 1) {
    std::string list;
    for (const MeasuredTarget& t : *targets) list += (list.empty() ? "" : "; ") + t.device + " (" + t.arch + ", " + t.toolchain + ")";
    return make_error(Errc::invalid_argument, where + " holds measurements of several devices or toolchains (" + list +
                                                  "); name the device to replay");
  }
  const MeasuredTarget& t = targets->front();
  constexpr std::string_view prefix = "nvrtc ";
  if (!t.toolchain.starts_with(prefix))
    return make_error(Errc::corrupt, where + ": toolchain '" + t.toolchain + "' is not like 'nvrtc 13.0'");
  return EngineOptions::Recording{recording, DeviceSignature{t.device, t.arch}, Toolchain{t.toolchain.substr(prefix.size())}};
}

}  // namespace ktune
