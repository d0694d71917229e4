#include "tuner/best_first_search.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace ktune {

namespace {

class BestFirstSearch final : public Strategy {
 public:
  BestFirstSearch(const SearchSpace& space, BestFirstOptions options) : space_(space), options_(std::move(options)), rng_(options_.seed) {
    const std::uint64_t valid = space_.valid_count();
    budget_ = options_.budget ? options_.budget : std::max<std::uint64_t>(400, valid / 50);
    budget_ = std::min<std::uint64_t>(budget_, valid);
    width_ = std::max<std::size_t>(1, options_.width);
    first_ = options_.first_batch ? options_.first_batch : std::clamp<std::size_t>(budget_ / 10, width_, 4 * width_);
  }

  std::string name() const override { return "bestfirst"; }

  std::vector<Config> next_batch() override {
    const std::size_t done = times_.size();
    if (done >= budget_ || proposed_.size() >= space_.valid_count()) return {};
    if (started_ && stagnant()) return {};
    const std::size_t room = budget_ - std::min(budget_, proposed_.size());
    std::vector<Config> batch;
    auto add = [&](Config c) {
      if (batch.size() < room && proposed_.insert(c).second) batch.push_back(std::move(c));
    };
    if (!started_) {
      started_ = true;
      if (space_.is_valid(options_.start)) add(options_.start);
      add_samples(first_, add, batch);
      return batch;
    }
    const std::size_t target = std::min(width_, room);
    const auto n_explore = static_cast<std::size_t>(options_.explore * static_cast<double>(target) + 0.5);
    const auto n_kick = static_cast<std::size_t>(options_.kick * static_cast<double>(target) + 0.5);
    // Exploit first: the neighbourhoods of the fastest centres not expanded yet.
    while (batch.size() + n_explore + n_kick < target && !frontier_.empty()) {
      auto it = frontier_.begin();
      const Config centre = it->second;
      frontier_.erase(it);
      for (auto& n : neighbourhood(centre)) add(std::move(n));
    }
    for (int tries = 0; batch.size() + n_explore < target && tries < 8 * static_cast<int>(target); ++tries)
      if (auto k = kick()) add(std::move(*k));
    add_samples(target - std::min(target, batch.size()), add, batch);
    // Everything reachable is proposed and the space still has unseen points: sample them.
    if (batch.empty()) add_samples(target, add, batch);
    return batch;
  }

  void report(const Config& config, std::optional<double> time_ns) override {
    times_[config] = time_ns;
    proposed_.insert(config);
    if (!time_ns) return;
    frontier_.emplace(*time_ns, config);
    ranked_.emplace(*time_ns, config);
    if (ranked_.size() > kElite) ranked_.erase(std::prev(ranked_.end()));
    if (!best_ns_ || *time_ns < *best_ns_ * (1.0 - options_.min_improvement)) {
      best_ns_ = time_ns;
      improved_at_ = times_.size();
    }
  }

 private:
  static constexpr std::size_t kElite = 5;  // kicks start from one of the best five

  // Without a caller's budget: half the default budget without a real improvement, and more of the
  // same is unlikely to pay. A caller's budget is what they chose to spend, so it is spent.
  bool stagnant() const {
    return options_.budget == 0 && best_ns_ && times_.size() - improved_at_ >= std::max<std::size_t>(budget_ / 4, 2 * width_);
  }

  template <class Add>
  void add_samples(std::size_t n, Add& add, std::vector<Config>& batch) {
    if (n == 0) return;
    const std::size_t want = batch.size() + n;
    // Distinct uniform samples; ones already proposed are skipped (a few draws more cover them).
    for (int round = 0; round < 4 && batch.size() < want; ++round)
      for (auto& c : space_.sample(std::min<std::uint64_t>(2 * n + proposed_.size() / 8 + 4, space_.valid_count()), rng_()))
        if (batch.size() < want) add(std::move(c));
  }

  // The adjacent valid value of every parameter (SearchSpace::neighbours) and, for lists whose
  // steps are smaller than the value, the listed values nearest to x2 and /2: block sizes listed as
  // 16, 32, 48, ... 256 act multiplicatively, and one step of 16 from 128 is a small move.
  std::vector<Config> neighbourhood(const Config& centre) const {
    std::vector<Config> out = space_.neighbours(centre);
    const auto& params = space_.params().params;
    for (std::size_t p = 0; p < params.size(); ++p) {
      const auto& values = params[p].values;
      const std::int64_t v = centre[p].second;
      for (std::int64_t target : {v * 2, v / 2}) {
        if (v <= 0 || target == v) continue;
        auto it = std::lower_bound(values.begin(), values.end(), target);
        std::int64_t pick = it == values.end() ? values.back() : *it;
        if (it != values.end() && it != values.begin() && target - *std::prev(it) < *it - target) pick = *std::prev(it);
        if (pick == v) continue;
        Config c = centre;
        c[p].second = pick;
        if (space_.is_valid(c)) out.push_back(std::move(c));
      }
    }
    return out;
  }

  // One of the best few with 2-3 parameters set to other listed values; nullopt when invalid.
  std::optional<Config> kick() {
    if (ranked_.empty()) return std::nullopt;
    auto it = ranked_.begin();
    std::advance(it, std::uniform_int_distribution<std::size_t>(0, ranked_.size() - 1)(rng_));
    Config c = it->second;
    const auto& params = space_.params().params;
    const int changes = std::uniform_int_distribution<int>(2, 3)(rng_);
    for (int k = 0; k < changes; ++k) {
      const std::size_t p = std::uniform_int_distribution<std::size_t>(0, params.size() - 1)(rng_);
      const auto& values = params[p].values;
      if (values.size() < 2) continue;
      c[p].second = values[std::uniform_int_distribution<std::size_t>(0, values.size() - 1)(rng_)];
    }
    if (c == it->second || !space_.is_valid(c) || proposed_.count(c)) return std::nullopt;
    return c;
  }

  const SearchSpace& space_;
  BestFirstOptions options_;
  std::mt19937_64 rng_;
  std::size_t budget_ = 0, width_ = 0, first_ = 0;
  bool started_ = false;
  std::map<Config, std::optional<double>> times_;      // everything reported
  std::set<Config> proposed_;                          // everything proposed or reported
  std::multimap<double, Config> frontier_;             // ok configurations not expanded yet, fastest first
  std::multimap<double, Config> ranked_;               // the best kElite
  std::optional<double> best_ns_;
  std::size_t improved_at_ = 0;
};

}  // namespace

std::unique_ptr<Strategy> make_best_first(const SearchSpace& space, BestFirstOptions options) {
  return std::make_unique<BestFirstSearch>(space, std::move(options));
}

}  // namespace ktune
