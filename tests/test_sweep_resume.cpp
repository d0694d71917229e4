// A tuning session SIGKILLed in the middle resumes on rerun with nothing evaluated twice: every
// evaluation it finished was committed before it was reported, so the rerun answers all of them
// from the store and runs only the rest, and reaches the answer an uninterrupted run reaches.
// The session runs in a real child process (tests/helpers/tuning_child.cpp) on real recorded H100
// measurements (the replay evaluator) with a real store file; `ktune sweep` needs a GPU, so the
// CLI version of this test is tests/test_gpu_sweep_resume.cpp.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "tests/helpers/replayed_sgemm.hpp"
#include "tests/helpers/store_test_support.hpp"

namespace {

using namespace ktune;
using store::testing::read_file;
using store::testing::ScratchDir;
using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

struct ChildRun {
  bool killed = false;  // died of SIGKILL
  int exit_code = -1;
  std::vector<std::string> evaluated;        // the child's log: one configuration per evaluation
  std::map<std::string, std::string> facts;  // "evaluated", "from_store", "best", "best_ns"
  std::string err;
};

class Child {
 public:
  // Starts tuning_child; stdout and stderr go to files in `dir`.
  Child(const ScratchDir& dir, const std::string& name, const std::filesystem::path& store, const std::string& strategy,
        long kill_after, long delay_ms = 0)
      : log_(dir / (name + ".log")), out_(dir / (name + ".out")), err_(dir / (name + ".err")) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> argv{KTUNE_TUNING_CHILD,         store.string(), strategy,
                                  std::to_string(kill_after), log_.string(),  std::to_string(delay_ms)};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  std::size_t logged() const { return lines_of(read_file(log_)).size(); }
  void kill() const { ::kill(pid_, SIGKILL); }

  ChildRun wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    ChildRun run;
    run.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.evaluated = lines_of(read_file(log_));
    for (const auto& line : lines_of(read_file(out_))) {
      const auto space = line.find(' ');
      run.facts[line.substr(0, space)] = line.substr(space + 1);
    }
    run.err = read_file(err_);
    return run;
  }

 private:
  std::filesystem::path log_, out_, err_;
  pid_t pid_ = -1;
};

ChildRun run_child(const ScratchDir& dir, const std::string& name, const std::filesystem::path& store,
                   const std::string& strategy, long kill_after) {
  Child child(dir, name, store, strategy, kill_after);
  EXPECT_TRUE(child.started());
  return child.wait();
}

// What the same session finds when nothing interrupts it (in this process, a fresh store).
struct Uninterrupted {
  std::set<std::string> evaluated;
  TuneReport report;
};

Uninterrupted uninterrupted(const ScratchDir& dir, const std::string& strategy_name) {
  ktune::testing::ReplayedSgemm session;
  auto db = store::Store::open(dir / "uninterrupted.db").value_or_throw();
  auto strategy = session.strategy(strategy_name);
  Uninterrupted out;
  TuneHooks hooks;
  hooks.on_evaluation = [&](const Evaluation& e) { out.evaluated.insert(format_named(e.measurement.config)); };
  auto ledger = MeasurementLedger::open(session.question, &db).value_or_throw();
  out.report = TuningSession(session.question, session.space, *strategy, *session.evaluator, ledger, {}, hooks).run().value_or_throw();
  return out;
}

std::string tuning_key() {
  static const ktune::testing::ReplayedSgemm session;
  return session.question.tuning_record().tuning_key;
}

// Configurations of the stored measurements, as the child logs them.
std::vector<std::string> stored_configs(const std::filesystem::path& db) {
  auto store = store::Store::open(db).value_or_throw();
  std::vector<std::string> out;
  for (const auto& m : store.measurements_for(tuning_key()).value_or_throw()) out.push_back(format_named(m.config));
  return out;
}

// The checks every interrupted-then-resumed run must pass.
void expect_resumed_without_repeats(const ChildRun& first, const ChildRun& second, const Uninterrupted& reference,
                                    std::size_t stored_at_kill, const std::filesystem::path& db) {
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const std::set<std::string> a(first.evaluated.begin(), first.evaluated.end());
  const std::set<std::string> b(second.evaluated.begin(), second.evaluated.end());
  EXPECT_EQ(a.size(), first.evaluated.size()) << "the killed run evaluated a configuration twice";
  EXPECT_EQ(b.size(), second.evaluated.size()) << "the rerun evaluated a configuration twice";
  for (const auto& config : b) EXPECT_FALSE(a.contains(config)) << config << " was evaluated again after the kill";
  // The rerun answered from the store exactly what the killed run had committed...
  EXPECT_EQ(std::stoul(second.facts.at("from_store")), stored_at_kill);
  EXPECT_EQ(std::stoul(second.facts.at("evaluated")), second.evaluated.size());
  // ...and together the two runs did exactly the work of one uninterrupted run, with its answer.
  std::set<std::string> both = a;
  both.insert(b.begin(), b.end());
  EXPECT_EQ(both, reference.evaluated);
  EXPECT_EQ(second.facts.at("best"), format_named(reference.report.best));
  // The store holds each evaluated configuration once.
  const auto rows = stored_configs(db);
  const std::set<std::string> distinct(rows.begin(), rows.end());
  EXPECT_EQ(rows.size(), distinct.size()) << "a configuration was stored twice";
  EXPECT_EQ(distinct, reference.evaluated);
}

TEST(SweepResume, KilledExhaustiveSessionResumesWithNothingEvaluatedTwice) {
  ScratchDir dir;
  const auto db = dir / "store.db";
  constexpr long kKillAfter = 37;  // not a multiple of any batch size a persistence scheme might use
  const ChildRun first = run_child(dir, "first", db, "exhaustive", kKillAfter);
  ASSERT_TRUE(first.killed) << "exit " << first.exit_code << ": " << first.err;
  ASSERT_EQ(first.evaluated.size(), static_cast<std::size_t>(kKillAfter));
  // Everything the killed run reported is in the store, and nothing else.
  const auto at_kill = stored_configs(db);
  EXPECT_EQ(std::set<std::string>(at_kill.begin(), at_kill.end()),
            std::set<std::string>(first.evaluated.begin(), first.evaluated.end()));

  const ChildRun second = run_child(dir, "second", db, "exhaustive", 0);
  const Uninterrupted reference = uninterrupted(dir, "exhaustive");
  ASSERT_EQ(reference.evaluated.size(), 228u);
  EXPECT_EQ(second.evaluated.size(), 228u - kKillAfter);
  expect_resumed_without_repeats(first, second, reference, at_kill.size(), db);
}

TEST(SweepResume, KilledCoordinateDescentFollowsTheSamePathOnRerun) {
  // Coordinate descent decides each pass from the last one's times: a resumed run must see the
  // stored times and walk the same path as a run that was never interrupted.
  ScratchDir dir;
  const auto db = dir / "store.db";
  constexpr long kKillAfter = 11;
  const ChildRun first = run_child(dir, "first", db, "coordesc", kKillAfter);
  ASSERT_TRUE(first.killed) << "exit " << first.exit_code << ": " << first.err;
  const std::size_t stored = stored_configs(db).size();
  EXPECT_EQ(stored, static_cast<std::size_t>(kKillAfter));
  const ChildRun second = run_child(dir, "second", db, "coordesc", 0);
  const Uninterrupted reference = uninterrupted(dir, "coordesc");
  ASSERT_GT(reference.evaluated.size(), static_cast<std::size_t>(kKillAfter));
  expect_resumed_without_repeats(first, second, reference, stored, db);
}

TEST(SweepResume, SigkillFromOutsideAtAnArbitraryMomentLosesNoFinishedEvaluation) {
  // The kill comes from another process while the session is busy (each evaluation takes 4 ms,
  // standing in for GPU time), as when a machine is lost: whatever the child had reported must be
  // in the store, and the rerun must not run any of it again.
  ScratchDir dir;
  const auto db = dir / "store.db";
  Child child(dir, "first", db, "exhaustive", 0, /*delay_ms=*/4);
  ASSERT_TRUE(child.started());
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (child.logged() < 50 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(2ms);
  child.kill();
  const ChildRun first = child.wait();
  ASSERT_TRUE(first.killed) << "the child finished before the kill: " << first.err;
  ASSERT_GE(first.evaluated.size(), 50u);
  ASSERT_LT(first.evaluated.size(), 228u);
  const auto at_kill = stored_configs(db);
  const std::set<std::string> stored(at_kill.begin(), at_kill.end());
  for (const auto& config : first.evaluated)
    EXPECT_TRUE(stored.contains(config)) << config << " was reported but not stored";
  // At most the one evaluation between its commit and its log line is stored but not logged.
  EXPECT_LE(stored.size(), first.evaluated.size() + 1);

  const ChildRun second = run_child(dir, "second", db, "exhaustive", 0);
  const Uninterrupted reference = uninterrupted(dir, "exhaustive");
  ChildRun logged_first = first;
  // A configuration committed but not yet logged at the kill counts as evaluated by the first run.
  for (const auto& config : stored)
    if (std::find(first.evaluated.begin(), first.evaluated.end(), config) == first.evaluated.end())
      logged_first.evaluated.push_back(config);
  expect_resumed_without_repeats(logged_first, second, reference, stored.size(), db);
}

}  // namespace
