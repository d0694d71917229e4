// Sweep files (engine/sweep.hpp, docs/sweep.md) and `ktune sweep` on a machine without a GPU:
// the parser accepts the example sweep and names the field of every mistake; `--check` prints the
// plan; tuning without a GPU is one line and exit code 3, after the whole file was validated.
#include <gtest/gtest.h>

#include "tests/helpers/run_ktune.hpp"
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/sweep.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kExamples = fs::path(KTUNE_SOURCE_DIR) / "examples";

using Run = ktune::testing::CliRun;
Run ktune(const std::string& args) { return ktune::testing::run_ktune(args); }
using ktune::testing::has_gpu_driver;

std::size_t lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

class SweepFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("ktune-test-sweep-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)));
    fs::create_directories(dir_ / "specs");
    // A spec next to the sweep file, so relative "spec" paths are exercised.
    fs::copy_file(kExamples / "sgemm.json", dir_ / "specs" / "sgemm.json");
    fs::copy_file(kExamples / "sgemm.cu", dir_ / "specs" / "sgemm.cu");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path write(const std::string& name, const std::string& text) {
    fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }

  // The error message of loading `text` as a sweep file; fails the test if it loads.
  std::string error_of(const std::string& text) {
    fs::path path = write("bad.json", text);
    auto plan = ktune::load_sweep(path);
    if (plan) {
      ADD_FAILURE() << "accepted: " << text;
      return "";
    }
    const std::string& message = plan.error().message;
    EXPECT_EQ(message.rfind(path.string() + ": ", 0), 0u) << "not prefixed with the file: " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "not one line: " << message;
    return message;
  }

  fs::path dir_;
};

const std::string kReduce = "\"" + (kExamples / "reduce_rows.json").string() + "\"";

TEST(Sweep, LoadsTheExampleSweep) {
  auto plan = ktune::load_sweep(kExamples / "sweeps" / "examples.json");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->version, 1);
  ASSERT_EQ(plan->items.size(), 3u);
  EXPECT_EQ(plan->run_count(), 7u);
  EXPECT_EQ(plan->items[0].spec.name, "sgemm_tiled");
  EXPECT_EQ(plan->items[0].spec_path, kExamples / "sgemm.json");
  ASSERT_EQ(plan->items[0].sizes.size(), 3u);
  EXPECT_EQ(plan->items[0].sizes[0], (ktune::Sizes{{"M", 1024}, {"N", 1024}, {"K", 1024}}));
  EXPECT_EQ(plan->items[1].spec.name, "softmax_rows");
  EXPECT_EQ(plan->items[1].sizes.size(), 2u);
  EXPECT_EQ(plan->items[2].spec.name, "reduce_rows");
  EXPECT_EQ(plan->items[2].sizes.size(), 2u);
  EXPECT_EQ(plan->items[0].strategy, "coordesc");
  EXPECT_EQ(plan->items[2].strategy, "exhaustive");
}

TEST_F(SweepFiles, RelativeSpecsDefaultsAndSizeOrder) {
  auto path = write("sweep.json", R"({
    "ktune_sweep": 1, "strategy": "random", "budget": 20,
    "items": [
      {"spec": "specs/sgemm.json", "sizes": [{"K": 64, "N": 32, "M": 16}]},
      {"spec": )" + kReduce + R"(, "sizes": [{"M": 8, "N": 8}], "strategy": "coordinate_descent", "budget": 0}
    ]})");
  auto plan = ktune::load_sweep(path);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->path, path);
  EXPECT_EQ(plan->strategy, "random");
  EXPECT_EQ(plan->budget, 20u);
  ASSERT_EQ(plan->items.size(), 2u);
  EXPECT_EQ(plan->items[0].spec_field, "specs/sgemm.json");
  EXPECT_EQ(plan->items[0].spec_path, dir_ / "specs" / "sgemm.json");
  // Sizes come out in the spec's order, whatever order the file used.
  EXPECT_EQ(plan->items[0].sizes[0], (ktune::Sizes{{"M", 16}, {"N", 32}, {"K", 64}}));
  EXPECT_EQ(plan->items[0].strategy, "random");  // the top-level default
  EXPECT_EQ(plan->items[0].budget, 20u);
  EXPECT_EQ(plan->items[1].strategy, "coordesc");  // canonical name of the item's own
  EXPECT_EQ(plan->items[1].budget, 0u);            // 0: no limit, overriding the default
  EXPECT_EQ(plan->run_count(), 2u);
}

// Every mistake is one error naming the field path.
TEST_F(SweepFiles, EveryMistakeNamesTheField) {
  const std::string item = R"({"spec": "specs/sgemm.json", "sizes": [{"M": 64, "N": 64, "K": 64}]})";
  auto sweep = [](const std::string& items) { return R"({"ktune_sweep": 1, "items": [)" + items + "]}"; };
  struct Case {
    std::string text;
    std::string expected;
  };
  const Case cases[] = {
      {"{\"ktune_sweep\": 1, \"items\": [", "not valid JSON at line 1"},
      {R"({"items": [)" + item + "]}", "ktune_sweep: missing required field"},
      {R"({"ktune_sweep": 2, "items": [)" + item + "]}", "ktune_sweep: version 2 is not supported"},
      {R"({"ktune_sweep": 1, "itmes": [)" + item + "]}", "itmes: unknown field (did you mean \"items\"?)"},
      {R"({"ktune_sweep": 1})", "items: missing required field"},
      {R"({"ktune_sweep": 1, "items": []})", "items: is empty"},
      {sweep(R"({"spec": "specs/sgemm.json", "sizes": [{"M": 64, "N": 64, "K": 64}], "strategie": "random"})"),
       "items[0].strategie: unknown field (did you mean \"strategy\"?)"},
      {sweep(item + R"(, {"spec": "specs/nope.json", "sizes": [{"M": 1}]})"), "items[1].spec: no such spec file"},
      {sweep(R"({"sizes": [{"M": 64, "N": 64, "K": 64}]})"), "items[0].spec: missing required field"},
      {sweep(R"({"spec": "specs/sgemm.json", "sizes": [{"M": 64, "N": 64, "Q": 64}]})"),
       "items[0].sizes[0]: unknown size Q for kernel sgemm_tiled"},
      {sweep(R"({"spec": "specs/sgemm.json", "sizes": [{"M": 64, "N": 64, "K": 64}, {"M": 64, "N": 64}]})"),
       "items[0].sizes[1]: missing size K for kernel sgemm_tiled"},
      {sweep(R"({"spec": "specs/sgemm.json", "sizes": [{"M": 64, "N": "64", "K": 64}]})"),
       "items[0].sizes[0].N: must be an integer, got a string"},
      {sweep(R"({"spec": "specs/sgemm.json", "sizes": [{"M": 64, "N": -1, "K": 64}]})"), "items[0].sizes[0]: size N is negative"},
      {sweep(R"({"spec": "specs/sgemm.json", "sizes": []})"), "items[0].sizes: is empty"},
      {sweep(item + ", " + R"({"spec": "./specs/sgemm.json", "sizes": [{"K": 64, "N": 64, "M": 64}]})"),
       "items[1].sizes[0]: duplicate: sgemm_tiled at M=64 N=64 K=64 is also items[0].sizes[0]"},
      {sweep(R"({"spec": "specs/sgemm.json", "sizes": [{"M": 64, "N": 64, "K": 64}], "strategy": "annealing"})"),
       "items[0].strategy: unknown strategy \"annealing\""},
      {R"({"ktune_sweep": 1, "budget": -5, "items": [)" + item + "]}", "budget: must be a non-negative integer"},
      {sweep(R"({"spec": "specs/sgemm.json", "sizes": [{"M": 64, "N": 64, "K": 64}], "budget": 1.5})"),
       "items[0].budget: must be a non-negative integer"},
      {sweep(R"("sgemm.json")"), "items[0]: must be an object"},
      {R"({"ktune_sweep": 1, "ktune_sweep": 1, "items": [)" + item + "]}", "ktune_sweep: duplicate key in the JSON"},
      {sweep(R"({"spec": "specs/broken.json", "sizes": [{"M": 1}]})"), "items[0].spec: "},
  };
  write("specs/broken.json", R"({"ktune_spec": 1, "name": "broken", "paramz": {}})");
  for (const auto& c : cases) {
    std::string message = error_of(c.text);
    EXPECT_NE(message.find(c.expected), std::string::npos) << "expected \"" << c.expected << "\" in: " << message;
  }
  // A broken spec inside a sweep: the spec parser's own message (its file and field) follows the item's path.
  std::string broken = error_of(sweep(R"({"spec": "specs/broken.json", "sizes": [{"M": 1}]})"));
  EXPECT_NE(broken.find("broken.json: paramz: unknown field (did you mean \"params\"?)"), std::string::npos) << broken;
}

TEST_F(SweepFiles, MissingSweepFile) {
  auto plan = ktune::load_sweep(dir_ / "absent.json");
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, ktune::Errc::not_found);
  EXPECT_NE(plan.error().message.find("absent.json: no such sweep file"), std::string::npos);
}

TEST(SweepCli, CheckPrintsThePlan) {
  auto run = ktune("sweep " + (kExamples / "sweeps" / "examples.json").string() + " --check");
  ASSERT_EQ(run.status, 0) << run.output;
  for (const char* expected : {"(ktune_sweep 1): 3 items, 7 runs", "[1] sgemm_tiled (", "[2] softmax_rows (", "[3] reduce_rows (",
                               "strategy coordesc, no budget", "strategy exhaustive, no budget", "M=1024 N=1024 K=1024",
                               "M=4096 N=4096 K=4096", "M=16384 N=1000", "M=65536 N=256", "valid configurations (of 243)",
                               "ok    7 runs"})
    EXPECT_NE(run.output.find(expected), std::string::npos) << expected << " missing in:\n" << run.output;
  EXPECT_EQ(lines(run.output), 1u + 3u + 7u + 1u) << run.output;

  auto json = ktune("sweep " + (kExamples / "sweeps" / "examples.json").string() + " --check --json");
  ASSERT_EQ(json.status, 0) << json.output;
  EXPECT_NE(json.output.find("\"runs\": 7"), std::string::npos) << json.output;
  EXPECT_NE(json.output.find("\"ok\": true"), std::string::npos) << json.output;
}

TEST_F(SweepFiles, CliReportsAMistakeInOneLineBeforeLookingForAGpu) {
  auto path = write("sweep.json", R"({"ktune_sweep": 1, "items": [
      {"spec": "specs/sgemm.json", "sizes": [{"M": 64, "N": 64, "K": 64}]},
      {"spec": "specs/sgemm.json", "sizes": [{"M": 64, "N": 64, "KK": 64}]}]})");
  for (const char* flags : {" --check", ""}) {
    auto run = ktune("sweep " + path.string() + flags + " --db " + (dir_ / "store.db").string());
    EXPECT_EQ(run.status, 1) << run.output;
    EXPECT_EQ(run.output.rfind("ktune: error: " + path.string() + ": items[1].sizes[0]: unknown size KK", 0), 0u) << run.output;
    EXPECT_EQ(lines(run.output), 1u) << run.output;
  }
}

TEST_F(SweepFiles, WithoutAGpuItIsOneLineAndExitCode3) {
  if (has_gpu_driver()) GTEST_SKIP() << "a GPU is present; the no-GPU path is not reachable";
  auto run = ktune("sweep " + (kExamples / "sweeps" / "examples.json").string() + " --db " + (dir_ / "store.db").string());
  EXPECT_EQ(run.status, 3) << run.output;
  EXPECT_EQ(run.output.rfind("ktune: error: no GPU to tune on (", 0), 0u) << run.output;
  EXPECT_NE(run.output.find("ktune sweep --check"), std::string::npos) << run.output;
  EXPECT_EQ(lines(run.output), 1u) << run.output;
}

TEST(SweepCli, HelpListsTheOptions) {
  auto run = ktune("sweep --help");
  EXPECT_EQ(run.status, 0) << run.output;
  for (const char* option : {"--check", "--gpus", "--force", "--json", "--db", "--workers"})
    EXPECT_NE(run.output.find(option), std::string::npos) << option;
}

}  // namespace
