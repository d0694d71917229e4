#include "engine/fork_guard.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

namespace ktune {

namespace {
std::atomic<std::uint64_t> g_fork_generation{0};

void on_fork_in_child() noexcept { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

std::uint64_t current_generation() {
  static std::once_flag registered;
  std::call_once(registered, [] { ::pthread_atfork(nullptr, nullptr, &on_fork_in_child); });
  return g_fork_generation.load(std::memory_order_relaxed);
}
}  // namespace

ForkGuard::ForkGuard() : generation_(current_generation()), creator_pid_(::getpid()) {}

bool ForkGuard::in_forked_child() const noexcept {
  return g_fork_generation.load(std::memory_order_relaxed) != generation_;
}

std::string ForkGuard::message(const char* what) const {
  return std::string(what) + " was created by process " + std::to_string(creator_pid_) + "; process " +
         std::to_string(::getpid()) +
         " is a fork() of it and cannot use it (its compile workers, GPU runner, threads and database "
         "connection belong to the parent): create a new engine in the child";
}

}  // namespace ktune
