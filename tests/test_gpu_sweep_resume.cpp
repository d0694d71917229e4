// `ktune sweep` SIGKILLed in the middle of a run, then started again with the same command: the
// rerun says it resumed ("N + M stored"), answers from the store every configuration the killed
// sweep measured, and no configuration is measured twice — checked in the store's measurements.
// The CPU version (a replayed session in a child process) is tests/test_sweep_resume.cpp.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "engine/cuda/driver_api.hpp"
#include "engine/model/spec.hpp"
#include "tests/helpers/scratch_dir.hpp"
#include "tuner/search_space.hpp"

extern char** environ;

namespace {

using namespace ktune;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct ScratchDir : ktune::testing::ScratchDir {
  ScratchDir() : ktune::testing::ScratchDir("ktune-gpu-sweep-resume") {}
};

// Starts `ktune ARGS...` with stdout and stderr in files; XDG_CACHE_HOME points into the scratch
// folder so the cubin cache starts cold and goes away with it.
pid_t start_ktune(const std::vector<std::string>& args, const fs::path& out, const fs::path& err,
                  const fs::path& cache) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv{KTUNE_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> argp;
  for (auto& a : argv) argp.push_back(a.data());
  argp.push_back(nullptr);
  std::vector<std::string> env{"XDG_CACHE_HOME=" + cache.string()};
  for (char** e = environ; *e != nullptr; ++e)
    if (std::string(*e).rfind("XDG_CACHE_HOME=", 0) != 0 && std::string(*e).rfind("KTUNE_DB=", 0) != 0)
      env.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, argp[0], &actions, nullptr, argp.data(), envp.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// Rows per configuration in the store's measurements table (one tuning in this store), read with
// plain SQLite so a store that is being written is read the way any other reader would.
std::map<std::string, int> rows_per_config(const fs::path& db) {
  std::map<std::string, int> rows;
  if (!fs::exists(db)) return rows;
  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(handle, 5000);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(handle, "SELECT config, count(*) FROM measurements GROUP BY config", -1, &stmt, nullptr) ==
        SQLITE_OK)
      while (sqlite3_step(stmt) == SQLITE_ROW)
        rows[reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))] = sqlite3_column_int(stmt, 1);
    sqlite3_finalize(stmt);
  }
  sqlite3_close(handle);
  return rows;
}

TEST(GpuSweepResume, AKilledSweepResumesWithNothingMeasuredTwice) {
  if (auto devices = cuda::list_devices(); !devices || devices->empty())
    GTEST_SKIP() << "no GPU here: " << (devices ? std::string("no device") : devices.error().message);
  ScratchDir dir;
  const fs::path db = dir / "store.db";
  const fs::path sweep = dir / "sweep.json";
  const std::string spec_path = std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json";
  std::ofstream(sweep) << R"({"ktune_sweep": 1, "strategy": "exhaustive", "items": [{"spec": ")" << spec_path
                       << R"(", "sizes": [{"M": 1024, "N": 1024, "K": 1024}]}]})";
  const KernelSpec spec = KernelSpec::from_file(spec_path).value_or_throw();
  const Sizes sizes{{"M", 1024}, {"N", 1024}, {"K", 1024}};
  const std::size_t valid = SearchSpace::build(spec.space, &sizes).value_or_throw().valid_count();
  const std::vector<std::string> args{"sweep", sweep.string(), "--db", db.string(), "--gpus", "1"};

  // First run: killed once a good part of the space is measured, in the middle of the run.
  const pid_t first = start_ktune(args, dir / "first.out", dir / "first.err", dir / "cache");
  ASSERT_GT(first, 0);
  const std::size_t kill_at = std::min<std::size_t>(40, valid / 3);
  const auto deadline = std::chrono::steady_clock::now() + 40s;
  std::size_t seen = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    seen = rows_per_config(db).size();
    if (seen >= kill_at) break;
    std::this_thread::sleep_for(5ms);
  }
  ::kill(first, SIGKILL);
  int status = 0;
  ::waitpid(first, &status, 0);
  ASSERT_GE(seen, kill_at) << "the sweep measured too little in 40 s: " << read_text(dir / "first.err");
  ASSERT_TRUE(WIFSIGNALED(status)) << "the sweep finished before it could be killed";
  const std::map<std::string, int> at_kill = rows_per_config(db);
  ASSERT_LT(at_kill.size(), valid) << "the sweep finished before the kill";
  for (const auto& [config, n] : at_kill) EXPECT_EQ(n, 1) << config << " was measured twice before the kill";

  // The same command again: resumes, and finishes.
  const pid_t second = start_ktune(
      [&] {
        auto a = args;
        a.push_back("--json");
        return a;
      }(),
      dir / "second.out", dir / "second.err", dir / "cache");
  ASSERT_GT(second, 0);
  ::waitpid(second, &status, 0);
  const std::string err = read_text(dir / "second.err");
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << err << read_text(dir / "second.out");
  const auto report = nlohmann::json::parse(read_text(dir / "second.out"));
  const auto& run = report.at("runs").at(0);
  EXPECT_EQ(run.at("status"), "tuned_now");
  // Everything measured before the kill was answered from the store; the spec default is measured
  // again as the verification reference (outputs must come from this GPU session), not stored again.
  const std::size_t reference_before = at_kill.count(format_named(spec.default_config));
  EXPECT_EQ(run.at("from_store").get<std::size_t>(), at_kill.size() - reference_before) << run.dump();
  EXPECT_NE(err.find("+ " + std::to_string(at_kill.size() - reference_before) + " stored"), std::string::npos) << err;

  // In the store: every valid configuration once; only the rerun's finalists (re-measured side by
  // side, history kept) twice, and none of them was measured before the kill.
  const std::map<std::string, int> final_rows = rows_per_config(db);
  EXPECT_EQ(final_rows.size(), valid);
  std::size_t twice = 0;
  for (const auto& [config, n] : final_rows) {
    if (n == 1) continue;
    ++twice;
    EXPECT_EQ(n, 2) << config;
    EXPECT_FALSE(at_kill.contains(config)) << config << " was measured before the kill and again after it";
  }
  EXPECT_LE(twice, 3u) << "more re-measured configurations than finalists";
  std::printf("killed with %zu of %zu configurations stored; the rerun answered %zu from the store and measured %zu\n",
              at_kill.size(), valid, run.at("from_store").get<std::size_t>(), run.at("evaluated").get<std::size_t>());
}

}  // namespace
