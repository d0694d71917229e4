#pragma once
// A tuning session that needs no GPU: examples/sgemm.json at M=N=K=2048 on the H100, answered by
// the replay evaluator from real measurements recorded in tests/data/h100-sgemm.db. Shared by the
// resume tests (tests/test_sweep_resume.cpp) and the process they kill (helpers/tuning_child.cpp).
#include <memory>
#include <stdexcept>
#include <string>

#include "engine/replay_evaluator.hpp"
#include "engine/tuning_session.hpp"
#include "tuner/strategy.hpp"

namespace ktune::testing {

struct ReplayedSgemm {
  KernelSpec spec = KernelSpec::from_file(std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json").value_or_throw();
  TuningQuestion question{&spec, {{"M", 2048}, {"N", 2048}, {"K", 2048}}, {"NVIDIA H100 80GB HBM3", "sm_90"}, {"13.0"}};
  store::Store recorded = open_recording();
  std::unique_ptr<ReplayEvaluator> evaluator =
      ReplayEvaluator::from_store(recorded, question).value_or_throw();
  SearchSpace space = SearchSpace::build(spec.space, &question.sizes).value_or_throw();

  ReplayedSgemm() = default;
  ReplayedSgemm(const ReplayedSgemm&) = delete;
  ReplayedSgemm& operator=(const ReplayedSgemm&) = delete;

  std::unique_ptr<Strategy> strategy(const std::string& name) const {
    if (name == "exhaustive") return make_exhaustive(space);
    if (name == "coordesc") return make_coordinate_descent(space, {.start = spec.default_config});
    throw std::runtime_error("unknown strategy " + name);
  }

 private:
  static store::Store open_recording() {
    store::StoreOptions read_only;
    read_only.read_only = true;
    return store::Store::open(std::string(KTUNE_SOURCE_DIR) + "/tests/data/h100-sgemm.db", read_only).value_or_throw();
  }
};

}  // namespace ktune::testing
