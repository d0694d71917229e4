// ktune-worker: one compile worker process. Started by the compile pool with posix_spawn; reads
// compile requests on stdin, answers on stdout (wire.hpp), one job at a time, until stdin closes.
//
//   ktune-worker --parent-pid PID [--memory-limit-bytes N] [--pch-dir DIR]
//
// Test-only fault modes, enabled only when KTUNE_WORKER_TEST_FAULTS=1 is in the worker's
// environment, triggered by a marker in the job's source:
//   KTUNE_TEST_FAULT_SEGFAULT        dies of SIGSEGV
//   KTUNE_TEST_FAULT_HANG            never answers
//   KTUNE_TEST_FAULT_ALLOC           allocates until the memory limit stops it (needs a limit)
//   KTUNE_TEST_FAULT_CRASH_ONCE=PATH dies of SIGSEGV unless PATH exists (creating it first), so the
//                                    pool's retry on a fresh worker succeeds
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "workers/process/frame_io.hpp"
#include "workers/nvrtc_compiler.hpp"
#include "workers/compile_protocol.hpp"
#include "workers/precompiled_headers.hpp"

namespace {

using namespace ktune::workers;
using namespace ktune::process;

int g_out_fd = -1;
// Encoded at start-up so the terminate handler can answer without allocating.
std::string* g_oom_frame = nullptr;

[[noreturn]] void fail(const char* message) {
  std::fprintf(stderr, "ktune-worker: %s\n", message);
  std::_Exit(3);
}

// An allocation failure that escapes through NVRTC's C interface ends in std::terminate; report it
// as the out_of_memory it is, not as a crash.
[[noreturn]] void on_terminate() {
  bool oom = false;
  if (auto e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::bad_alloc&) {
      oom = true;
    } catch (...) {
    }
  }
  if (oom && g_oom_frame != nullptr && g_out_fd >= 0) {
    (void)write_all(g_out_fd, *g_oom_frame);
    std::_Exit(0);
  }
  std::abort();
}

bool contains(const std::string& text, const char* marker) { return text.find(marker) != std::string::npos; }

[[noreturn]] void segfault() {
  ::signal(SIGSEGV, SIG_DFL);
  ::raise(SIGSEGV);
  std::_Exit(4);  // not reached
}

// Returns a result when a fault mode answers instead of NVRTC.
std::optional<CompileResult> inject_fault(const CompileJob& job, bool memory_limited) {
  if (contains(job.source, "KTUNE_TEST_FAULT_SEGFAULT")) segfault();
  if (contains(job.source, "KTUNE_TEST_FAULT_HANG"))
    for (;;) ::pause();
  if (contains(job.source, "KTUNE_TEST_FAULT_ALLOC")) {
    if (!memory_limited) {
      CompileResult r;
      r.status = CompileStatus::internal;
      r.log = "KTUNE_TEST_FAULT_ALLOC needs a worker memory limit";
      return r;
    }
    std::vector<std::unique_ptr<char[]>> hog;
    for (;;) hog.emplace_back(new char[64U << 20]);  // throws std::bad_alloc at the limit
  }
  if (auto at = job.source.find("KTUNE_TEST_FAULT_CRASH_ONCE="); at != std::string::npos) {
    const auto start = at + std::strlen("KTUNE_TEST_FAULT_CRASH_ONCE=");
    const auto end = job.source.find_first_of(" \t\r\n", start);
    const std::string path = job.source.substr(start, end == std::string::npos ? std::string::npos : end - start);
    const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
      segfault();
    }
  }
  return std::nullopt;
}

CompileResult out_of_memory_result() {
  CompileResult r;
  r.status = CompileStatus::out_of_memory;
  r.log = "ktune-worker: out of memory (the worker's memory limit was reached)";
  return r;
}

int run(int argc, char** argv) {
  long parent_pid = -1;
  unsigned long long memory_limit = 0;
  std::string pch_root;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--parent-pid" && i + 1 < argc) {
      parent_pid = std::strtol(argv[++i], nullptr, 10);
    } else if (arg == "--memory-limit-bytes" && i + 1 < argc) {
      memory_limit = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--pch-dir" && i + 1 < argc) {
      pch_root = argv[++i];
    } else {
      std::fprintf(stderr, "usage: ktune-worker --parent-pid PID [--memory-limit-bytes N] [--pch-dir DIR]\n"
                           "(started by the ktune compile pool, not by hand)\n");
      return 2;
    }
  }

  // Orphan exit, part 1: die with the parent even while busy in NVRTC. The getppid check closes the
  // race where the parent died before prctl ran.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (parent_pid > 0 && ::getppid() != static_cast<pid_t>(parent_pid)) return 0;

  if (memory_limit > 0) {
    // RLIMIT_DATA (heap and private anonymous mappings), not RLIMIT_AS: CUDA libraries reserve huge
    // PROT_NONE address ranges that RLIMIT_AS would count.
    rlimit limit{static_cast<rlim_t>(memory_limit), static_cast<rlim_t>(memory_limit)};
    if (::setrlimit(RLIMIT_DATA, &limit) != 0) fail("setrlimit(RLIMIT_DATA) failed");
  }

  // The protocol gets a private descriptor; fd 1 becomes stderr so that anything printing to
  // stdout (a library, a stray printf) cannot corrupt a frame.
  g_out_fd = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (g_out_fd < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) fail("cannot set up the protocol descriptor");
  ::signal(SIGPIPE, SIG_DFL);  // a vanished parent ends the worker

  static std::string oom_frame = encode_frame(MessageType::compile_result, encode_result(out_of_memory_result()));
  g_oom_frame = &oom_frame;
  std::set_terminate(on_terminate);

  // This worker's precompiled headers; without a folder (or when it cannot be made) jobs compile
  // without them, which is only slower.
  std::optional<PrecompiledHeaders> pch;
  if (!pch_root.empty())
    if (auto opened = PrecompiledHeaders::open(pch_root)) pch.emplace(std::move(*opened));

  const char* faults_env = std::getenv("KTUNE_WORKER_TEST_FAULTS");
  const bool test_faults = faults_env != nullptr && std::string(faults_env) == "1";

  Hello hello;
  hello.pid = static_cast<std::uint32_t>(::getpid());
  hello.nvrtc_version = nvrtc_version();
  hello.test_faults = test_faults;
  if (write_all(g_out_fd, encode_frame(MessageType::hello, encode_hello(hello))).outcome != IoOutcome::done) return 0;

  for (;;) {
    // Orphan exit, part 2: the pool closing its end (or dying) is EOF here.
    ReadResult in = read_frame(STDIN_FILENO);
    if (in.outcome == IoOutcome::eof) return 0;
    if (in.outcome != IoOutcome::done) fail(("bad request: " + in.error).c_str());
    if (in.message.type != frame_type(MessageType::compile_request)) fail("unexpected message type");

    CompileResult result;
    bool exit_after = false;
    try {
      auto job = decode_job(in.message.payload);
      if (!job) fail(job.error().message.c_str());
      std::optional<CompileResult> faulted;
      if (test_faults) faulted = inject_fault(*job, memory_limit > 0);
      result = faulted ? std::move(*faulted) : compile_with_nvrtc(*job, pch ? &*pch : nullptr);
    } catch (const std::bad_alloc&) {
      result = out_of_memory_result();
    } catch (const std::exception& e) {
      result = CompileResult{};
      result.status = CompileStatus::internal;
      result.log = std::string("ktune-worker: ") + e.what();
    }
    // A worker that hit its memory limit has a heap nobody should trust; the pool replaces it.
    if (result.status == CompileStatus::out_of_memory) exit_after = true;
    std::string frame;
    try {
      frame = encode_frame(MessageType::compile_result, encode_result(result));
    } catch (const std::bad_alloc&) {
      frame = oom_frame;
      exit_after = true;
    } catch (const std::length_error& e) {
      CompileResult too_big;
      too_big.status = CompileStatus::internal;
      too_big.log = std::string("ktune-worker: result too large for the wire: ") + e.what();
      frame = encode_frame(MessageType::compile_result, encode_result(too_big));
    }
    if (write_all(g_out_fd, frame).outcome != IoOutcome::done) return 0;
    if (exit_after) return 0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ktune-worker: %s\n", e.what());
    return 3;
  } catch (...) {
    std::fprintf(stderr, "ktune-worker: unknown exception\n");
    return 3;
  }
}
