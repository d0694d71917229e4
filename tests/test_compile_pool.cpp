// The compile pool with real ktune-worker processes and real NVRTC: results, concurrency, the
// cubin cache in front of it, warm-up, idle retirement, clean shutdown and orphan exit.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/helpers/process_children.hpp"
#include "tests/helpers/scale_job.hpp"
#include "workers/process/child_process.hpp"
#include "workers/compile_pool.hpp"
#include "workers/process/frame_io.hpp"

using namespace ktune::workers;
using namespace ktune::process;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using ktune::testing::lowered_scale;
using ktune::testing::scale_job;

CompilePoolOptions options(std::size_t workers) {
  CompilePoolOptions o;
  o.workers = workers;
  o.worker_path = KTUNE_WORKER;
  return o;
}

std::size_t open_fds() {
  std::size_t n = 0;
  for (auto& e : fs::directory_iterator("/proc/self/fd")) {
    (void)e;
    ++n;
  }
  return n;
}

bool process_exists(int pid) {
  std::error_code ec;
  return fs::exists("/proc/" + std::to_string(pid), ec);
}

// Children of this process that are zombies (exited, not reaped).
int zombie_children() {
  int zombies = 0;
  for (const auto& child : ktune::testing::children_of(::getpid())) zombies += child.state == 'Z' ? 1 : 0;
  return zombies;
}

bool is_elf(const std::string& b) { return b.size() > 4 && b.compare(0, 4, "\x7f" "ELF") == 0; }

}  // namespace

TEST(CompilePool, CompilesInWorkerProcesses) {
  auto pool = CompilePool::create(options(2));
  ASSERT_TRUE(pool.ok()) << pool.error().message;
  const CompileResult r = (*pool)->submit(scale_job(3)).get();
  ASSERT_EQ(r.status, CompileStatus::ok) << r.log;
  EXPECT_TRUE(is_elf(r.cubin));
  EXPECT_EQ(r.lowered_names, std::vector<std::string>{lowered_scale(3)});
  EXPECT_EQ(r.attempts, 1);
  EXPECT_FALSE(r.from_cache);
  const auto pids = (*pool)->worker_pids();
  ASSERT_FALSE(pids.empty());
  for (int pid : pids) EXPECT_NE(pid, ::getpid());
  EXPECT_FALSE((*pool)->nvrtc_version().empty());
}

TEST(CompilePool, ACompileErrorComesBackWithItsLog) {
  auto pool = CompilePool::create(options(1));
  ASSERT_TRUE(pool.ok());
  CompileJob job;
  job.source = "__global__ void k(int* x) {\n  x[0] = 1;\n  x[1] = missing_symbol;\n}\n";
  job.source_name = "bad_kernel.cu";
  job.name_expressions = {"k"};
  const CompileResult r = (*pool)->submit(job).get();
  EXPECT_EQ(r.status, CompileStatus::compile_error);
  EXPECT_NE(r.log.find("bad_kernel.cu(3)"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("missing_symbol"), std::string::npos) << r.log;
  // The worker survives a compile error: the next job runs on it.
  const auto before = (*pool)->worker_pids();
  EXPECT_TRUE((*pool)->submit(scale_job(1)).get().ok());
  EXPECT_EQ((*pool)->worker_pids(), before);
  EXPECT_EQ((*pool)->stats().workers_started, 1U);
}

TEST(CompilePool, TwoHundredJobsFromEightThreadsAllComplete) {
  auto pool = CompilePool::create(options(2));
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE((*pool)->wait_ready(30s).ok());
  constexpr int kThreads = 8, kPerThread = 25;
  std::atomic<int> correct{0};
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::pair<int, std::future<CompileResult>>> futures;
      for (int i = 0; i < kPerThread; ++i) {
        const int n = t * kPerThread + i + 1;  // every job distinct: a mixed-up answer is caught
        futures.emplace_back(n, (*pool)->submit(scale_job(n)));
      }
      for (auto& [n, f] : futures) {
        const CompileResult r = f.get();
        if (r.ok() && is_elf(r.cubin) && r.lowered_names == std::vector<std::string>{lowered_scale(n)})
          ++correct;
        else
          failures[t] += "job " + std::to_string(n) + ": " + compile_status_name(r.status) + " " + r.log + "\n";
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& f : failures) EXPECT_TRUE(f.empty()) << f;
  EXPECT_EQ(correct.load(), kThreads * kPerThread);
  const auto stats = (*pool)->stats();
  EXPECT_EQ(stats.completed, 200U);
  EXPECT_EQ(stats.workers_started, 2U);  // no worker was lost along the way
  EXPECT_EQ(stats.crashes, 0U);
}

TEST(CompilePool, CallbackSubmission) {
  auto pool = CompilePool::create(options(1));
  ASSERT_TRUE(pool.ok());
  std::promise<CompileResult> done;
  (*pool)->submit(scale_job(5), [&](CompileResult r) { done.set_value(std::move(r)); });
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(f.get().lowered_names, std::vector<std::string>{lowered_scale(5)});
}

TEST(CompilePool, ACacheHitSkipsTheWorker) {
  const fs::path dir = fs::temp_directory_path() / ("ktune-test-pool-cache-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto cache = CubinCache::open({dir, 1 << 30});
  ASSERT_TRUE(cache.ok());
  auto o = options(1);
  o.cache = cache->get();
  CompileResult first;
  {
    auto pool = CompilePool::create(o);
    ASSERT_TRUE(pool.ok());
    first = (*pool)->submit(scale_job(9)).get();
    ASSERT_TRUE(first.ok()) << first.log;
    EXPECT_FALSE(first.from_cache);
  }
  // A fresh pool starts workers lazily; a hit must not start one.
  auto pool = CompilePool::create(o);
  ASSERT_TRUE(pool.ok());
  const CompileResult again = (*pool)->submit(scale_job(9)).get();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again.from_cache);
  EXPECT_EQ(again.attempts, 0);
  EXPECT_EQ(again.cubin, first.cubin);
  EXPECT_EQ(again.lowered_names, first.lowered_names);
  EXPECT_EQ((*pool)->stats().workers_started, 0U);
  EXPECT_EQ((*pool)->stats().cache_hits, 1U);
  // A different configuration is a miss and does reach a worker.
  EXPECT_FALSE((*pool)->submit(scale_job(10)).get().from_cache);
  EXPECT_EQ((*pool)->stats().workers_started, 1U);
  fs::remove_all(dir);
}

TEST(CompilePool, WarmStartsEveryWorkerAndIdleOnesRetire) {
  auto o = options(2);
  o.idle_timeout = 300ms;
  auto pool = CompilePool::create(o);
  ASSERT_TRUE(pool.ok());
  EXPECT_TRUE((*pool)->worker_pids().empty());  // lazy until asked
  ASSERT_TRUE((*pool)->wait_ready(30s).ok());
  const auto pids = (*pool)->worker_pids();
  ASSERT_EQ(pids.size(), 2U);
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE((*pool)->worker_pids().empty());
  EXPECT_EQ((*pool)->stats().retired_idle, 2U);
  for (int pid : pids) EXPECT_FALSE(process_exists(pid)) << "retired worker " << pid << " still exists";
  EXPECT_TRUE((*pool)->submit(scale_job(2)).get().ok());  // restarted on demand
}

TEST(CompilePool, ShutdownLeavesNoZombieAndNoDescriptor) {
  const std::size_t fds_before = open_fds();
  std::vector<int> pids;
  {
    auto pool = CompilePool::create(options(2));
    ASSERT_TRUE(pool.ok());
    ASSERT_TRUE((*pool)->wait_ready(30s).ok());
    pids = (*pool)->worker_pids();
    ASSERT_EQ(pids.size(), 2U);
    std::vector<std::future<CompileResult>> futures;
    for (int i = 0; i < 6; ++i) futures.push_back((*pool)->submit(scale_job(100 + i)));
    futures.front().wait();
    (*pool)->shutdown();
    // Everything submitted has an answer: compiled, or cancelled by the shutdown.
    for (auto& f : futures) {
      ASSERT_EQ(f.wait_for(0s), std::future_status::ready);
      const auto status = f.get().status;
      EXPECT_TRUE(status == CompileStatus::ok || status == CompileStatus::cancelled) << compile_status_name(status);
    }
    EXPECT_EQ((*pool)->submit(scale_job(1)).get().status, CompileStatus::cancelled);
  }
  EXPECT_EQ(open_fds(), fds_before);
  EXPECT_EQ(zombie_children(), 0);
  for (int pid : pids) EXPECT_FALSE(process_exists(pid)) << "worker " << pid << " survived shutdown";
}

TEST(CompilePool, MissingWorkerIsAClearError) {
  auto o = options(1);
  o.worker_path = "/nonexistent/ktune-worker";
  auto pool = CompilePool::create(o);
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.error().code, ktune::Errc::not_found);
  EXPECT_NE(pool.error().message.find("/nonexistent/ktune-worker"), std::string::npos);
}

TEST(CompilePool, WorkerThatCannotStartFailsJobsWithTheReason) {
  // Not a ktune-worker at all: exits at once without a hello.
  auto o = options(1);
  o.worker_path = "/bin/false";
  auto pool = CompilePool::create(o);
  ASSERT_TRUE(pool.ok());
  auto ready = (*pool)->wait_ready(10s);
  ASSERT_FALSE(ready.ok());
  EXPECT_NE(ready.error().message.find("did not start"), std::string::npos) << ready.error().message;
  const CompileResult r = (*pool)->submit(scale_job(1)).get();
  EXPECT_EQ(r.status, CompileStatus::internal);
  EXPECT_NE(r.log.find("/bin/false"), std::string::npos) << r.log;
}

// Role run in a child process by WorkersExitWhenThePoolProcessDies.
TEST(CompilePool, OrphanParentRole) {
  if (std::getenv("KTUNE_TEST_ORPHAN_PARENT") == nullptr) GTEST_SKIP() << "only runs as a child of the orphan test";
  auto pool = CompilePool::create(options(2));
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE((*pool)->wait_ready(30s).ok());
  // One worker busy in a long job, one idle: both must go when this process dies.
  CompileJob slow = scale_job(1);
  slow.source += "\n// KTUNE_TEST_FAULT_HANG\n";
  (*pool)->submit(slow, [](CompileResult) {});
  std::this_thread::sleep_for(200ms);
  std::string pids = "\nworker-pids:";
  for (int pid : (*pool)->worker_pids()) pids += " " + std::to_string(pid);
  (void)write_all(STDOUT_FILENO, pids + " end\n");
  ::raise(SIGKILL);  // no destructor, no shutdown: the workers are on their own
}

TEST(CompilePool, WorkersExitWhenThePoolProcessDies) {
  // Orphans are re-parented to us, so we can reap them and see how they ended.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  auto parent = ChildProcess::spawn({"/proc/self/exe",
                                     {"--gtest_filter=CompilePool.OrphanParentRole"},
                                     {{"KTUNE_TEST_ORPHAN_PARENT", "1"}, {"KTUNE_WORKER_TEST_FAULTS", "1"}}});
  ASSERT_TRUE(parent.ok()) << parent.error().message;
  std::string out;
  char buffer[256];
  ssize_t n;
  while ((n = ::read(parent->output_fd(), buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<std::size_t>(n));
  const ExitStatus parent_status = parent->wait();
  EXPECT_TRUE(parent_status.signaled);
  std::vector<int> pids;
  const auto at = out.find("worker-pids:");
  ASSERT_NE(at, std::string::npos) << out;
  std::istringstream words(out.substr(at + 12));
  for (std::string word; words >> word && word != "end";) pids.push_back(std::stoi(word));
  ASSERT_EQ(pids.size(), 2U) << out;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (int pid : pids) {
    int status = 0;
    pid_t r = 0;
    while ((r = ::waitpid(pid, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    EXPECT_EQ(r, pid) << "worker " << pid << " outlived its pool process";
    if (r != pid) ::kill(pid, SIGKILL), ::waitpid(pid, &status, 0);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}
