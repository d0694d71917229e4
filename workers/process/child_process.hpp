#pragma once
// A child process started with posix_spawn (never fork: DESIGN.md decision 1) whose stdin and
// stdout are pipes to the parent. Every descriptor the parent keeps is close-on-exec, so a child
// never inherits another child's pipes; the destructor kills and reaps, so no zombie outlives it.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/common/result.hpp"
#include "workers/process/unique_fd.hpp"

namespace ktune::process {

struct ExitStatus {
  bool signaled = false;
  int code = 0;  // exit code, or the signal number when signaled
  std::string describe() const;  // "exited with status 3", "killed by signal 11 (Segmentation fault)"
};

struct SpawnOptions {
  std::filesystem::path program;
  std::vector<std::string> args;  // after argv[0]
  // Added to (or replacing in) the parent's environment.
  std::vector<std::pair<std::string, std::string>> environment;
};

class ChildProcess {
 public:
  static Result<ChildProcess> spawn(const SpawnOptions& options);

  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // kill(SIGKILL) + reap when still running

  pid_t pid() const noexcept { return pid_; }
  bool reaped() const noexcept { return pid_ <= 0; }
  int input_fd() const noexcept { return input_.get(); }    // the child's stdin (non-blocking)
  int output_fd() const noexcept { return output_.get(); }  // the child's stdout
  // The child sees EOF on stdin: a compile worker exits cleanly.
  void close_input() noexcept { input_.reset(); }

  void kill(int signal) noexcept;
  std::optional<ExitStatus> try_wait() noexcept;
  // Waits up to `timeout`; nullopt when still running.
  std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout) noexcept;
  ExitStatus wait() noexcept;
  // Closes stdin, waits up to `grace`, then SIGKILL. Always reaps.
  ExitStatus terminate(std::chrono::milliseconds grace) noexcept;

 private:
  pid_t pid_ = -1;
  UniqueFd input_;
  UniqueFd output_;
  std::optional<ExitStatus> status_;
};

}  // namespace ktune::process
