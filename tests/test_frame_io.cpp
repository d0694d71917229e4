// Writing to a process that died must be an EOF result, never a SIGPIPE that kills the caller
// (the engine runs inside other people's compilers, on any of their threads).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "workers/process/frame_io.hpp"

TEST(FrameIo, WritingToAClosedPipeIsEofNotSigpipe) {
  ASSERT_EQ(::signal(SIGPIPE, SIG_DFL), ::signal(SIGPIPE, SIG_DFL));  // default action: would kill us
  auto write_to_closed = [] {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ::close(fds[0]);
    auto result = ktune::process::write_all(fds[1], std::string(100000, 'x'));
    EXPECT_EQ(result.outcome, ktune::process::IoOutcome::eof);
    ::close(fds[1]);
  };
  write_to_closed();                    // this thread
  std::thread(write_to_closed).join();  // and any other
  // Nothing is left pending that would fire later.
  sigset_t pending;
  ASSERT_EQ(sigpending(&pending), 0);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
}
