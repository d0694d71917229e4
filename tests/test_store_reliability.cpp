// The store under real processes: 8 writers at once lose nothing and never surface "database is
// locked"; a writer SIGKILLed inside a batch leaves a sound store with every committed batch and
// none of the partial one.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <cstdio>
#include <set>
#include <tuple>

#include "store/store.hpp"
#include "tests/helpers/store_test_support.hpp"

namespace ktune::store {
namespace {

using testing::ScratchDir;
using testing::integrity_check;

// (writer, batch, index) of every measurement in the store, read back through the Store API.
std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> recorded(Store& store, int writers) {
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> out;
  for (int w = 0; w < writers; ++w)
    for (const auto& m : store.measurements_for(xxh3_128("writer " + std::to_string(w)).hex()).value_or_throw())
      out.emplace(*find_value(m.config, "W"), *find_value(m.config, "B"), *find_value(m.config, "I"));
  return out;
}

TEST(StoreReliability, EightConcurrentWriterProcessesLoseNothing) {
  ScratchDir dir;
  const auto db = dir / "shared.db";  // created by the writers themselves, all at once
  constexpr int kWriters = 8, kBatches = 25, kPerBatch = 40;
  std::vector<pid_t> pids;
  std::vector<std::filesystem::path> errs;
  for (int w = 0; w < kWriters; ++w) {
    errs.push_back(dir / ("writer" + std::to_string(w) + ".err"));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, errs.back().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> argv{KTUNE_STORE_WRITER, db.string(), std::to_string(w), std::to_string(kBatches),
                                  std::to_string(kPerBatch)};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    pids.push_back(pid);
  }
  for (int w = 0; w < kWriters; ++w) {
    int status = 0;
    ASSERT_EQ(waitpid(pids[static_cast<std::size_t>(w)], &status, 0), pids[static_cast<std::size_t>(w)]);
    const std::string err = testing::read_file(errs[static_cast<std::size_t>(w)]);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer " << w << ": " << err;
    EXPECT_EQ(err.find("locked"), std::string::npos) << err;
  }
  EXPECT_EQ(integrity_check(db), "ok");
  auto store = Store::open(db).value_or_throw();
  EXPECT_EQ(store.stats().value_or_throw().measurements, kWriters * kBatches * kPerBatch);
  const auto rows = recorded(store, kWriters);
  EXPECT_EQ(rows.size(), static_cast<std::size_t>(kWriters * kBatches * kPerBatch));
  for (int w = 0; w < kWriters; ++w)
    for (int b = 0; b < kBatches; ++b)
      for (int i = 0; i < kPerBatch; ++i) ASSERT_TRUE(rows.contains({w, b, i})) << w << "/" << b << "/" << i;
}

TEST(StoreReliability, WriterKilledMidBatchLeavesOnlyCommittedBatches) {
  ScratchDir dir;
  const auto db = dir / "killed.db";
  // Batches big enough that the partial one spills uncommitted pages into the WAL before the kill.
  constexpr int kCommitted = 3, kPerBatch = 20000;
  int out_pipe[2];
  ASSERT_EQ(pipe(out_pipe), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  std::vector<std::string> argv{KTUNE_STORE_WRITER, db.string(), "0", "10", std::to_string(kPerBatch),
                                std::to_string(kCommitted)};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);

  // The writer says "partial" from inside the open transaction of batch kCommitted.
  std::string said;
  char c = 0;
  while (read(out_pipe[0], &c, 1) == 1 && c != '\n') said += c;
  close(out_pipe[0]);
  ASSERT_EQ(said, "partial");
  EXPECT_GT(std::filesystem::file_size(db.string() + "-wal"), 0u);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  auto store = Store::open(db).value_or_throw();
  EXPECT_EQ(integrity_check(db), "ok");
  const auto rows = recorded(store, 1);
  EXPECT_EQ(rows.size(), static_cast<std::size_t>(kCommitted * kPerBatch));
  for (const auto& [w, b, i] : rows) EXPECT_LT(b, kCommitted);
  EXPECT_TRUE(rows.contains({0, kCommitted - 1, kPerBatch - 1}));
  // And the store takes writes again.
  const auto kernel = testing::make_kernel("after_the_crash");
  ASSERT_TRUE(store.put_kernel(kernel).ok());
  const auto tuning = testing::make_tuning(kernel, {{"N", 1}}, "NVIDIA H100 80GB HBM3");
  ASSERT_TRUE(store.put_best(testing::make_best(tuning, {{"B", 1}}, 10)).ok());
}

}  // namespace
}  // namespace ktune::store
