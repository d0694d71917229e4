// `ktune sweep --replay` and `--shard K/N` as a job array uses them, through the command line: the
// recorded sweep tuned on one host, and in three shards merged with `ktune merge`, gives the same
// lookup table (exhaustive runs on the same recorded H100 data, so the same winners).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "tests/helpers/run_ktune.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace {

using ktune::testing::run_ktune;
using ktune::testing::ScratchDir;

const std::string kRoot = KTUNE_SOURCE_DIR;
const std::string kRecording = kRoot + "/tests/data/h100-sgemm.db";
const std::string kSweep = kRoot + "/tests/data/sweeps/h100-sgemm-replay.json";

nlohmann::json run_json(const std::string& args) {
  auto run = run_ktune(args + " --json 2>/dev/null");
  EXPECT_EQ(run.status, 0) << args << "\n" << run.output;
  return nlohmann::json::parse(run.output);
}

// tuning key -> (config, time): what every production host would be served.
std::map<std::string, std::pair<std::string, double>> winners(const std::string& db) {
  auto run = run_ktune("export --db " + db);
  EXPECT_EQ(run.status, 0) << run.output;
  std::map<std::string, std::pair<std::string, double>> out;
  const auto table = nlohmann::json::parse(run.output);
  for (const auto& e : table["entries"])
    out[e["tuning_key"].get<std::string>()] = {e["config"].dump(), e["time_ns"].get<double>()};
  return out;
}

TEST(SweepShard, ThreeShardsMergedEqualOneHost) {
  ScratchDir dir("ktune-sweep-shard");
  const auto one = run_json("sweep " + kSweep + " --replay " + kRecording + " --db " + (dir / "one.db").string());
  ASSERT_EQ(one["totals"]["tuned_now"], 8);
  EXPECT_EQ(one["replay"], kRecording);

  std::set<std::string> tuned;  // item + sizes of every run some shard tuned
  std::size_t runs = 0;
  std::string sources;
  for (int k = 1; k <= 3; ++k) {
    const std::string db = (dir / ("shard-" + std::to_string(k) + ".db")).string();
    const auto shard = run_json("sweep " + kSweep + " --replay " + kRecording + " --db " + db + " --shard " +
                                std::to_string(k) + "/3");
    EXPECT_EQ(shard["shard"]["index"], k);
    EXPECT_EQ(shard["shard"]["count"], 3);
    EXPECT_EQ(shard["totals"]["failed"], 0);
    for (const auto& run : shard["runs"]) EXPECT_TRUE(tuned.insert(run["item"].dump() + run["sizes"].dump()).second) << "tuned twice";
    runs += shard["runs"].size();
    sources += db + " ";
  }
  EXPECT_EQ(runs, 8u);
  auto merge = run_ktune("merge " + sources + "--into " + (dir / "merged.db").string());
  ASSERT_EQ(merge.status, 0) << merge.output;

  const auto expected = winners((dir / "one.db").string());
  ASSERT_EQ(expected.size(), 8u);
  EXPECT_EQ(winners((dir / "merged.db").string()), expected);

  // The same shard again on another machine (a requeued task) picks the same runs, all done now.
  const auto requeued = run_json("sweep " + kSweep + " --replay " + kRecording + " --db " + (dir / "merged.db").string() +
                                 " --shard 2/3");
  EXPECT_EQ(requeued["totals"]["done_earlier"], requeued["runs"].size());
}

TEST(SweepShard, ShardAndReplayMistakesAreOneLineBeforeAnythingRuns) {
  ScratchDir dir("ktune-sweep-shard");
  const std::string db = (dir / "ktune.db").string();
  const std::string sweep = "sweep " + kSweep + " --db " + db + " ";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"--replay " + kRecording + " --shard 0/4", "--shard '0/4': K counts from 1 to N (4)"},
      {"--replay " + kRecording + " --shard 2", "--shard '2': expected K/N"},
      {"--simulated-cost 5", "--simulated-cost needs --replay RECORDED.db"},
      {"--replay " + kRecording + " --simulated-cost -1", "--simulated-cost must be at least 0 ms"},
      {"--replay " + (dir / "missing.db").string(), "--replay: no store at"},
      {"--replay " + kRecording + " --replay-device 'NVIDIA A100'", "--replay: recording '" + kRecording + "' holds no measurements taken on NVIDIA A100"}};
  for (const auto& [args, expected] : cases) {
    auto run = run_ktune(sweep + args);
    EXPECT_EQ(run.status, 1) << args << "\n" << run.output;
    EXPECT_NE(run.output.find("ktune: error: " + expected), std::string::npos) << args << "\n" << run.output;
  }
  EXPECT_FALSE(std::filesystem::exists(db)) << "no store is created for a sweep that did not start";
}

TEST(SweepShard, SimulatedCostIsPaidPerEvaluatedConfiguration) {
  // A lower bound only (a sleep lasts at least its time): 152 configurations at 2 ms each.
  ScratchDir dir("ktune-sweep-shard");
  const auto out = run_json("sweep " + kSweep + " --replay " + kRecording + " --db " + (dir / "a.db").string() +
                            " --simulated-cost 2 --shard 8/8");
  ASSERT_EQ(out["runs"].size(), 1u);
  const auto& run = out["runs"][0];
  EXPECT_EQ(run["evaluated"], 152);
  EXPECT_GE(run["sweep_wall_seconds"].get<double>(), 152 * 0.002);
}

}  // namespace
