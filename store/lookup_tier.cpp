#include "store/lookup_tier.hpp"

#include <oneapi/tbb/concurrent_hash_map.h>

#include <functional>
#include <string_view>

namespace ktune::store {

namespace {
// Tuning keys are already uniformly distributed hashes; std::hash of the text is plenty.
struct KeyHashCompare {
  static std::size_t hash(const std::string& key) { return std::hash<std::string_view>{}(key); }
  static bool equal(const std::string& a, const std::string& b) { return a == b; }
};
struct Cached {
  std::uint64_t generation = 0;
  LookupAnswer answer;
};
}  // namespace

struct LookupTier::Map {
  tbb::concurrent_hash_map<std::string, Cached, KeyHashCompare> entries;
};

LookupTier::LookupTier() : map_(std::make_unique<Map>()) {}
LookupTier::~LookupTier() = default;

std::optional<LookupAnswer> LookupTier::find(const std::string& tuning_key) const {
  decltype(map_->entries)::const_accessor accessor;
  if (!map_->entries.find(accessor, tuning_key)) return std::nullopt;
  if (accessor->second.generation != generation_.load(std::memory_order_acquire)) return std::nullopt;
  return accessor->second.answer;
}

void LookupTier::insert(const std::string& tuning_key, LookupAnswer answer) {
  decltype(map_->entries)::accessor accessor;
  map_->entries.insert(accessor, tuning_key);
  accessor->second.generation = generation_.load(std::memory_order_acquire);
  accessor->second.answer = std::move(answer);
}

void LookupTier::invalidate() noexcept { generation_.fetch_add(1, std::memory_order_acq_rel); }

std::size_t LookupTier::size() const { return map_->entries.size(); }

}  // namespace ktune::store
