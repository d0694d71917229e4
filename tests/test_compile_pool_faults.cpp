// Injected worker faults (ktune-worker's test-only modes, enabled per pool through the worker
// environment): each is survived with the right class, the worker is replaced, and other jobs
// are unaffected.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/helpers/scale_job.hpp"
#include "workers/compile_pool.hpp"

using namespace ktune::workers;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using ktune::testing::scale_job;

CompilePoolOptions faulty(std::size_t workers) {
  CompilePoolOptions o;
  o.workers = workers;
  o.worker_path = KTUNE_WORKER;
  o.environment = {{"KTUNE_WORKER_TEST_FAULTS", "1"}};
  return o;
}

}  // namespace

TEST(CompilePoolFaults, ASegfaultIsRetriedOnceThenReportedAsCrash) {
  auto pool = CompilePool::create(faulty(2));
  ASSERT_TRUE(pool.ok());
  auto crashing = (*pool)->submit(scale_job(1, "KTUNE_TEST_FAULT_SEGFAULT"));
  std::vector<std::future<CompileResult>> others;
  for (int i = 2; i < 8; ++i) others.push_back((*pool)->submit(scale_job(i)));
  const CompileResult r = crashing.get();
  EXPECT_EQ(r.status, CompileStatus::crash);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_NE(r.log.find("signal 11"), std::string::npos) << r.log;
  for (auto& f : others) {
    const CompileResult o = f.get();
    EXPECT_EQ(o.status, CompileStatus::ok) << o.log;
    EXPECT_EQ(o.attempts, 1);
  }
  EXPECT_EQ((*pool)->stats().crashes, 2U);
  EXPECT_TRUE((*pool)->submit(scale_job(9)).get().ok());
}

TEST(CompilePoolFaults, ACrashThatDoesNotRepeatSucceedsOnTheRetry) {
  const fs::path flag = fs::temp_directory_path() / ("ktune-test-crash-once-" + std::to_string(::getpid()));
  fs::remove(flag);
  auto pool = CompilePool::create(faulty(1));
  ASSERT_TRUE(pool.ok());
  const CompileResult r = (*pool)->submit(scale_job(3, "KTUNE_TEST_FAULT_CRASH_ONCE=" + flag.string())).get();
  EXPECT_EQ(r.status, CompileStatus::ok) << r.log;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ((*pool)->stats().crashes, 1U);
  EXPECT_EQ((*pool)->stats().workers_started, 2U);
  fs::remove(flag);
}

TEST(CompilePoolFaults, AHangIsKilledAtTheTimeoutAndTheWorkerReplaced) {
  auto o = faulty(1);
  o.job_timeout = 1000ms;
  auto pool = CompilePool::create(o);
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE((*pool)->wait_ready(30s).ok());
  const int hung_pid = (*pool)->worker_pids().at(0);
  const auto start = std::chrono::steady_clock::now();
  const CompileResult r = (*pool)->submit(scale_job(1, "KTUNE_TEST_FAULT_HANG")).get();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, CompileStatus::timeout);
  EXPECT_EQ(r.attempts, 1);  // a hang is not retried: it would cost another full timeout
  EXPECT_GE(elapsed, 1000ms);
  EXPECT_LT(elapsed, 5000ms);
  EXPECT_FALSE(fs::exists("/proc/" + std::to_string(hung_pid))) << "the hung worker was not reaped";
  const CompileResult next = (*pool)->submit(scale_job(2)).get();
  EXPECT_EQ(next.status, CompileStatus::ok) << next.log;
  EXPECT_NE((*pool)->worker_pids().at(0), hung_pid);
  EXPECT_EQ((*pool)->stats().timeouts, 1U);
}

TEST(CompilePoolFaults, UnboundedAllocationHitsTheLimitAsOutOfMemory) {
  if (!worker_memory_limit_supported())
    GTEST_SKIP() << "sanitizer build: ASan/TSan reserve terabytes of shadow memory, which RLIMIT_DATA counts, "
                    "so workers run without a memory limit and an unbounded allocation has nothing to hit";
  auto o = faulty(1);
  o.memory_limit_bytes = 512ULL << 20;
  auto pool = CompilePool::create(o);
  ASSERT_TRUE(pool.ok());
  // A normal compile fits in the limit.
  const CompileResult fits = (*pool)->submit(scale_job(1)).get();
  ASSERT_TRUE(fits.ok()) << fits.log;
  const CompileResult r = (*pool)->submit(scale_job(2, "KTUNE_TEST_FAULT_ALLOC")).get();
  EXPECT_EQ(r.status, CompileStatus::out_of_memory) << r.log;
  EXPECT_EQ((*pool)->stats().out_of_memory, 1U);
  const CompileResult next = (*pool)->submit(scale_job(3)).get();
  EXPECT_TRUE(next.ok()) << next.log;
  EXPECT_EQ((*pool)->stats().workers_started, 2U);  // the exhausted worker was replaced
}

TEST(CompilePoolFaults, AWorkerKilledFromOutsideIsOutOfMemoryAndReplaced) {
  // What the kernel's OOM killer does: SIGKILL, no warning.
  auto o = faulty(1);
  o.job_timeout = 20s;
  auto pool = CompilePool::create(o);
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE((*pool)->wait_ready(30s).ok());
  const int pid = (*pool)->worker_pids().at(0);
  auto hung = (*pool)->submit(scale_job(1, "KTUNE_TEST_FAULT_HANG"));
  std::this_thread::sleep_for(200ms);
  ::kill(pid, SIGKILL);
  const CompileResult r = hung.get();
  EXPECT_EQ(r.status, CompileStatus::out_of_memory) << r.log;
  EXPECT_TRUE((*pool)->submit(scale_job(2)).get().ok());
}

TEST(CompilePoolFaults, ShutdownCancelsAHungJobPromptly) {
  auto o = faulty(1);
  o.job_timeout = 60s;
  auto pool = CompilePool::create(o);
  ASSERT_TRUE(pool.ok());
  auto hung = (*pool)->submit(scale_job(1, "KTUNE_TEST_FAULT_HANG"));
  auto queued = (*pool)->submit(scale_job(2));
  std::this_thread::sleep_for(300ms);
  const auto start = std::chrono::steady_clock::now();
  (*pool)->shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(hung.get().status, CompileStatus::cancelled);
  EXPECT_EQ(queued.get().status, CompileStatus::cancelled);
}

TEST(CompilePoolFaults, FaultMarkersAreInertWithoutTheEnvironmentVariable) {
  CompilePoolOptions o;
  o.workers = 1;
  o.worker_path = KTUNE_WORKER;
  auto pool = CompilePool::create(o);
  ASSERT_TRUE(pool.ok());
  // A user's source that happens to mention a marker compiles normally.
  const CompileResult r = (*pool)->submit(scale_job(4, "KTUNE_TEST_FAULT_SEGFAULT")).get();
  EXPECT_EQ(r.status, CompileStatus::ok) << r.log;
  EXPECT_EQ(r.attempts, 1);
}
