#pragma once
// The on-disk cubin cache: content-addressed by the cubin key (nvrtc_compiler.hpp), one file per
// entry at DIR/<first 2 hex digits>/<32 hex digits>.cubin holding a wire cache_entry frame (the
// CUBIN, its lowered names and the compile log — or a compile error and its log) followed by xxh3-128 of that frame, so a hit needs
// no worker at all and a damaged entry (a flipped bit anywhere) is never served.
//
// Safe for many threads and many processes sharing DIR: an entry is written to a unique temporary
// file and renamed into place (readers see a whole entry or none); a corrupt or truncated entry
// reads as a miss and is removed (then recompiled and rewritten). Size-capped: when the entries exceed max_bytes, the least
// recently used (by mtime, refreshed on every hit) are removed down to 90 % of the cap.
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>

#include "engine/common/hash.hpp"
#include "engine/common/result.hpp"
#include "workers/compile_job.hpp"

namespace ktune::workers {

class CubinCache {
 public:
  struct Options {
    std::filesystem::path dir;  // the CLI passes default_cache_dir() / "cubins"
    std::uint64_t max_bytes = 4ULL << 30;
  };

  // Creates the folder when missing.
  static Result<std::unique_ptr<CubinCache>> open(Options options);

  // A hit returns the stored result (from_cache set) and refreshes its LRU time: a CUBIN, or a
  // compile error with NVRTC's log.
  std::optional<CompileResult> get(const Hash128& key);
  // Stores an ok result or a compile error: the key holds everything NVRTC saw (its version, the
  // source, the options), so the same job fails the same way, and a configuration that does not
  // compile is not compiled again on every run (a big kernel's error can take seconds). Timeouts,
  // crashes, out of memory and internal failures are not cached: they may not repeat. Evicts when
  // over the cap.
  Status put(const Hash128& key, const CompileResult& result);
  static bool cacheable(CompileStatus status) noexcept;

  // Scans the folder and removes least recently used entries until at most `target_bytes` remain;
  // also removes temporary files left by killed writers. Returns the bytes left.
  std::uint64_t evict_to(std::uint64_t target_bytes);
  std::uint64_t size_bytes() const;  // scans the folder
  const std::filesystem::path& dir() const noexcept { return options_.dir; }
  std::filesystem::path entry_path(const Hash128& key) const;

 private:
  explicit CubinCache(Options options) : options_(std::move(options)) {}
  Options options_;
  std::mutex mutex_;
  // Bytes this process believes are stored; a scan resets it (other processes write too).
  std::uint64_t approximate_bytes_ = 0;
};

}  // namespace ktune::workers
