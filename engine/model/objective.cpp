#include "engine/model/objective.hpp"

namespace ktune {

RankingObjective::RankingObjective(const KernelSpec& spec, Sizes sizes)
    : spec_(&spec), metric_(spec.objective_metric()), sizes_(std::move(sizes)) {
  if (auto w = work(spec.default_config)) reference_work_ = *w;
}

std::string RankingObjective::name() const { return by_time() ? "time" : spec_->objective.maximize; }

std::optional<double> RankingObjective::work(const Config& config) const {
  if (!metric_) return std::nullopt;
  auto slots = spec_->slots(config, sizes_);
  if (!slots) return std::nullopt;
  const EvalResult r = metric_->evaluate(*slots);
  if (!r.ok() || r.value <= 0) return std::nullopt;
  return static_cast<double>(r.value);
}

std::optional<double> RankingObjective::cost(const Config& config, double time_ns) const {
  if (by_time()) return time_ns;
  auto w = work(config);
  if (!w) return std::nullopt;
  return time_ns * reference_work_ / *w;
}

std::optional<double> RankingObjective::time_at_cost(const Config& config, double cost) const {
  if (by_time()) return cost;
  auto w = work(config);
  if (!w) return std::nullopt;
  return cost * *w / reference_work_;
}

}  // namespace ktune
