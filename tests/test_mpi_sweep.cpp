// `mpirun -n 3 ktune sweep` on replayed H100 data (no GPU): rank 0 hands out the runs, every rank
// tunes into a store of its own, and rank 0 merges each finished run into --db — which then holds
// the same winners as a one-host sweep. A rank that dies mid-sweep ends the job (OpenMPI's
// semantics); what rank 0 committed before is kept, and the same command finishes the rest.
// Skipped, with a message, where mpirun is not installed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "tests/helpers/run_ktune.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace {

using ktune::testing::run_ktune;
using ktune::testing::run_shell;
using ktune::testing::ScratchDir;

const std::string kRoot = KTUNE_SOURCE_DIR;
const std::string kReplayedSweep =
    "sweep " + kRoot + "/tests/data/sweeps/h100-sgemm-replay.json --replay " + kRoot + "/tests/data/h100-sgemm.db";

bool has_mpirun() { return run_shell("command -v mpirun").status == 0; }

// As root (CI containers), OpenMPI refuses to start without these; its temporary files, and the
// ranks' stores a killed rank leaves behind, go to the test's folder. One host: shared memory
// (pml ob1) instead of probing UCX, 0.7 s a launch. Under ASan (tools/ci/sanitizers.sh) OpenMPI's
// own allocations kept past MPI_Finalize are not reported as ktune's leaks.
std::string mpirun(const ScratchDir& dir, int ranks, const std::string& env = "") {
  return "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 TMPDIR=" + dir.path.string() +
         " LSAN_OPTIONS=suppressions=" + kRoot + "/tests/sanitizers/lsan-mpi.supp " + env + " mpirun --oversubscribe --mca pml ob1 -n " +
         std::to_string(ranks) + " " + KTUNE_CLI + " ";
}

using Winners = std::map<std::string, std::pair<std::string, double>>;  // tuning key -> (config, time)

Winners winners(const std::filesystem::path& db) {
  auto run = run_ktune("export --db " + db.string());
  EXPECT_EQ(run.status, 0) << run.output;
  const auto table = nlohmann::json::parse(run.output);
  Winners out;
  for (const auto& e : table["entries"]) out[e["tuning_key"].get<std::string>()] = {e["config"].dump(), e["time_ns"].get<double>()};
  return out;
}

Winners one_host_winners(const ScratchDir& dir) {
  const auto db = dir / "one-host.db";
  auto run = run_ktune(kReplayedSweep + " --db " + db.string());
  EXPECT_EQ(run.status, 0) << run.output;
  return winners(db);
}

class MpiSweep : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!has_mpirun()) GTEST_SKIP() << "mpirun is not installed (tools/install-deps.sh installs openmpi-bin); the MPI sweep is not tested";
    if (!KTUNE_HAVE_MPI) GTEST_SKIP() << "this ktune was built without MPI (libopenmpi-dev not found at configure time)";
  }
  ScratchDir dir{"ktune-mpi-sweep"};
};

TEST_F(MpiSweep, ThreeRanksFillOneStoreWithTheOneHostWinners) {
  const auto db = dir / "merged.db";
  auto run = run_shell(mpirun(dir, 3) + kReplayedSweep + " --simulated-cost 1 --db " + db.string());
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("on 3 MPI ranks"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("8 runs: 8 tuned now, 0 done earlier, 0 failed"), std::string::npos) << run.output;
  // Every rank tuned something: the work was handed out, not done by rank 0 alone.
  auto json = run_shell(mpirun(dir, 3) + kReplayedSweep + " --force --simulated-cost 1 --json --db " + (dir / "forced.db").string() +
                        " 2>/dev/null");
  ASSERT_EQ(json.status, 0) << json.output;
  std::set<int> lanes;
  const auto document = nlohmann::json::parse(json.output);
  for (const auto& r : document["runs"]) lanes.insert(r["lane"].get<int>());
  EXPECT_EQ(lanes, (std::set<int>{0, 1, 2})) << json.output;
  const auto one_host = one_host_winners(dir);
  ASSERT_EQ(one_host.size(), 8u);
  EXPECT_EQ(winners(db), one_host);
  // The ranks' own stores are gone; only DB (and SQLite's files beside it) remain.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path))
    EXPECT_EQ(entry.path().filename().string().find("ktune-mpi-rank"), std::string::npos) << entry.path();

  // Run again: everything is answered from DB, wherever it lands.
  auto again = run_shell(mpirun(dir, 3) + kReplayedSweep + " --db " + db.string());
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("8 runs: 0 tuned now, 8 done earlier"), std::string::npos) << again.output;
}

TEST_F(MpiSweep, AKilledRankLosesNothingCommittedAndTheRerunFinishes) {
  const auto db = dir / "merged.db";
  // Rank 2 exits without a word right after reporting its first run; 5 ms per evaluation keeps
  // the other runs (150-230 evaluations each) from all finishing first.
  auto killed = run_shell(mpirun(dir, 3, "KTUNE_TEST_MPI_EXIT_AFTER_FIRST_RUN=2") + kReplayedSweep + " --simulated-cost 5 --db " +
                          db.string());
  EXPECT_NE(killed.status, 0) << killed.output;
  const Winners committed = std::filesystem::exists(db) ? winners(db) : Winners{};
  ASSERT_LT(committed.size(), 8u) << "the job was killed before the sweep could finish\n" << killed.output;

  auto rerun = run_shell(mpirun(dir, 3) + kReplayedSweep + " --db " + db.string());
  ASSERT_EQ(rerun.status, 0) << rerun.output;
  const std::string done = std::to_string(8 - committed.size()) + " tuned now, " + std::to_string(committed.size()) + " done earlier";
  EXPECT_NE(rerun.output.find("8 runs: " + done), std::string::npos) << rerun.output;
  const Winners final_winners = winners(db);
  for (const auto& [key, winner] : committed) EXPECT_EQ(final_winners.at(key), winner) << key;
  EXPECT_EQ(final_winners, one_host_winners(dir));
}

TEST_F(MpiSweep, ShardsAndMpiCombine) {
  // A job array of MPI jobs: each takes its share, ranks spread it.
  const auto db = dir / "shard.db";
  auto run = run_shell(mpirun(dir, 2) + kReplayedSweep + " --shard 1/2 --db " + db.string());
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("4 runs: 4 tuned now"), std::string::npos) << run.output;
  EXPECT_EQ(winners(db).size(), 4u);
}

}  // namespace
