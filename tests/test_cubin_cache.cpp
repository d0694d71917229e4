// The on-disk cubin cache: round trip, corruption, LRU eviction under a size cap, and many writers
// (threads and processes) on one folder.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "workers/process/child_process.hpp"
#include "workers/cubin_cache.hpp"
#include "workers/nvrtc_compiler.hpp"

using namespace ktune::workers;
using namespace ktune::process;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("ktune-test-cubins-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

CompileResult ok_result(std::size_t cubin_bytes, char fill) {
  CompileResult r;
  r.status = CompileStatus::ok;
  r.cubin = std::string("\x7f" "ELF") + std::string(cubin_bytes, fill);
  r.lowered_names = {"_Z1kv"};
  r.log = "";
  r.compile_seconds = 0.1;
  return r;
}

ktune::Hash128 key_of(int i) { return ktune::xxh3_128("entry " + std::to_string(i)); }

// Writer role for the multi-process test: this same test binary, re-executed.
constexpr const char* kWriterDirEnv = "KTUNE_TEST_CUBIN_WRITER_DIR";

}  // namespace

TEST(CubinCache, StoresAndReturnsAnEntry) {
  TempDir dir;
  auto cache = CubinCache::open({dir.path, 1 << 20});
  ASSERT_TRUE(cache.ok()) << cache.error().message;
  EXPECT_FALSE((*cache)->get(key_of(1)).has_value());
  ASSERT_TRUE((*cache)->put(key_of(1), ok_result(100, 'a')).ok());
  auto hit = (*cache)->get(key_of(1));
  ASSERT_TRUE(hit.has_value());
  EXPECT_TRUE(hit->from_cache);
  EXPECT_EQ(hit->cubin, ok_result(100, 'a').cubin);
  EXPECT_EQ(hit->lowered_names, std::vector<std::string>{"_Z1kv"});
  EXPECT_TRUE(fs::exists((*cache)->entry_path(key_of(1))));
  // No temporary files stay behind.
  for (auto& e : fs::recursive_directory_iterator(dir.path))
    if (e.is_regular_file()) {
      EXPECT_EQ(e.path().extension(), ".cubin") << e.path();
    }
}

TEST(CubinCache, CompileErrorsAreCachedWithTheirLog) {
  TempDir dir;
  auto cache = CubinCache::open({dir.path, 1 << 20});
  ASSERT_TRUE(cache.ok());
  CompileResult error;
  error.status = CompileStatus::compile_error;
  error.log = "x.cu(1): error: expected a \";\"";
  ASSERT_TRUE((*cache)->put(key_of(2), error).ok());
  auto hit = (*cache)->get(key_of(2));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->status, CompileStatus::compile_error);
  EXPECT_EQ(hit->log, error.log);
  EXPECT_TRUE(hit->from_cache);
  EXPECT_TRUE(hit->cubin.empty());
}

TEST(CubinCache, FailuresThatMayNotRepeatAreNotCached) {
  TempDir dir;
  auto cache = CubinCache::open({dir.path, 1 << 20});
  ASSERT_TRUE(cache.ok());
  for (auto status : {CompileStatus::timeout, CompileStatus::crash, CompileStatus::out_of_memory, CompileStatus::internal,
                      CompileStatus::cancelled}) {
    CompileResult failed;
    failed.status = status;
    failed.log = "worker died";
    ASSERT_TRUE((*cache)->put(key_of(3), failed).ok());
    EXPECT_FALSE((*cache)->get(key_of(3)).has_value()) << compile_status_name(status);
  }
}

TEST(CubinCache, CorruptOrMisplacedEntriesAreMissesAndRemoved) {
  TempDir dir;
  auto cache = CubinCache::open({dir.path, 1 << 20});
  ASSERT_TRUE(cache.ok());
  ASSERT_TRUE((*cache)->put(key_of(3), ok_result(64, 'c')).ok());
  const fs::path path = (*cache)->entry_path(key_of(3));
  fs::resize_file(path, fs::file_size(path) - 5);  // truncated by a crash, a full disk...
  EXPECT_FALSE((*cache)->get(key_of(3)).has_value());
  EXPECT_FALSE(fs::exists(path));

  // A valid entry copied under another key's name is not served for that key.
  ASSERT_TRUE((*cache)->put(key_of(4), ok_result(64, 'd')).ok());
  fs::create_directories((*cache)->entry_path(key_of(5)).parent_path());
  fs::copy_file((*cache)->entry_path(key_of(4)), (*cache)->entry_path(key_of(5)));
  EXPECT_FALSE((*cache)->get(key_of(5)).has_value());
  EXPECT_TRUE((*cache)->get(key_of(4)).has_value());
}

TEST(CubinCache, EvictsLeastRecentlyUsedBeyondTheCap) {
  TempDir dir;
  const std::uint64_t cap = 40'000;
  auto cache = CubinCache::open({dir.path, cap});
  ASSERT_TRUE(cache.ok());
  // Entries of ~4 KB; make key 0 the oldest-written but most recently used.
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE((*cache)->put(key_of(i), ok_result(4000, 'e')).ok());
    const auto t = fs::file_time_type::clock::now() - std::chrono::hours(100 - i);
    fs::last_write_time((*cache)->entry_path(key_of(i)), t);
  }
  ASSERT_TRUE((*cache)->get(key_of(0)).has_value());  // refreshes its time
  // 12 entries of ~4.1 KB exceed the cap: the oldest go until 90 % of the cap remains.
  for (int i = 8; i < 12; ++i) ASSERT_TRUE((*cache)->put(key_of(i), ok_result(4000, 'e')).ok());
  EXPECT_LE((*cache)->size_bytes(), cap);
  EXPECT_TRUE((*cache)->get(key_of(0)).has_value()) << "the recently used entry was evicted";
  EXPECT_FALSE((*cache)->get(key_of(1)).has_value()) << "the least recently used entry survived";
  EXPECT_FALSE((*cache)->get(key_of(2)).has_value());
  EXPECT_TRUE((*cache)->get(key_of(11)).has_value());
}

TEST(CubinCache, ConcurrentThreadWritersOfOneKeyAndManyKeys) {
  TempDir dir;
  auto cache = CubinCache::open({dir.path, 64 << 20});
  ASSERT_TRUE(cache.ok());
  const auto expected = ok_result(20000, 'f');
  std::vector<std::thread> threads;
  std::atomic<int> bad_reads{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        (void)(*cache)->put(key_of(1000), expected);            // everyone writes the same key
        (void)(*cache)->put(key_of(2000 + t * 100 + i), expected);
        auto hit = (*cache)->get(key_of(1000));
        if (hit && hit->cubin != expected.cubin) ++bad_reads;   // a torn entry would show here
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad_reads.load(), 0);
  auto hit = (*cache)->get(key_of(1000));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->cubin, expected.cubin);
  for (int t = 0; t < 8; ++t) EXPECT_TRUE((*cache)->get(key_of(2000 + t * 100 + 49)).has_value());
}

// Run by ConcurrentProcessWriters in child processes; does nothing in a normal test run.
TEST(CubinCache, WriterProcessRole) {
  const char* dir = std::getenv(kWriterDirEnv);
  if (dir == nullptr) GTEST_SKIP() << "only runs as a child of ConcurrentProcessWriters";
  auto cache = CubinCache::open({dir, 64 << 20});
  ASSERT_TRUE(cache.ok());
  const auto expected = ok_result(50000, 'g');
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE((*cache)->put(key_of(7), expected).ok());
    auto hit = (*cache)->get(key_of(7));
    if (hit) {
      ASSERT_EQ(hit->cubin, expected.cubin);
    }
    ASSERT_TRUE((*cache)->put(key_of(10000 + ::getpid() % 1000 * 100 + i), expected).ok());
  }
}

TEST(CubinCache, ConcurrentProcessWriters) {
  TempDir dir;
  fs::create_directories(dir.path);
  std::vector<ChildProcess> writers;
  for (int p = 0; p < 4; ++p) {
    auto child = ChildProcess::spawn({"/proc/self/exe",
                                      {"--gtest_filter=CubinCache.WriterProcessRole"},
                                      {{kWriterDirEnv, dir.path.string()}}});
    ASSERT_TRUE(child.ok()) << child.error().message;
    child->close_input();
    writers.push_back(std::move(*child));
  }
  for (auto& w : writers) {
    const ExitStatus status = w.wait();
    EXPECT_FALSE(status.signaled);
    EXPECT_EQ(status.code, 0) << "a writer process failed";
  }
  auto cache = CubinCache::open({dir.path, 64 << 20});
  ASSERT_TRUE(cache.ok());
  auto hit = (*cache)->get(key_of(7));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->cubin, ok_result(50000, 'g').cubin);
  int entries = 0;
  for (auto& e : fs::recursive_directory_iterator(dir.path)) {
    if (!e.is_regular_file()) continue;
    EXPECT_EQ(e.path().extension(), ".cubin") << "left behind: " << e.path();
    ++entries;
  }
  EXPECT_GE(entries, 4 * 100 + 1 - 4);  // pids may collide modulo 1000; nearly all distinct keys
}

// Issue 14: a flipped bit anywhere in an entry — header, CUBIN, names, log or checksum — is a miss,
// the entry is removed (so the next compile rewrites it), and the damaged bytes are never served.
TEST(CubinCache, AFlippedBitAnywhereIsAMissAndTheEntryIsRemoved) {
  TempDir dir;
  auto cache = CubinCache::open({dir.path, 1 << 20});
  ASSERT_TRUE(cache.ok());
  const auto key = key_of(7);
  const CompileResult original = ok_result(48, 'k');
  ASSERT_TRUE((*cache)->put(key, original).ok());
  const fs::path path = (*cache)->entry_path(key);
  std::string pristine;
  {
    std::ifstream in(path, std::ios::binary);
    pristine.assign(std::istreambuf_iterator<char>(in), {});
  }
  int cases = 0;
  for (std::size_t byte = 0; byte < pristine.size(); ++byte) {
    SCOPED_TRACE("byte " + std::to_string(byte));
    ++cases;
    std::string damaged = pristine;
    damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << (byte % 8)));
    std::ofstream(path, std::ios::binary | std::ios::trunc) << damaged;
    auto hit = (*cache)->get(key);
    EXPECT_FALSE(hit.has_value()) << "a damaged entry was served";
    EXPECT_FALSE(fs::exists(path));
    // The next compile stores it again, and it is served again.
    ASSERT_TRUE((*cache)->put(key, original).ok());
    auto again = (*cache)->get(key);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->cubin, original.cubin);
  }
  std::printf("[hostile cases] cubin cache bit flips: %d\n", cases);
}
