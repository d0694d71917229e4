// The line of a compile log that reports show (a failed configuration's message, the entry check's).
#include <gtest/gtest.h>

#include "workers/compile_log.hpp"

using ktune::workers::compile_log_headline;

TEST(CompileLog, TheFirstErrorLineWinsOverNotesBeforeIt) {
  EXPECT_EQ(compile_log_headline("k.cu(3): warning: unused\n\nk.cu(7): error: identifier \"x\" is undefined\nk.cu(9): error: later\n"),
            "k.cu(7): error: identifier \"x\" is undefined");
}

TEST(CompileLog, WithoutAnErrorLineTheFirstNonEmptyLine) {
  EXPECT_EQ(compile_log_headline("\n\nnvrtc: internal failure\nmore\n"), "nvrtc: internal failure");
  EXPECT_EQ(compile_log_headline("last line without a newline"), "last line without a newline");
  EXPECT_EQ(compile_log_headline(""), "");
  EXPECT_EQ(compile_log_headline("\n\n"), "");
}
