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

  void evaluate(const std::vector<Config>& batch, std::optional<double> best_ns,
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
  Evaluation measure_compiled(const Config& config, const workers::CompileResult& compiled, const runner::LaunchPlan& plan,
                              std::optional<double> best_ns, runner::VerifyMode verify);

  const KernelSpec& spec_;
  Sizes sizes_;
  workers::CompilePool& pool_;
  GpuRunner& runner_;
  GpuEvaluatorOptions options_;
  std::optional<Evaluation> reference_;
  std::map<Config, std::pair<workers::CompileResult, runner::LaunchPlan>> compiled_;  // for remeasure
};

}  // namespace ktune
