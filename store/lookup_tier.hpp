#pragma once
// The in-memory tier in front of SQLite: tuning key -> the answer the fallback chain gave for it.
// A oneTBB concurrent_hash_map, so any number of threads look up at once without a global lock
// (a reader takes only its bucket's read lock).
//
// Answers of every rule are cached, `none` included, so a miss is also answered from memory. The
// Store clears the tier whenever the database may have changed under it (its own writes, and
// writes by other connections, noticed through PRAGMA data_version), so a cached answer is never
// one the database would no longer give, beyond the Store's documented staleness window.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "store/lookup.hpp"

namespace ktune::store {

class LookupTier {
 public:
  LookupTier();
  ~LookupTier();
  LookupTier(const LookupTier&) = delete;
  LookupTier& operator=(const LookupTier&) = delete;

  std::optional<LookupAnswer> find(const std::string& tuning_key) const;
  void insert(const std::string& tuning_key, LookupAnswer answer);
  // Invalidates every cached answer. Safe while other threads call find/insert (unlike
  // concurrent_hash_map::clear): entries carry the generation they were cached in, and entries of
  // an older generation read as absent until overwritten.
  void invalidate() noexcept;
  // Entries held, stale ones included (for tests and the benchmark).
  std::size_t size() const;

 private:
  struct Map;
  std::unique_ptr<Map> map_;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace ktune::store
