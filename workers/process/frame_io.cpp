#include "workers/process/frame_io.hpp"

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ktune::process {
namespace {

// Waits until fd is ready for `events`; returns done, timeout, stopped or error.
IoOutcome wait_ready(int fd, short events, Deadline deadline, int stop_fd, std::string& error) {
  for (;;) {
    int timeout_ms = -1;
    if (deadline) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return IoOutcome::timeout;
      timeout_ms = static_cast<int>(std::min<long long>(left.count(), 1'000'000'000LL));
    }
    pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
    const int rc = ::poll(fds, stop_fd >= 0 ? 2 : 1, timeout_ms);
    if (rc < 0) {
      if (errno == EINTR) continue;
      error = std::string("poll: ") + std::strerror(errno);
      return IoOutcome::error;
    }
    if (rc == 0) continue;  // re-evaluates the deadline
    if (stop_fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP)) != 0) return IoOutcome::stopped;
    // POLLHUP/POLLERR: let read/write report what happened.
    if ((fds[0].revents & (events | POLLHUP | POLLERR | POLLNVAL)) != 0) return IoOutcome::done;
  }
}

// Reads exactly n bytes into out (appending).
IoOutcome read_exact(int fd, std::size_t n, std::string& out, Deadline deadline, int stop_fd, std::string& error) {
  const std::size_t start = out.size();
  out.resize(start + n);
  std::size_t got = 0;
  while (got < n) {
    if (auto w = wait_ready(fd, POLLIN, deadline, stop_fd, error); w != IoOutcome::done) return w;
    const ssize_t r = ::read(fd, out.data() + start + got, n - got);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      error = std::string("read: ") + std::strerror(errno);
      return IoOutcome::error;
    }
    if (r == 0) {
      error = (start == 0 && got == 0) ? "peer closed the pipe" : "peer closed the pipe in the middle of a frame";
      return IoOutcome::eof;
    }
    got += static_cast<std::size_t>(r);
  }
  return IoOutcome::done;
}

}  // namespace

ReadResult read_frame(int fd, Deadline deadline, int stop_fd) {
  ReadResult result;
  std::string bytes;
  bytes.reserve(kFrameHeaderSize);
  result.outcome = read_exact(fd, kFrameHeaderSize, bytes, deadline, stop_fd, result.error);
  if (result.outcome != IoOutcome::done) return result;
  auto header = decode_frame_header(bytes);
  if (!header) {
    result.outcome = IoOutcome::error;
    result.error = header.error().message;
    return result;
  }
  std::string payload;
  result.outcome = read_exact(fd, header->length, payload, deadline, stop_fd, result.error);
  if (result.outcome == IoOutcome::eof) result.error = "peer closed the pipe in the middle of a frame";
  if (result.outcome != IoOutcome::done) return result;
  result.message = Message{header->type, std::move(payload)};
  return result;
}

namespace {
// A write to a pipe whose reader died raises SIGPIPE in the writing thread, and its default action
// kills the whole process: the engine inside a compiler must get EPIPE instead. The signal is
// blocked in this thread for the write, and one it raised is taken off the pending set before the
// old mask comes back (POSIX sigtimedwait with a zero timeout), so any thread may call write_all.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &previous_);
    was_blocked_ = sigismember(&previous_, SIGPIPE) == 1;
  }
  ~SigpipeGuard() {
    if (was_blocked_) return;  // the caller blocks SIGPIPE itself and owns what is pending
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigset_t pending;
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      const timespec zero{0, 0};
      sigtimedwait(&pipe_only, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t previous_{};
  bool was_blocked_ = false;
};
}  // namespace

WriteResult write_all(int fd, std::string_view bytes, Deadline deadline, int stop_fd) {
  SigpipeGuard no_sigpipe;
  WriteResult result;
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    if (auto w = wait_ready(fd, POLLOUT, deadline, stop_fd, result.error); w != IoOutcome::done) {
      result.outcome = w;
      return result;
    }
    const ssize_t r = ::write(fd, bytes.data() + sent, bytes.size() - sent);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == EPIPE) {
        result.outcome = IoOutcome::eof;
        result.error = "peer closed the pipe";
        return result;
      }
      result.error = std::string("write: ") + std::strerror(errno);
      return result;
    }
    sent += static_cast<std::size_t>(r);
  }
  result.outcome = IoOutcome::done;
  return result;
}

}  // namespace ktune::process
