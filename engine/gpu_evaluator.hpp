#pragma once
// The compile ∥ benchmark pipeline (DESIGN.md's core): every configuration of a batch is
// submitted to the compile pool at once; compiled cubins flow through a bounded queue to the one
// GPU runner as they finish, so the GPU does not wait on the compiler when the compiler keeps up.
// The reference configuration (or the reference kernel, run once) goes first and its outputs
// verify every other one; outputs with answer files are verified against the files.
#include <map>
#include <memory>

#include "engine/runner_client.hpp"
#include "engine/evaluator.hpp"
#include "engine/model/objective.hpp"
#include "engine/model/spec.hpp"
#include "workers/compile_pool.hpp"

namespace ktune {

struct GpuEvaluatorOptions {
  std::string arch;                  // chosen with choose_arch()
  runner::MeasureOptions measure;     // stop rule, L2 flush, timeouts (verify mode is set here)
  std::size_t queue_capacity = 64;   // compiled cubins waiting for the GPU
};

class GpuEvaluator final : public Evaluator {
 public:
  // Sets the problem on the runner and measures the reference configuration (when the spec
  // verifies): an error if the reference itself cannot run.
  static Result<std::unique_ptr<GpuEvaluator>> create(const KernelSpec& spec, const Sizes& sizes, workers::CompilePool& pool,
                                                      GpuRunner& runner, GpuEvaluatorOptions options);

  void evaluate(const std::vector<Config>& batch, std::optional<double> best_cost,
                const std::function<void(Evaluation)>& on_result) override;
  std::vector<Evaluation> remeasure(const std::vector<Config>& finalists) override;
  // The reference's own measurement, which a tuning session records like any other.
  std::vector<Evaluation> setup_evaluations() const override;

  // The reference's own measurement (a real evaluation of that configuration), if it was taken.
  const std::optional<Evaluation>& reference_evaluation() const noexcept { return reference_; }

 private:
  GpuEvaluator(const KernelSpec& spec, Sizes sizes, workers::CompilePool& pool, GpuRunner& runner,
               GpuEvaluatorOptions options);
  Status run_reference_kernel();
  // verify.match: one reference per combination of the matched parameters' values. The runner
  // holds one reference at a time; before a configuration of another combination is measured,
  // that combination's reference (compiled once, kept here) is run once again, its outputs
  // becoming the reference. An error: why this combination has no reference (its reference
  // configuration is invalid or fails), which becomes the configuration's failure.
  struct GroupReference {
    workers::CompileResult compiled;
    runner::LaunchPlan plan;
    std::optional<std::vector<runner::ArgSlot>> own_args;
    std::string label;  // "configuration ... of the same kernel", "reference kernel ... compiled with ..."
    std::string error;  // non-empty: configurations of this combination cannot be verified
  };
  std::optional<std::string> use_reference_for(const Config& config);
  // Buffers whose type follows a named choice: the runner's buffers are set up again (in
  // `config`'s types) when `config` has other type values than the current ones.
  std::optional<std::string> use_buffers_for(const Config& config);
  GroupReference prepare_group_reference(const Config& config);
  Evaluation measure_compiled(const Config& config, const workers::CompileResult& compiled, const runner::LaunchPlan& plan,
                              std::optional<double> best_ns, runner::VerifyMode verify);

  const KernelSpec& spec_;
  Sizes sizes_;
  workers::CompilePool& pool_;
  GpuRunner& runner_;
  GpuEvaluatorOptions options_;
  std::optional<Evaluation> reference_;
  RankingObjective objective_;
  std::map<Config, GroupReference> group_references_;  // by KernelSpec::match_group
  std::optional<Config> current_group_;                 // whose outputs the runner holds now
  Config buffer_types_;                                 // KernelSpec::type_group of the runner's buffers
  std::map<Config, std::pair<workers::CompileResult, runner::LaunchPlan>> compiled_;  // for remeasure
};

}  // namespace ktune
