#include "workers/process/supervised_child.hpp"

#include <signal.h>

#include <cstdio>

namespace ktune::process {
using Clock = std::chrono::steady_clock;

namespace {

// How long a child that closed its pipe gets to finish exiting before it is killed.
constexpr auto kExitGrace = std::chrono::milliseconds(2000);

std::string seconds_text(std::chrono::milliseconds ms) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g s", static_cast<double>(ms.count()) / 1000.0);
  return buffer;
}

}  // namespace

const char* child_fate_name(ChildFate fate) noexcept {
  switch (fate) {
    case ChildFate::answered: return "answered";
    case ChildFate::timeout: return "timeout";
    case ChildFate::crash: return "crash";
    case ChildFate::out_of_memory: return "out_of_memory";
    case ChildFate::stopped: return "stopped";
    case ChildFate::broken: return "broken";
  }
  return "unknown";
}

SupervisedChild::SupervisedChild(SupervisedChildOptions options, HelloCheck check)
    : options_(std::move(options)), check_(std::move(check)) {}

SupervisedChild::~SupervisedChild() { kill(); }

Status SupervisedChild::start() {
  kill();
  auto spawned = ChildProcess::spawn(options_.spawn);
  if (!spawned) return spawned.error();
  ReadResult hello = read_frame(spawned->output_fd(), Clock::now() + options_.startup_timeout, options_.stop_fd);
  const std::string who = options_.name + " " + options_.spawn.program.string();
  if (hello.outcome != IoOutcome::done || hello.message.type != options_.hello_type) {
    spawned->kill(SIGKILL);
    const ExitStatus status = spawned->wait();
    std::string why = hello.outcome == IoOutcome::timeout   ? "no hello within " + seconds_text(options_.startup_timeout)
                      : hello.outcome == IoOutcome::stopped ? std::string("shutting down")
                      : hello.outcome == IoOutcome::done    ? std::string("its first message is not a hello")
                      : hello.error.empty()                 ? status.describe()
                                                            : hello.error + ", " + status.describe();
    return make_error(Errc::internal, who + " did not start: " + why);
  }
  if (check_) {
    if (auto ok = check_(hello.message.payload); !ok) {
      spawned->kill(SIGKILL);
      spawned->wait();
      return ok.error();
    }
  }
  hello_ = std::move(hello.message.payload);
  child_.emplace(std::move(*spawned));
  ++starts_;
  return Ok{};
}

bool SupervisedChild::running() noexcept {
  if (!child_) return false;
  if (child_->try_wait()) {
    child_.reset();
    return false;
  }
  return true;
}

Result<bool> SupervisedChild::ensure_running() {
  if (running()) return false;
  if (auto ok = start(); !ok) return ok.error();
  return true;
}

Reply SupervisedChild::died(Reply reply, std::optional<ExitStatus> status) {
  if (!status) {
    // The child closed its end: reap it to learn how it ended.
    status = child_->wait_for(kExitGrace);
    if (!status) {
      child_->kill(SIGKILL);
      status = child_->wait();
    }
  }
  child_.reset();
  reply.fate = status->signaled && status->code == SIGKILL ? ChildFate::out_of_memory : ChildFate::crash;
  reply.exit = status;
  return reply;
}

Reply SupervisedChild::request(std::uint16_t type, std::string_view payload, Clock::time_point deadline) {
  Reply reply;
  if (payload.size() > kMaxPayload) {
    reply.error = "a message of " + std::to_string(payload.size()) + " bytes exceeds the frame cap";
    return reply;
  }
  if (!child_) {
    reply.fate = ChildFate::crash;
    reply.error = options_.name + " is not running";
    return reply;
  }
  if (auto ended = child_->try_wait()) return died(std::move(reply), ended);  // died while idle
  const WriteResult sent = write_all(child_->input_fd(), encode_frame(type, payload), deadline, options_.stop_fd);
  ReadResult answer;
  if (sent.outcome == IoOutcome::done) {
    answer = read_frame(child_->output_fd(), deadline, options_.stop_fd);
  } else {
    answer.outcome = sent.outcome;
    answer.error = sent.error;
  }
  reply.error = answer.error;
  switch (answer.outcome) {
    case IoOutcome::done:
      reply.fate = ChildFate::answered;
      reply.message = std::move(answer.message);
      return reply;
    case IoOutcome::eof: return died(std::move(reply), std::nullopt);
    case IoOutcome::timeout: reply.fate = ChildFate::timeout; break;
    case IoOutcome::stopped: reply.fate = ChildFate::stopped; break;
    case IoOutcome::error: reply.fate = ChildFate::broken; break;
  }
  kill();
  return reply;
}

std::optional<ExitStatus> SupervisedChild::stop(std::chrono::milliseconds grace, std::string_view goodbye_frame) {
  if (!child_) return std::nullopt;
  if (!goodbye_frame.empty()) (void)write_all(child_->input_fd(), goodbye_frame, Clock::now() + grace);
  const ExitStatus status = child_->terminate(grace);
  child_.reset();
  return status;
}

void SupervisedChild::kill() noexcept {
  if (!child_) return;
  child_->kill(SIGKILL);
  child_->wait();
  child_.reset();
}

pid_t SupervisedChild::pid() const noexcept { return child_ ? child_->pid() : -1; }

}  // namespace ktune::process
