// Issue 14, "Unavailable": a compile worker that never completes its start-up handshake must not
// hang `ktune compile`: --timeout bounds the wait for its hello, and the user gets one line.
// Each "worker" is a real process (a small script standing where ktune-worker would be).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/helpers/run_ktune.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace fs = std::filesystem;
using ktune::testing::run_shell;
using ktune::testing::ScratchDir;

namespace {

struct Impostor {
  std::string name;
  std::string script;  // body of a /bin/sh script run as the worker
};

}  // namespace

TEST(WorkerHandshake, AWorkerThatNeverSaysHelloFailsCompileWithinTheTimeout) {
  ScratchDir dir("ktune-handshake");
  const std::vector<Impostor> impostors{
      {"silent", "exec sleep 600"},
      {"silent, ignoring SIGTERM", "trap '' TERM; exec sleep 600"},
      {"writes garbage, then hangs", "printf 'hello, I am not a frame'; exec sleep 600"},
      {"writes half a frame header, then hangs", "printf '\\001\\000'; exec sleep 600"},
      {"closes its output, then hangs", "exec 1>&-; exec sleep 600"},
      {"exits at once", "exit 0"},
      {"crashes at once", "kill -SEGV $$"},
  };
  const std::string spec = std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json";
  int cases = 0;
  for (std::size_t i = 0; i < impostors.size(); ++i) {
    SCOPED_TRACE(impostors[i].name);
    ++cases;
    const fs::path worker = dir / ("worker-" + std::to_string(i) + ".sh");
    std::ofstream(worker) << "#!/bin/sh\n" << impostors[i].script << "\n";
    fs::permissions(worker, fs::perms::owner_all);
    // The outer `timeout` only turns a regression (a hang) into a failure instead of a stuck suite.
    auto run = run_shell("KTUNE_WORKER=" + worker.string() + " timeout 50 " + KTUNE_CLI + " compile " + spec +
                         " --arch sm_90 --workers 2 --timeout 1 --cache-dir " + (dir / "cubins").string());
    EXPECT_EQ(run.status, 1) << run.output;
    EXPECT_EQ(run.output.rfind("ktune: error: the compile workers did not start: ", 0), 0u) << run.output;
    EXPECT_EQ(std::count(run.output.begin(), run.output.end(), '\n'), 1) << run.output;
  }
  std::printf("[hostile cases] workers without a handshake: %d\n", cases);
}
