#pragma once
// The valid configurations of a ParamSpace: the Cartesian product of the parameter values,
// filtered by the constraints. Enumeration runs in parallel (oneTBB) and keeps only the indices
// of valid configurations, so a 10^7-configuration product costs memory for what survives only.
//
// A configuration's "product index" is its position in the product with the first parameter most
// significant (the order of nested loops written in spec order).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/common/named_values.hpp"
#include "engine/common/result.hpp"
#include "tuner/param_space.hpp"

namespace ktune {

class SearchSpace {
 public:
  struct Options {
    // Products above this are refused rather than enumerated (minutes of CPU, GBs of indices).
    std::uint64_t max_product = 1'000'000'000;
  };

  // With `sizes` holding every size name, constraints over sizes are applied too; otherwise they
  // are skipped and sizes_applied() is false (useful for `ktune space` without --size).
  static Result<SearchSpace> build(const ParamSpace& space, const Sizes* sizes = nullptr);
  static Result<SearchSpace> build(const ParamSpace& space, const Sizes* sizes, Options options);
  // A SearchSpace refers to its ParamSpace (params()), so it must not be built from a temporary.
  static Result<SearchSpace> build(ParamSpace&& space, const Sizes* sizes = nullptr) = delete;
  static Result<SearchSpace> build(ParamSpace&& space, const Sizes* sizes, Options options) = delete;

  const ParamSpace& params() const noexcept { return *space_; }
  std::uint64_t product() const noexcept { return product_; }
  std::uint64_t valid_count() const noexcept { return valid_.size(); }
  bool sizes_applied() const noexcept { return sizes_applied_; }

  // How many configurations each constraint rejected first (in constraint order); a config that
  // fails several is counted against the first one it fails. Skipped constraints count 0.
  const std::vector<std::uint64_t>& first_rejections() const noexcept { return first_rejections_; }
  // Configurations rejected because a constraint could not be evaluated (e.g. division by zero).
  std::uint64_t evaluation_failures() const noexcept { return evaluation_failures_; }

  Config config_at(std::uint64_t valid_index) const;  // 0 <= valid_index < valid_count()
  Config decode(std::uint64_t product_index) const;
  // nullopt when the config names other parameters or a value not in the parameter's list.
  std::optional<std::uint64_t> product_index_of(const Config& config) const;
  bool is_valid(const Config& config) const;
  // Why a config is not valid ("BM % TM == 0 is false", "BM=48 is not one of 32, 64, 128"), or
  // nullopt when it is valid.
  std::optional<std::string> why_invalid(const Config& config) const;

  // n distinct valid configurations chosen uniformly at random (all of them when n >= count),
  // deterministic for a given seed.
  std::vector<Config> sample(std::size_t n, std::uint64_t seed) const;

  // Per parameter, the nearest valid configuration below and above along that parameter's list
  // (for power-of-two lists: /2 and x2), skipping invalid values in between. Never includes
  // `config` itself; empty for a parameter with one value.
  std::vector<Config> neighbours(const Config& config) const;

 private:
  SearchSpace() = default;
  bool digits_valid(const std::vector<std::size_t>& digits) const;
  Config from_digits(const std::vector<std::size_t>& digits) const;
  std::vector<std::size_t> digits_of(std::uint64_t product_index) const;

  const ParamSpace* space_ = nullptr;
  std::vector<std::int64_t> size_values_;  // slot values of the sizes, when applied
  std::vector<int> active_constraints_;    // indices into space_->constraints
  bool sizes_applied_ = false;
  std::uint64_t product_ = 0;
  std::vector<std::uint64_t> valid_;  // product indices, ascending
  std::vector<std::uint64_t> first_rejections_;
  std::uint64_t evaluation_failures_ = 0;
};

}  // namespace ktune
