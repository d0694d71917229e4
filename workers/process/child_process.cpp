#include "workers/process/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace ktune::process {
namespace {

Error sys_error(const std::string& what, int err) {
  return make_error(Errc::internal, what + ": " + std::strerror(err));
}

// posix_spawn's dup2 onto 0/1 clears close-on-exec only when source and target differ; a pipe end
// that landed on 0..2 (a parent with closed stdio) is moved above first.
Result<UniqueFd> above_stdio(UniqueFd fd) {
  if (fd.get() > 2) return fd;
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return sys_error("fcntl(F_DUPFD_CLOEXEC)", errno);
  return UniqueFd(moved);
}

Result<std::pair<UniqueFd, UniqueFd>> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe2", errno);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  auto r = above_stdio(std::move(read_end));
  if (!r) return r.error();
  auto w = above_stdio(std::move(write_end));
  if (!w) return w.error();
  return std::pair{std::move(*r), std::move(*w)};
}

ExitStatus decode(int status) {
  if (WIFSIGNALED(status)) return ExitStatus{true, WTERMSIG(status)};
  return ExitStatus{false, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

class SpawnAttributes {
 public:
  SpawnAttributes() { ok_ = posix_spawnattr_init(&attr_) == 0 && posix_spawn_file_actions_init(&actions_) == 0; }
  ~SpawnAttributes() {
    posix_spawnattr_destroy(&attr_);
    posix_spawn_file_actions_destroy(&actions_);
  }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
  bool ok() const { return ok_; }
  posix_spawnattr_t attr_{};
  posix_spawn_file_actions_t actions_{};

 private:
  bool ok_ = false;
};

}  // namespace

std::string ExitStatus::describe() const {
  if (!signaled) return "exited with status " + std::to_string(code);
  const char* name = ::strsignal(code);
  return "killed by signal " + std::to_string(code) + (name ? std::string(" (") + name + ")" : std::string());
}

Result<ChildProcess> ChildProcess::spawn(const SpawnOptions& options) {
  auto to_child = make_pipe();
  if (!to_child) return to_child.error();
  auto from_child = make_pipe();
  if (!from_child) return from_child.error();

  SpawnAttributes sa;
  if (!sa.ok()) return make_error(Errc::internal, "posix_spawn attributes could not be initialised");
  // The child starts with an empty signal mask and default dispositions whatever the calling
  // thread blocked or ignored (the pool blocks SIGPIPE in its threads).
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&sa.attr_, &empty);
  posix_spawnattr_setsigdefault(&sa.attr_, &all);
  posix_spawnattr_setflags(&sa.attr_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawn_file_actions_adddup2(&sa.actions_, to_child->first.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&sa.actions_, from_child->second.get(), STDOUT_FILENO);

  const std::string program = options.program.string();
  std::vector<std::string> argv_storage;
  argv_storage.push_back(program);
  argv_storage.insert(argv_storage.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_storage;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool overridden = false;
    for (const auto& [name, value] : options.environment)
      if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=') overridden = true;
    if (!overridden) env_storage.emplace_back(entry);
  }
  for (const auto& [name, value] : options.environment) env_storage.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, program.c_str(), &sa.actions_, &sa.attr_, argv.data(), envp.data());
  if (rc != 0) return sys_error("cannot start " + program, rc);

  ChildProcess child;
  child.pid_ = pid;
  child.input_ = std::move(to_child->second);
  child.output_ = std::move(from_child->first);
  // Non-blocking so a write with a deadline never blocks on a full pipe to a stuck child.
  const int flags = ::fcntl(child.input_.get(), F_GETFL);
  if (flags >= 0) ::fcntl(child.input_.get(), F_SETFL, flags | O_NONBLOCK);
  return child;  // the child's ends close here, in the parent
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      input_(std::move(other.input_)),
      output_(std::move(other.output_)),
      status_(std::move(other.status_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) {
      kill(SIGKILL);
      wait();
    }
    pid_ = std::exchange(other.pid_, -1);
    input_ = std::move(other.input_);
    output_ = std::move(other.output_);
    status_ = std::move(other.status_);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    kill(SIGKILL);
    wait();
  }
}

void ChildProcess::kill(int signal) noexcept {
  if (pid_ > 0) ::kill(pid_, signal);  // never a reaped pid: it could belong to someone else now
}

std::optional<ExitStatus> ChildProcess::try_wait() noexcept {
  if (pid_ <= 0) return status_;
  int status = 0;
  pid_t r;
  do r = ::waitpid(pid_, &status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == 0) return std::nullopt;
  // r < 0 (ECHILD: someone set SIGCHLD to SIG_IGN and the kernel reaped it) counts as gone.
  status_ = r > 0 ? decode(status) : ExitStatus{false, -1};
  pid_ = -1;
  return status_;
}

std::optional<ExitStatus> ChildProcess::wait_for(std::chrono::milliseconds timeout) noexcept {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(200);
  for (;;) {
    if (auto s = try_wait()) return s;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20'000));
  }
}

ExitStatus ChildProcess::wait() noexcept {
  if (pid_ <= 0) return status_.value_or(ExitStatus{false, -1});
  int status = 0;
  pid_t r;
  do r = ::waitpid(pid_, &status, 0);
  while (r < 0 && errno == EINTR);
  status_ = r > 0 ? decode(status) : ExitStatus{false, -1};
  pid_ = -1;
  return *status_;
}

ExitStatus ChildProcess::terminate(std::chrono::milliseconds grace) noexcept {
  close_input();
  if (auto s = wait_for(grace)) return *s;
  kill(SIGKILL);
  return wait();
}

}  // namespace ktune::process
