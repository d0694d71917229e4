#include "workers/cubin_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "workers/process/frame_io.hpp"
#include "workers/process/unique_fd.hpp"
#include "workers/compile_protocol.hpp"

namespace ktune::workers {
namespace fs = std::filesystem;
using process::IoOutcome;
using process::UniqueFd;
using process::write_all;
namespace {

constexpr const char* kTempPrefix = ".tmp-";
// A temporary file older than this belongs to a writer that died.
constexpr auto kStaleTemp = std::chrono::hours(1);

Result<std::string> read_file(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return make_error(errno == ENOENT ? Errc::not_found : Errc::io, path.string() + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return make_error(Errc::io, "fstat " + path.string());
  if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > kMaxPayload + kFrameHeaderSize)
    return make_error(Errc::corrupt, path.string() + ": implausible size");
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t r = ::read(fd.get(), bytes.data() + got, bytes.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return make_error(Errc::io, "read " + path.string());
    got += static_cast<std::size_t>(r);
  }
  return bytes;
}

std::string temp_name() {
  static std::atomic<std::uint64_t> counter{0};
  return std::string(kTempPrefix) + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

// Every entry ends with xxh3-128 of everything before it (16 bytes, high then low, big-endian),
// so a flipped bit anywhere — in the CUBIN too, which decoding alone cannot judge — is a miss.
constexpr std::size_t kChecksumBytes = 16;

std::string checksum_of(std::string_view bytes) {
  const ktune::Hash128 h = ktune::xxh3_128(bytes);
  std::string out(kChecksumBytes, '\0');
  for (int i = 0; i < 8; ++i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(h.high >> (56 - 8 * i));
    out[static_cast<std::size_t>(8 + i)] = static_cast<char>(h.low >> (56 - 8 * i));
  }
  return out;
}

// The frame of an entry whose checksum matches; nothing for a damaged one.
std::optional<std::string_view> verified_frame(std::string_view bytes) {
  if (bytes.size() < kChecksumBytes) return std::nullopt;
  const std::string_view frame = bytes.substr(0, bytes.size() - kChecksumBytes);
  if (checksum_of(frame) != bytes.substr(frame.size())) return std::nullopt;
  return frame;
}

struct EntryFile {
  fs::path path;
  std::uint64_t bytes = 0;
  fs::file_time_type mtime;
};

}  // namespace

Result<std::unique_ptr<CubinCache>> CubinCache::open(Options options) {
  if (options.dir.empty()) return make_error(Errc::invalid_argument, "cubin cache: no folder given");
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec || !fs::is_directory(options.dir))
    return make_error(Errc::io, "cubin cache: cannot create " + options.dir.string() + ": " + ec.message());
  std::unique_ptr<CubinCache> cache(new CubinCache(std::move(options)));
  cache->approximate_bytes_ = cache->size_bytes();
  return cache;
}

fs::path CubinCache::entry_path(const Hash128& key) const {
  const std::string hex = key.hex();
  return options_.dir / hex.substr(0, 2) / (hex + ".cubin");
}

std::optional<CompileResult> CubinCache::get(const Hash128& key) {
  const fs::path path = entry_path(key);
  auto bytes = read_file(path);
  if (!bytes) return std::nullopt;
  const auto frame = verified_frame(*bytes);
  auto payload = frame ? decode_frame(*frame, MessageType::cache_entry)
                       : Result<std::string_view>(make_error(Errc::corrupt, "checksum mismatch"));
  auto entry = payload ? decode_cache_entry(*payload) : Result<CacheEntry>(payload.error());
  if (!entry || entry->key_hex != key.hex() || !CubinCache::cacheable(entry->result.status) ||
      (entry->result.ok() && entry->result.cubin.empty())) {
    // A damaged entry must not be served again; the next put rewrites it.
    std::error_code ec;
    fs::remove(path, ec);
    return std::nullopt;
  }
  // LRU: touch the entry so eviction keeps what is being used. Failure only weakens LRU.
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
  CompileResult result = std::move(entry->result);
  result.from_cache = true;
  result.attempts = 0;
  return result;
}

bool CubinCache::cacheable(CompileStatus status) noexcept {
  return status == CompileStatus::ok || status == CompileStatus::compile_error;
}

Status CubinCache::put(const Hash128& key, const CompileResult& result) {
  if (!cacheable(result.status)) return Ok{};
  const fs::path final_path = entry_path(key);
  std::error_code ec;
  fs::create_directories(final_path.parent_path(), ec);
  if (ec) return make_error(Errc::io, "cubin cache: " + ec.message());

  CacheEntry entry{key.hex(), result};
  entry.result.from_cache = false;
  std::string frame = encode_frame(MessageType::cache_entry, encode_cache_entry(entry));
  frame += checksum_of(frame);

  const fs::path temp = final_path.parent_path() / temp_name();
  {
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd) return make_error(Errc::io, "cubin cache: cannot create " + temp.string() + ": " + std::strerror(errno));
    if (write_all(fd.get(), frame).outcome != IoOutcome::done) {
      fs::remove(temp, ec);
      return make_error(Errc::io, "cubin cache: cannot write " + temp.string());
    }
  }
  // rename() is atomic: a concurrent reader sees the old entry, the new one, or none — never half.
  // Two writers of one key write identical bytes, so either may win.
  if (::rename(temp.c_str(), final_path.c_str()) != 0) {
    const int err = errno;
    fs::remove(temp, ec);
    return make_error(Errc::io, "cubin cache: rename: " + std::string(std::strerror(err)));
  }

  bool over = false;
  {
    std::lock_guard lock(mutex_);
    approximate_bytes_ += frame.size();
    over = approximate_bytes_ > options_.max_bytes;
  }
  if (over) evict_to(options_.max_bytes / 10 * 9);
  return Ok{};
}

std::uint64_t CubinCache::evict_to(std::uint64_t target_bytes) {
  // One evictor per process at a time; across processes a double removal is harmless.
  std::lock_guard lock(mutex_);
  std::vector<EntryFile> entries;
  std::uint64_t total = 0;
  const auto now = fs::file_time_type::clock::now();
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(options_.dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const fs::path& p = it->path();
    const auto mtime = it->last_write_time(ec);
    if (ec) continue;
    if (p.filename().string().starts_with(kTempPrefix)) {
      if (now - mtime > kStaleTemp) fs::remove(p, ec);
      continue;
    }
    if (p.extension() != ".cubin") continue;
    const auto bytes = it->file_size(ec);
    if (ec) continue;
    entries.push_back({p, bytes, mtime});
    total += bytes;
  }
  std::sort(entries.begin(), entries.end(), [](const EntryFile& a, const EntryFile& b) { return a.mtime < b.mtime; });
  for (const auto& e : entries) {
    if (total <= target_bytes) break;
    if (fs::remove(e.path, ec) || ec.value() == ENOENT) total -= std::min(total, e.bytes);
  }
  approximate_bytes_ = total;
  return total;
}

std::uint64_t CubinCache::size_bytes() const {
  std::uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(options_.dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".cubin") total += it->file_size(ec);
  }
  return total;
}

}  // namespace ktune::workers
