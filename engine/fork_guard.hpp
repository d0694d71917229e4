#pragma once
// Notices that the calling process is a fork()ed child of the one that created an object (an
// Engine): its compile workers and GPU runner are the parent's children, its threads did not come
// along, and its SQLite connection must not be used across fork() — so the child must get an
// error, never touch those, and never wait for threads that do not exist in it.
//
// pthread_atfork bumps a process-wide generation in every child; an object remembers the
// generation it was made in, so the check on every call is one atomic load (getpid() is a system
// call since glibc 2.25). posix_spawn does not run atfork handlers, but a spawned child execs at
// once and never runs our code.
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace ktune {

class ForkGuard {
 public:
  ForkGuard();  // remembers this process and its fork generation
  // True in a process forked (directly or not) after this guard was made.
  bool in_forked_child() const noexcept;
  pid_t creator_pid() const noexcept { return creator_pid_; }
  // "this engine was created by process 123; process 456 is a fork() of it ..." for errors.
  std::string message(const char* what) const;

 private:
  std::uint64_t generation_;
  pid_t creator_pid_;
};

}  // namespace ktune
