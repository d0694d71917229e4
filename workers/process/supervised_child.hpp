#pragma once
// One helper process that ktune talks to with request/answer frames and survives: the compile
// workers (workers/compile_pool.cpp) and the GPU runner (engine/runner_client.cpp) both run on it.
//   start:   posix_spawn → the hello frame within the startup timeout → the protocol's check of
//            the hello (version, toolchain); a child that fails any of these is killed and reaped;
//   request: one frame out, one frame back, before a deadline;
//   death:   classified as timeout (the deadline passed: killed), crash (exited or killed by a
//            signal) or out_of_memory (SIGKILL from outside: ktune only SIGKILLs children it has
//            given up on, so on Linux that is almost always the OOM killer);
//   respawn: ensure_running() starts a fresh child after a death and says so, so the caller can
//            restore what the old process held.
// Not thread-safe: one owner thread talks to it (the pool's slot thread, the engine's GPU thread).
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "engine/common/result.hpp"
#include "workers/process/child_process.hpp"
#include "workers/process/frame_io.hpp"

namespace ktune::process {

struct SupervisedChildOptions {
  std::string name;  // "ktune-worker", for messages
  SpawnOptions spawn;
  std::uint16_t hello_type = 0;  // the frame type of the protocol's hello
  std::chrono::milliseconds startup_timeout{30'000};  // spawn to hello
  // Readable: every wait ends at once with `stopped` (a pool shutting down). < 0: none.
  int stop_fd = -1;
};

enum class ChildFate : std::uint8_t {
  answered,       // message holds the answer
  timeout,        // no answer before the deadline; the child was killed
  crash,          // the child died (exit holds how)
  out_of_memory,  // the child was SIGKILLed from outside (exit holds it)
  stopped,        // stop_fd fired; the child was killed
  broken,         // an I/O error or a malformed frame; the child was killed
};
const char* child_fate_name(ChildFate fate) noexcept;

struct Reply {
  ChildFate fate = ChildFate::broken;
  Message message;                 // answered
  std::optional<ExitStatus> exit;  // crash, out_of_memory
  std::string error;               // what went wrong, for messages
};

class SupervisedChild {
 public:
  // The hello payload goes to the check; its error refuses the child (and is returned unchanged).
  using HelloCheck = std::function<Status(std::string_view hello_payload)>;

  explicit SupervisedChild(SupervisedChildOptions options, HelloCheck check = {});
  ~SupervisedChild();  // kills and reaps a running child
  SupervisedChild(const SupervisedChild&) = delete;
  SupervisedChild& operator=(const SupervisedChild&) = delete;

  // Spawns a child (replacing any running one). Errc::internal "<name> <path> did not start: why"
  // when no hello came, or the check's error.
  Status start();
  // start() when no child is running; true when it started one.
  Result<bool> ensure_running();
  bool running() noexcept;
  bool has_child() const noexcept { return child_.has_value(); }  // started and not yet reaped by us

  // Needs a running child; without one the reply is `crash` with an error saying so. A payload
  // above kMaxPayload is `broken` and never sent (the child is left as it is).
  Reply request(std::uint16_t type, std::string_view payload, std::chrono::steady_clock::time_point deadline);

  // Ends the child politely: the goodbye frame if given (best effort, bounded by grace), stdin
  // closed, up to `grace` to exit, then SIGKILL. Always reaps. nullopt when none was running.
  std::optional<ExitStatus> stop(std::chrono::milliseconds grace, std::string_view goodbye_frame = {});
  void kill() noexcept;  // SIGKILL and reap now

  pid_t pid() const noexcept;
  const std::string& hello() const noexcept { return hello_; }  // the last hello payload
  std::size_t starts() const noexcept { return starts_; }
  const SupervisedChildOptions& options() const noexcept { return options_; }

 private:
  // Reaps a child that closed its pipe (or takes the status already reaped) and classifies the death.
  Reply died(Reply reply, std::optional<ExitStatus> status);

  SupervisedChildOptions options_;
  HelloCheck check_;
  std::optional<ChildProcess> child_;
  std::string hello_;
  std::size_t starts_ = 0;
};

}  // namespace ktune::process
