#pragma once
// How a spec buckets a size ("buckets" in the spec, docs/spec.md): every size in a bucket is
// tuned and looked up as the bucket's representative — its upper edge — so one tuning serves the
// whole bucket. A size outside every bucket stays as it is (exact key; the nearest-size fallback
// still applies to it).
//
//   "pow2"            buckets (2^(k-1), 2^k]: 1000 -> 1024, 1024 -> 1024, 1 -> 1; 0 is outside
//   [1, 64, 512]      buckets [1, 1], (1, 64], (64, 512]: 40 -> 64, 64 -> 64, 65 -> 512;
//                     sizes below the first edge or above the last are outside
//
// Bucketing maps sizes before keys are computed, so keys stay what they were: the tuning key of
// a bucket is the tuning key of its representative size (docs/keys.md).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ktune {

struct SizeBuckets {
  std::string size;                 // the size name, e.g. "M"
  bool powers_of_two = false;       // "pow2"
  std::vector<std::int64_t> edges;  // explicit upper edges, strictly increasing, >= 0

  // The representative of `value`'s bucket; nothing when `value` is outside every bucket.
  std::optional<std::int64_t> representative(std::int64_t value) const;
  // "pow2" or "[1, 64, 512]", as written in a spec.
  std::string describe() const;
  friend bool operator==(const SizeBuckets&, const SizeBuckets&) = default;
};

}  // namespace ktune
