#pragma once
// A sweep lane with no GPU: it decides like Engine::tune (an exact answer in the lookup table is
// "done earlier" unless forced; otherwise tune, every measurement and the winner written to the
// store) but measures by replaying real H100 measurements recorded in tests/data/h100-sgemm.db.
// Several lanes over one store file stand in for several GPUs (tests/test_sweep_runner.cpp).
#include <filesystem>
#include <memory>
#include <string>

#include "engine/replay_evaluator.hpp"
#include "engine/sweep_runner.hpp"
#include "engine/tuning_session.hpp"
#include "store/store.hpp"
#include "tuner/strategy.hpp"

namespace ktune::testing {

inline const DeviceSignature kRecordedH100{"NVIDIA H100 80GB HBM3", "sm_90"};
inline const Toolchain kRecordedToolchain{"13.0"};

class ReplayLane final : public SweepLane {
 public:
  ReplayLane(const std::filesystem::path& recording, const std::filesystem::path& store)
      : recorded_(open(recording, true)), store_(open(store, false)) {}

  Result<TuneOutcome> tune(const KernelSpec& spec, const Sizes& given, const TuneOptions& options) override {
    auto sizes = spec.ordered_sizes(given);
    if (!sizes) return sizes.error();
    TuningQuestion question{&spec, *sizes, kRecordedH100, kRecordedToolchain};
    TuneOutcome outcome;
    outcome.device = kRecordedH100;
    outcome.arch = kRecordedH100.arch;
    auto known = store_.lookup(question.lookup_request());
    if (!known) return known.error();
    if (known->rule == store::LookupRule::exact && !options.force) {
      outcome.answered_from_lookup = true;
      outcome.report.strategy = known->entry->strategy;
      outcome.report.best = known->entry->config;
      outcome.report.best_ns = known->entry->time_ns;
      outcome.report.default_ns = known->entry->default_time_ns;
      return outcome;
    }
    auto evaluator = ReplayEvaluator::from_store(recorded_, question.tuning_record().tuning_key);
    if (!evaluator) return evaluator.error();
    auto space = SearchSpace::build(spec.space, &question.sizes);
    if (!space) return space.error();
    std::unique_ptr<Strategy> strategy;
    if (options.strategy == "exhaustive") {
      strategy = make_exhaustive(*space);
    } else {
      CoordinateDescentOptions cd;
      cd.start = known->entry && space->is_valid(known->entry->config) ? known->entry->config : spec.default_config;
      strategy = make_coordinate_descent(*space, cd);
    }
    auto report = run_tuning(question, *space, *strategy, **evaluator, &store_, options.limits, options.hooks);
    if (!report) return report.error();
    outcome.report = std::move(*report);
    return outcome;
  }

 private:
  static store::Store open(const std::filesystem::path& path, bool read_only) {
    store::StoreOptions options;
    options.read_only = read_only;
    return store::Store::open(path, options).value_or_throw();
  }

  store::Store recorded_;
  store::Store store_;
};

}  // namespace ktune::testing
