#include "tuner/strategy.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace ktune {

namespace {

class Exhaustive final : public Strategy {
 public:
  explicit Exhaustive(const SearchSpace& space) : space_(space) {}
  std::string name() const override { return "exhaustive"; }
  std::vector<Config> next_batch() override {
    if (proposed_) return {};
    proposed_ = true;
    std::vector<Config> all;
    all.reserve(space_.valid_count());
    for (std::uint64_t i = 0; i < space_.valid_count(); ++i) all.push_back(space_.config_at(i));
    return all;
  }
  void report(const Config&, std::optional<double>) override {}

 private:
  const SearchSpace& space_;
  bool proposed_ = false;
};

class RandomSample final : public Strategy {
 public:
  RandomSample(const SearchSpace& space, std::size_t count, std::uint64_t seed) : space_(space), count_(count), seed_(seed) {}
  std::string name() const override { return "random"; }
  std::vector<Config> next_batch() override {
    if (proposed_) return {};
    proposed_ = true;
    return space_.sample(count_, seed_);
  }
  void report(const Config&, std::optional<double>) override {}

 private:
  const SearchSpace& space_;
  std::size_t count_;
  std::uint64_t seed_;
  bool proposed_ = false;
};

class CoordinateDescent final : public Strategy {
 public:
  CoordinateDescent(const SearchSpace& space, CoordinateDescentOptions options) : space_(space), options_(std::move(options)) {}
  std::string name() const override { return "coordesc"; }

  std::vector<Config> next_batch() override {
    if (phase_ == Phase::start) {
      phase_ = Phase::singles;
      std::vector<Config> batch;
      if (space_.is_valid(options_.start)) batch.push_back(options_.start);
      for (auto& c : space_.sample(options_.random_starts, options_.seed))
        if (c != options_.start) batch.push_back(std::move(c));
      if (batch.empty() && space_.valid_count() > 0) batch.push_back(space_.config_at(0));
      return fresh(std::move(batch));
    }
    // Each call begins a pass around the current best; the previous pass's results are in.
    while (best_ && passes_ < options_.max_passes) {
      const bool moved = !pass_start_ || *pass_start_ != best_->first;
      if (moved) phase_ = Phase::singles;
      else if (phase_ == Phase::singles && options_.pair_moves) phase_ = Phase::pairs;
      else return {};  // neither single nor pair moves improved: a local optimum
      pass_start_ = best_->first;
      ++passes_;
      auto batch = fresh(phase_ == Phase::singles ? space_.neighbours(best_->first) : pair_moves(best_->first));
      if (!batch.empty()) return batch;
      // Every candidate of this pass was measured before: decide the next pass at once.
    }
    return {};
  }

  void report(const Config& config, std::optional<double> time_ns) override {
    times_[config] = time_ns;
    if (!time_ns) return;
    // Moving needs a real improvement, so noise cannot make the descent wander.
    if (!best_ || *time_ns < best_->second * (1.0 - options_.min_improvement)) best_ = {config, *time_ns};
  }

 private:
  enum class Phase { start, singles, pairs };

  // `config` with parameter p moved one listed value in `direction`; nullopt past the list's end.
  std::optional<Config> step(const Config& config, std::size_t p, int direction) const {
    const auto& values = space_.params().params[p].values;
    auto it = std::find(values.begin(), values.end(), config[p].second);
    if (it == values.end()) return std::nullopt;
    const auto at = static_cast<std::ptrdiff_t>(it - values.begin()) + direction;
    if (at < 0 || at >= static_cast<std::ptrdiff_t>(values.size())) return std::nullopt;
    Config out = config;
    out[p].second = values[static_cast<std::size_t>(at)];
    return out;
  }

  bool promising(const Config& single) const {
    if (!space_.is_valid(single)) return true;  // blocked by a constraint: maybe a partner unblocks it
    auto it = times_.find(single);
    return it != times_.end() && it->second && *it->second <= best_->second * (1.0 + options_.pair_tolerance);
  }

  std::vector<Config> pair_moves(const Config& center) const {
    std::vector<Config> out;
    const std::size_t n = center.size();
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i + 1; j < n; ++j)
        for (int si : {-1, 1})
          for (int sj : {-1, 1}) {
            auto a = step(center, i, si);
            auto b = step(center, j, sj);
            if (!a || !b || !(promising(*a) || promising(*b))) continue;
            auto both = step(*a, j, sj);
            if (both && space_.is_valid(*both)) out.push_back(std::move(*both));
          }
    return out;
  }

  std::vector<Config> fresh(std::vector<Config> batch) const {
    std::vector<Config> out;
    std::set<Config> in_batch;
    for (auto& c : batch)
      if (!times_.count(c) && in_batch.insert(c).second) out.push_back(std::move(c));
    return out;
  }

  const SearchSpace& space_;
  CoordinateDescentOptions options_;
  Phase phase_ = Phase::start;
  std::map<Config, std::optional<double>> times_;  // everything reported
  std::optional<std::pair<Config, double>> best_;
  std::optional<Config> pass_start_;
  std::size_t passes_ = 0;
};

}  // namespace

std::unique_ptr<Strategy> make_exhaustive(const SearchSpace& space) { return std::make_unique<Exhaustive>(space); }
std::unique_ptr<Strategy> make_random(const SearchSpace& space, std::size_t count, std::uint64_t seed) {
  return std::make_unique<RandomSample>(space, count, seed);
}
std::unique_ptr<Strategy> make_coordinate_descent(const SearchSpace& space, CoordinateDescentOptions options) {
  return std::make_unique<CoordinateDescent>(space, std::move(options));
}


}  // namespace ktune
