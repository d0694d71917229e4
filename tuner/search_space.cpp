#include "tuner/search_space.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <mutex>
#include <random>
#include <unordered_set>

namespace ktune {

namespace {

struct ChunkResult {
  std::uint64_t begin = 0;
  std::vector<std::uint64_t> valid;
};

}  // namespace

Result<SearchSpace> SearchSpace::build(const ParamSpace& space, const Sizes* sizes) {
  return build(space, sizes, Options{});
}

Result<SearchSpace> SearchSpace::build(const ParamSpace& space, const Sizes* sizes, Options options) {
  SearchSpace out;
  out.space_ = &space;
  out.product_ = space.product();
  for (const auto& p : space.params)
    if (p.values.empty())
      return make_error(Errc::invalid_spec, "parameter " + p.name + " has no values");
  if (out.product_ > options.max_product)
    return make_error(Errc::unsupported, "the space has " + std::to_string(out.product_) +
                                             " configurations, more than the enumeration limit of " +
                                             std::to_string(options.max_product));

  out.sizes_applied_ = sizes != nullptr;
  if (sizes) {
    for (const auto& name : space.size_names) {
      auto value = find_value(*sizes, name);
      if (!value) return make_error(Errc::invalid_argument, "missing size " + name);
      out.size_values_.push_back(*value);
    }
    for (const auto& [name, value] : *sizes)
      if (std::find(space.size_names.begin(), space.size_names.end(), name) == space.size_names.end())
        return make_error(Errc::invalid_argument, "unknown size " + name + " (the spec's sizes are: " +
                                                      [&] {
                                                        std::string s;
                                                        for (const auto& n : space.size_names) s += (s.empty() ? "" : ", ") + n;
                                                        return s.empty() ? std::string("none") : s;
                                                      }() + ")");
  }
  for (std::size_t i = 0; i < space.constraints.size(); ++i)
    if (out.sizes_applied_ || !space.constraints[i].uses_sizes) out.active_constraints_.push_back(static_cast<int>(i));

  const std::size_t n_params = space.params.size();
  const std::size_t n_constraints = space.constraints.size();
  std::mutex merge_mutex;
  std::vector<ChunkResult> chunks;
  std::vector<std::uint64_t> rejections(n_constraints, 0);
  std::uint64_t failures = 0;

  tbb::parallel_for(
      tbb::blocked_range<std::uint64_t>(0, out.product_, 1 << 14), [&](const tbb::blocked_range<std::uint64_t>& range) {
        ChunkResult chunk{range.begin(), {}};
        std::vector<std::uint64_t> local_rejections(n_constraints, 0);
        std::uint64_t local_failures = 0;
        std::vector<std::size_t> digits = out.digits_of(range.begin());
        std::vector<std::int64_t> slots(static_cast<std::size_t>(space.slot_count()), 0);
        for (std::size_t s = 0; s < out.size_values_.size(); ++s) slots[n_params + s] = out.size_values_[s];
        for (std::size_t p = 0; p < n_params; ++p) slots[p] = space.params[p].values[digits[p]];

        for (std::uint64_t index = range.begin(); index != range.end(); ++index) {
          bool valid = true;
          for (int c : out.active_constraints_) {
            EvalResult r = space.constraints[static_cast<std::size_t>(c)].expr.evaluate(slots);
            if (!r.ok() || r.value == 0) {
              ++local_rejections[static_cast<std::size_t>(c)];
              if (!r.ok()) ++local_failures;
              valid = false;
              break;
            }
          }
          if (valid) chunk.valid.push_back(index);
          // Odometer step: the last parameter varies fastest.
          for (std::size_t p = n_params; p-- > 0;) {
            if (++digits[p] < space.params[p].values.size()) {
              slots[p] = space.params[p].values[digits[p]];
              break;
            }
            digits[p] = 0;
            slots[p] = space.params[p].values[0];
          }
        }
        std::lock_guard lock(merge_mutex);
        for (std::size_t c = 0; c < n_constraints; ++c) rejections[c] += local_rejections[c];
        failures += local_failures;
        if (!chunk.valid.empty()) chunks.push_back(std::move(chunk));
      });

  std::sort(chunks.begin(), chunks.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
  std::size_t total = 0;
  for (const auto& c : chunks) total += c.valid.size();
  out.valid_.reserve(total);
  for (const auto& c : chunks) out.valid_.insert(out.valid_.end(), c.valid.begin(), c.valid.end());
  out.first_rejections_ = std::move(rejections);
  out.evaluation_failures_ = failures;

  if (out.valid_.empty()) {
    std::string why;
    for (std::size_t c = 0; c < n_constraints; ++c) {
      if (out.first_rejections_[c] == 0) continue;
      const bool alone = out.first_rejections_[c] == out.product_;
      if (alone)
        return make_error(Errc::invalid_spec, "constraint \"" + space.constraints[c].expr.text() +
                                                  "\" is not satisfied by any configuration (" +
                                                  std::to_string(out.product_) + " tried)" +
                                                  (out.sizes_applied_ ? " at these sizes" : ""));
      why += (why.empty() ? "" : ", ") + ("\"" + space.constraints[c].expr.text() + "\" rejects " +
                                          std::to_string(out.first_rejections_[c]));
    }
    return make_error(Errc::invalid_spec, "no configuration satisfies all constraints together" +
                                              std::string(out.sizes_applied_ ? " at these sizes" : "") + ": " + why);
  }
  return out;
}

std::vector<std::size_t> SearchSpace::digits_of(std::uint64_t product_index) const {
  const auto& params = space_->params;
  std::vector<std::size_t> digits(params.size(), 0);
  for (std::size_t p = params.size(); p-- > 0;) {
    const std::uint64_t radix = params[p].values.size();
    digits[p] = static_cast<std::size_t>(product_index % radix);
    product_index /= radix;
  }
  return digits;
}

Config SearchSpace::from_digits(const std::vector<std::size_t>& digits) const {
  Config config;
  config.reserve(digits.size());
  for (std::size_t p = 0; p < digits.size(); ++p)
    config.emplace_back(space_->params[p].name, space_->params[p].values[digits[p]]);
  return config;
}

bool SearchSpace::digits_valid(const std::vector<std::size_t>& digits) const {
  std::vector<std::int64_t> slots(static_cast<std::size_t>(space_->slot_count()), 0);
  for (std::size_t p = 0; p < digits.size(); ++p) slots[p] = space_->params[p].values[digits[p]];
  for (std::size_t s = 0; s < size_values_.size(); ++s) slots[digits.size() + s] = size_values_[s];
  for (int c : active_constraints_) {
    EvalResult r = space_->constraints[static_cast<std::size_t>(c)].expr.evaluate(slots);
    if (!r.ok() || r.value == 0) return false;
  }
  return true;
}

Config SearchSpace::decode(std::uint64_t product_index) const { return from_digits(digits_of(product_index)); }

Config SearchSpace::config_at(std::uint64_t valid_index) const {
  if (valid_index >= valid_.size()) throw std::out_of_range("SearchSpace::config_at: index past the valid count");
  return decode(valid_[valid_index]);
}

std::optional<std::uint64_t> SearchSpace::product_index_of(const Config& config) const {
  const auto& params = space_->params;
  if (config.size() != params.size()) return std::nullopt;
  std::uint64_t index = 0;
  for (std::size_t p = 0; p < params.size(); ++p) {
    auto value = find_value(config, params[p].name);
    if (!value) return std::nullopt;
    auto it = std::lower_bound(params[p].values.begin(), params[p].values.end(), *value);
    if (it == params[p].values.end() || *it != *value) return std::nullopt;
    index = index * params[p].values.size() + static_cast<std::uint64_t>(it - params[p].values.begin());
  }
  return index;
}

bool SearchSpace::is_valid(const Config& config) const {
  auto index = product_index_of(config);
  return index && std::binary_search(valid_.begin(), valid_.end(), *index);
}

std::optional<std::string> SearchSpace::why_invalid(const Config& config) const {
  const auto& params = space_->params;
  for (const auto& [name, value] : config)
    if (space_->param_index(name) < 0) return name + " is not a parameter of this kernel";
  std::vector<std::int64_t> slots(static_cast<std::size_t>(space_->slot_count()), 0);
  for (std::size_t p = 0; p < params.size(); ++p) {
    auto value = find_value(config, params[p].name);
    if (!value) return "no value for " + params[p].name;
    if (!std::binary_search(params[p].values.begin(), params[p].values.end(), *value))
      return params[p].name + "=" + std::to_string(*value) + " is not one of " + join_values(params[p].values);
    slots[p] = *value;
  }
  for (std::size_t s = 0; s < size_values_.size(); ++s) slots[params.size() + s] = size_values_[s];
  for (int c : active_constraints_) {
    const Expr& expr = space_->constraints[static_cast<std::size_t>(c)].expr;
    EvalResult r = expr.evaluate(slots);
    if (!r.ok()) return "constraint \"" + expr.text() + "\" cannot be evaluated: " + eval_error_text(r.error);
    if (r.value == 0) return "constraint \"" + expr.text() + "\" is false";
  }
  return std::nullopt;
}

std::vector<Config> SearchSpace::sample(std::size_t n, std::uint64_t seed) const {
  std::vector<Config> out;
  const std::uint64_t count = valid_.size();
  if (n >= count) {
    out.reserve(valid_.size());
    for (std::uint64_t index : valid_) out.push_back(decode(index));
    return out;
  }
  // Floyd's algorithm: n distinct indices with O(n) memory, however large the space.
  std::mt19937_64 rng(seed);
  std::unordered_set<std::uint64_t> chosen;
  std::vector<std::uint64_t> order;
  for (std::uint64_t j = count - n; j < count; ++j) {
    std::uniform_int_distribution<std::uint64_t> pick(0, j);
    std::uint64_t t = pick(rng);
    std::uint64_t take = chosen.insert(t).second ? t : j;
    if (take == j) chosen.insert(j);
    order.push_back(take);
  }
  out.reserve(n);
  for (std::uint64_t k : order) out.push_back(decode(valid_[k]));
  return out;
}

std::vector<Config> SearchSpace::neighbours(const Config& config) const {
  std::vector<Config> out;
  auto index = product_index_of(config);
  if (!index) return out;
  const std::vector<std::size_t> origin = digits_of(*index);
  for (std::size_t p = 0; p < origin.size(); ++p) {
    const std::size_t radix = space_->params[p].values.size();
    for (int direction : {-1, +1}) {
      std::vector<std::size_t> digits = origin;
      for (;;) {
        if (direction < 0 ? digits[p] == 0 : digits[p] + 1 >= radix) break;
        digits[p] = direction < 0 ? digits[p] - 1 : digits[p] + 1;
        if (digits_valid(digits)) {
          out.push_back(from_digits(digits));
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace ktune
