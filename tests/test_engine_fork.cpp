// Fork safety (issue #20): a child fork()ed from a process that has an engine (data-loader
// workers, multiprocessing) gets one clear error from every call on the inherited engine, within a
// second, never a hang; destroying it there returns at once; and the parent's compile workers
// are untouched by all of it — same processes, still compiling. A real fork() of this test process.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "engine/engine.hpp"
#include "engine/ktune.h"
#include "tests/helpers/engine_on_recording.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace {

using namespace ktune;
using namespace std::chrono_literals;
using ktune::testing::ScratchDir;

// Runs `child` in a fork()ed process and returns its exit status; a child still running after
// `limit` is killed and reported as -1 (the hang this guards against).
template <class Child>
int in_forked_child(Child&& child, std::chrono::seconds limit = 10s) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    int code = 99;
    try {
      code = child();
    } catch (...) {
      code = 98;
    }
    ::_exit(code);  // no atexit handlers, no static destructors: the parent's business
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(10ms);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

bool says_fork(const Error& e) { return e.code == Errc::unsupported && e.message.find("fork") != std::string::npos; }

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(EngineFork, AForkedChildGetsAClearErrorAndLeavesTheParentsWorkersAlone) {
  ScratchDir dir("ktune-fork");
  auto options = ktune::testing::recorded_engine_options(dir);
  options.lifecycle.warm_start = true;
  auto engine = Engine::create(options).value_or_throw();
  ASSERT_TRUE(engine->wait_ready(60s).ok());
  const KernelSpec spec = ktune::testing::example_sgemm();
  const PreparedKernel kernel = PreparedKernel::from(spec);
  const Sizes sizes{{"M", 2048}, {"N", 2048}, {"K", 2048}};
  ASSERT_TRUE(engine->lookup(kernel, sizes).ok());  // a hot engine: keys and tier warm
  auto workers_before = engine->counters().workers_alive;
  ASSERT_EQ(workers_before, 2u);

  const int child = in_forked_child([&]() -> int {
    const auto start = std::chrono::steady_clock::now();
    auto looked_up = engine->lookup(kernel, sizes);
    if (looked_up.ok() || !says_fork(looked_up.error())) return 1;
    auto compiled = engine->compile_async(spec, spec.default_config, "sm_90").get();
    if (compiled.ok() || !says_fork(compiled.error())) return 2;
    auto tuned = engine->tune(spec, sizes, {});
    if (tuned.ok() || !says_fork(tuned.error())) return 3;
    auto binary = engine->binary(spec, sizes, ktune::testing::kRecordedH100);
    if (binary.ok() || !says_fork(binary.error())) return 4;
    if (engine->wait_ready(1s).ok() || engine->shutdown(1s).ok()) return 5;
    if (engine->counters().workers_alive != 0) return 6;  // the parent's workers are not the child's
    engine.reset();  // must not stop, wait for or write to the parent's workers
    if (seconds_since(start) > 1.0) return 7;
#if !defined(__SANITIZE_THREAD__)  // TSan cannot start threads in a multi-threaded process's fork child
    // A fresh engine of its own works in the child.
    ScratchDir child_dir("ktune-fork-child");
    auto own = Engine::create(ktune::testing::recorded_engine_options(child_dir));
    if (!own.ok() || !(*own)->lookup(kernel, sizes).ok()) return 8;
#endif
    return 0;
  });
  EXPECT_EQ(child, 0) << "1-4: a call did not fail with the fork error; 5: wait_ready/shutdown worked; 6: counters "
                         "saw the parent's workers; 7: took over a second; 8: a fresh engine failed; -1: hung";

  // The parent carries on with the same workers.
  EXPECT_EQ(engine->counters().workers_alive, workers_before);
  auto compiled = engine->compile_async(spec, spec.default_config, "sm_90").get();
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;
  EXPECT_TRUE(engine->lookup(kernel, sizes).ok());
}

TEST(EngineFork, TheCApiSaysUnsupportedInAForkedChild) {
  ScratchDir dir("ktune-fork");
  const std::string store = (dir / "store.db").string();
  ktune_engine* engine = nullptr;
  ktune_spec* spec = nullptr;
  ASSERT_EQ(ktune_engine_create(store.c_str(), &engine), KTUNE_OK) << ktune_last_error_message();
  const std::string spec_path = std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json";
  ASSERT_EQ(ktune_spec_load_file(spec_path.c_str(), &spec), KTUNE_OK);
  const char* names[] = {"M", "N", "K"};
  const int64_t values[] = {2048, 2048, 2048};
  ktune_answer* answer = nullptr;
  ASSERT_EQ(ktune_lookup(engine, spec, names, values, 3, "NVIDIA H100 80GB HBM3", "sm_90", &answer), KTUNE_OK);
  ktune_answer_destroy(answer);

  const int child = in_forked_child([&]() -> int {
    ktune_answer* in_child = nullptr;
    const auto start = std::chrono::steady_clock::now();
    if (ktune_lookup(engine, spec, names, values, 3, "NVIDIA H100 80GB HBM3", "sm_90", &in_child) != KTUNE_ERROR_UNSUPPORTED)
      return 1;
    if (std::string(ktune_last_error_message()).find("fork") == std::string::npos) return 2;
    ktune_engine_destroy(engine);
    return seconds_since(start) > 1.0 ? 3 : 0;
  });
  EXPECT_EQ(child, 0);
  ASSERT_EQ(ktune_lookup(engine, spec, names, values, 3, "NVIDIA H100 80GB HBM3", "sm_90", &answer), KTUNE_OK);
  ktune_answer_destroy(answer);
  ktune_spec_destroy(spec);
  ktune_engine_destroy(engine);
}

}  // namespace
