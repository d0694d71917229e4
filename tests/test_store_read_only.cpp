// Issue 14, "Unavailable": commands that only read (show, export, lookup, doctor --store) open the
// store read-only. They must not switch it to WAL or change a byte of it, and a store on a
// read-only file in a read-only folder (a table shipped on read-only media) must be readable.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/helpers/run_ktune.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace fs = std::filesystem;
using ktune::testing::run_shell;
using ktune::testing::ScratchDir;

namespace {

const std::string kCli = KTUNE_CLI;
const std::string kSpec = std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json";
// A store in rollback-journal mode, as SQLite tools and older ktune versions leave it.
const std::string kRollbackStore = std::string(KTUNE_SOURCE_DIR) + "/tests/data/h100-sgemm.db";

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> reading_commands(const fs::path& db) {
  const std::string d = " --db '" + db.string() + "'";
  return {"show" + d,
          "show --json" + d,
          "export" + d,
          "lookup " + kSpec + " --size M=1024,N=1024,K=1024 --device 'NVIDIA H100 80GB HBM3' --arch sm_90" + d,
          "lookup " + kSpec + " --size M=4096,N=4096,K=4096 --device 'NVIDIA H100 PCIe' --arch sm_90" + d,
          "doctor --store '" + db.string() + "'"};
}

// As root, permissions do not stop a write: the read-only case runs as the unprivileged "nobody".
std::string as_unprivileged() { return ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : ""; }

}  // namespace

TEST(StoreReadOnly, ReadingCommandsLeaveTheFileAndItsFolderUnchanged) {
  ScratchDir dir("ktune-readonly");
  const fs::path db = dir / "h100.db";
  fs::copy_file(kRollbackStore, db);
  const std::string before = read_bytes(db);
  for (const auto& command : reading_commands(db)) {
    SCOPED_TRACE(command);
    auto run = run_shell(kCli + " " + command + " > /dev/null");
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_EQ(read_bytes(db), before) << "a reading command changed the store (journal mode switched?)";
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir.path)) files.push_back(entry.path().filename().string());
    EXPECT_EQ(files, std::vector<std::string>{"h100.db"}) << "a reading command left -wal/-shm files";
  }
}

TEST(StoreReadOnly, AStoreOnReadOnlyMediaIsReadable) {
  ScratchDir dir("ktune-readonly");
  const fs::path media = dir / "media";
  fs::create_directory(media);
  const fs::path db = media / "h100.db";
  fs::copy_file(kRollbackStore, db);
  // A WAL-mode store too: its readers normally need to create a -shm file next to it.
  const fs::path wal_db = media / "wal.db";
  ASSERT_EQ(run_shell(kCli + " export --db " + db.string() + " -o " + (dir / "t.json").string()).status, 0);
  ASSERT_EQ(run_shell(kCli + " import --db " + wal_db.string() + " " + (dir / "t.json").string()).status, 0);
  ::chmod(dir.path.c_str(), 0755);
  ::chmod(db.c_str(), 0444);
  ::chmod(wal_db.c_str(), 0444);
  ::chmod(media.c_str(), 0555);
  int cases = 0;
  for (const fs::path& store : {db, wal_db}) {
    const std::string before = read_bytes(store);
    for (const auto& command : reading_commands(store)) {
      SCOPED_TRACE(command);
      ++cases;
      auto run = run_shell(as_unprivileged() + kCli + " " + command + " > /dev/null");
      EXPECT_EQ(run.status, 0) << run.output;
      EXPECT_EQ(run.output.find("readonly database"), std::string::npos) << run.output;
      EXPECT_EQ(read_bytes(store), before);
    }
  }
  // Writing is refused with one line, and nothing changes.
  auto import = run_shell(as_unprivileged() + kCli + " import --db " + db.string() + " " + (dir / "t.json").string());
  EXPECT_NE(import.status, 0);
  ::chmod(media.c_str(), 0755);
  std::printf("[hostile cases] read-only media: %d\n", cases);
}
