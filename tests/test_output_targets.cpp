// Issue 14, "Lost": where `ktune export -o` may write, and that every command's output is checked.
// Every kind of target (the store itself under several names, other SQLite files, device nodes, a
// FIFO, links, folders, foreign files) is tried with the real CLI on a real store; a refused target
// is left exactly as it was and the refusal is one line. Every command that prints is run into a
// full output (/dev/full) and must fail with one line.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
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
const std::string kTable = std::string(KTUNE_SOURCE_DIR) + "/tests/data/sgemm-table.json";
const std::string kSpec = std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json";

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int line_count(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

// What a target is, to check that a refused (or special) target is still the same thing after.
struct Identity {
  bool exists = false;
  mode_t type = 0;
  ino_t inode = 0;
  std::string link;   // symlink target
  std::string bytes;  // regular files only
  friend bool operator==(const Identity&, const Identity&) = default;
};

Identity identity_of(const fs::path& path) {
  Identity id;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return id;
  id.exists = true;
  id.type = st.st_mode & S_IFMT;
  id.inode = st.st_ino;
  if (S_ISLNK(st.st_mode)) id.link = fs::read_symlink(path).string();
  if (S_ISREG(st.st_mode)) id.bytes = read_bytes(path);
  return id;
}

class OutputTargets : public ::testing::Test {
 protected:
  void SetUp() override {
    // The default store lives in this scratch folder, so "-o onto the default store" is testable.
    env_ = "env -u KTUNE_DB HOME=" + dir_.path.string() + " XDG_CACHE_HOME=" + (dir_ / "cache").string() + " ";
    default_store_ = dir_.path / "cache" / "ktune" / "ktune.db";
    db_ = dir_ / "m.db";
    ASSERT_EQ(ktune("import --db " + db_.string() + " " + kTable).status, 0);
    ASSERT_EQ(ktune("import " + kTable).status, 0);  // the default store
    ASSERT_TRUE(fs::exists(default_store_));
  }

  ktune::testing::CliRun ktune(const std::string& args) { return run_shell(env_ + kCli + " " + args); }

  ScratchDir dir_{"ktune-output"};
  std::string env_;
  fs::path db_, default_store_;
};

struct Target {
  std::string name;
  // Makes the target inside `dir` and returns the path given to -o.
  std::function<std::string(const fs::path& dir, const fs::path& db, const fs::path& default_store)> make;
  bool accepted;            // export succeeds
  std::string refusal;      // part of the one error line when refused
  bool stays_same_node;     // the node at the path is the same inode and type after (even if accepted)
};

std::vector<Target> targets() {
  auto at = [](const char* name) { return [name](const fs::path& d, const fs::path&, const fs::path&) { return (d / name).string(); }; };
  return {
      {"the store itself", [](const fs::path&, const fs::path& db, const fs::path&) { return db.string(); }, false, "it is the store", true},
      {"the store by a relative name", [](const fs::path& d, const fs::path&, const fs::path&) { return (d / "." / "m.db").string(); }, false, "it is the store", true},
      {"the default store", [](const fs::path&, const fs::path&, const fs::path& s) { return s.string(); }, false, "it is the store", true},
      {"a symbolic link to the store",
       [](const fs::path& d, const fs::path& db, const fs::path&) { fs::create_symlink(db, d / "link.db"); return (d / "link.db").string(); },
       false, "it is the store", true},
      {"a hard link to the store",
       [](const fs::path& d, const fs::path& db, const fs::path&) { fs::create_hard_link(db, d / "hard.db"); return (d / "hard.db").string(); },
       false, "it is the store", true},
      {"another SQLite database",
       [](const fs::path& d, const fs::path& db, const fs::path&) { fs::copy_file(db, d / "other.db"); return (d / "other.db").string(); },
       false, "SQLite database", true},
      {"an SQLite write-ahead log",
       [](const fs::path& d, const fs::path&, const fs::path&) {
         std::ofstream(d / "x.db-wal", std::ios::binary) << std::string("\x37\x7f\x06\x82\x00\x2d\xe2\x18", 8) << std::string(24, '\0');
         return (d / "x.db-wal").string();
       },
       false, "write-ahead log", true},
      {"a file ktune did not write",
       [](const fs::path& d, const fs::path&, const fs::path&) { std::ofstream(d / "notes.txt") << "my notes\n"; return (d / "notes.txt").string(); },
       false, "not a lookup table ktune wrote", true},
      {"a JSON file that is no table",
       [](const fs::path& d, const fs::path&, const fs::path&) { std::ofstream(d / "c.json") << "{\"format\": \"other\"}\n"; return (d / "c.json").string(); },
       false, "not a lookup table ktune wrote", true},
      {"a folder", [](const fs::path& d, const fs::path&, const fs::path&) { fs::create_directory(d / "folder"); return (d / "folder").string(); },
       false, "it is a folder", true},
      {"a symbolic link to nothing",
       [](const fs::path& d, const fs::path&, const fs::path&) { fs::create_symlink(d / "missing", d / "dangling"); return (d / "dangling").string(); },
       false, "symbolic link to nothing", true},
      {"a symbolic link to a folder",
       [](const fs::path& d, const fs::path&, const fs::path&) { fs::create_directory(d / "f2"); fs::create_symlink(d / "f2", d / "to-folder"); return (d / "to-folder").string(); },
       false, "it is a folder", true},
      {"/dev/full", [](const fs::path&, const fs::path&, const fs::path&) { return std::string("/dev/full"); }, false, "No space left on device", true},
      {"a symbolic link to /dev/full",
       [](const fs::path& d, const fs::path&, const fs::path&) { fs::create_symlink("/dev/full", d / "full"); return (d / "full").string(); },
       false, "No space left on device", true},
      {"/dev/null", [](const fs::path&, const fs::path&, const fs::path&) { return std::string("/dev/null"); }, true, "", true},
      {"a symbolic link to /dev/null",
       [](const fs::path& d, const fs::path&, const fs::path&) { fs::create_symlink("/dev/null", d / "null"); return (d / "null").string(); },
       true, "", true},
      {"/dev/stdout", [](const fs::path&, const fs::path&, const fs::path&) { return std::string("/dev/stdout"); }, true, "", true},
      {"a FIFO with a reader",
       [](const fs::path& d, const fs::path&, const fs::path&) {
         ::mkfifo((d / "fifo").c_str(), 0600);
         std::system(("timeout 60 cat " + (d / "fifo").string() + " > " + (d / "fifo.out").string() + " &").c_str());
         return (d / "fifo").string();
       },
       true, "", true},
      {"a new file", at("new.json"), true, "", false},
      {"a new file in a missing folder", at("missing/new.json"), false, "No such file or directory", true},
      {"an empty file", [](const fs::path& d, const fs::path&, const fs::path&) { std::ofstream(d / "empty.json").flush(); return (d / "empty.json").string(); },
       true, "", false},
  };
}

}  // namespace

TEST_F(OutputTargets, ExportNeverReplacesWhatItMustNot) {
  const std::string store_before = read_bytes(db_);
  const std::string default_before = read_bytes(default_store_);
  int cases = 0;
  for (const Target& t : targets()) {
    SCOPED_TRACE(t.name);
    ++cases;
    const std::string path = t.make(dir_.path, db_, default_store_);
    const Identity before = identity_of(path);
    auto run = ktune("export --db " + db_.string() + " -o '" + path + "'" + (path == "/dev/stdout" ? " > /dev/null" : ""));
    if (t.accepted) {
      EXPECT_EQ(run.status, 0) << run.output;
      EXPECT_EQ(run.output, "");
    } else {
      EXPECT_EQ(run.status, 1) << run.output;
      EXPECT_EQ(line_count(run.output), 1) << run.output;
      EXPECT_EQ(run.output.rfind("ktune: error: ", 0), 0u) << run.output;
      EXPECT_NE(run.output.find(t.refusal), std::string::npos) << run.output;
      EXPECT_EQ(identity_of(path), before) << "a refused target must be left exactly as it was";
    }
    if (t.stays_same_node && before.exists) {
      const Identity after = identity_of(path);
      EXPECT_EQ(after.type, before.type);
      EXPECT_EQ(after.inode, before.inode);
      EXPECT_EQ(after.link, before.link);
    }
    EXPECT_EQ(read_bytes(db_), store_before) << "the store changed";
    EXPECT_EQ(read_bytes(default_store_), default_before) << "the default store changed";
  }
  std::printf("[hostile cases] export -o targets: %d\n", cases);
}

TEST_F(OutputTargets, ExportReplacesATableItWroteAndLeavesNoTemporaryFile) {
  const fs::path out = dir_ / "table.json";
  ASSERT_EQ(ktune("export --db " + db_.string() + " -o " + out.string()).status, 0);
  EXPECT_EQ(read_bytes(out), read_bytes(kTable));
  ASSERT_EQ(ktune("export --db " + db_.string() + " -o " + out.string()).status, 0);
  EXPECT_EQ(read_bytes(out), read_bytes(kTable));
  for (const auto& entry : fs::directory_iterator(dir_.path))
    EXPECT_EQ(entry.path().filename().string().find(".ktune-"), std::string::npos) << entry.path();
}

// Every command that prints, into a full output: exit non-zero with one line, never 0 with a
// truncated table.
TEST_F(OutputTargets, EveryPrintingCommandFailsOnAFullOutput) {
  const std::string db = " --db " + db_.string();
  const std::vector<std::string> commands{
      "show" + db,
      "show --json" + db,
      "export" + db,
      "export -o -" + db,
      "space " + kSpec,
      "space --json " + kSpec,
      "space " + kSpec + " --size M=1024,N=1024,K=1024 --samples 50",
      "key " + kSpec + " --size M=1024,N=1024,K=1024 --device 'NVIDIA H100 80GB HBM3' --arch sm_90 --canonical",
      "lookup " + kSpec + " --size M=1024,N=1024,K=1024 --device 'NVIDIA H100 80GB HBM3' --arch sm_90" + db,
      "lookup --json " + kSpec + " --size M=1024,N=1024,K=1024 --device 'NVIDIA H100 80GB HBM3' --arch sm_90" + db,
      "doctor --store " + db_.string(),
  };
  int cases = 0;
  for (const auto& command : commands) {
    SCOPED_TRACE(command);
    ++cases;
    auto ok = ktune(command + " > /dev/null");
    ASSERT_EQ(ok.status, 0) << ok.output;
    auto full = ktune(command + " > /dev/full");
    EXPECT_EQ(full.status, 1) << full.output;
    EXPECT_EQ(line_count(full.output), 1) << full.output;
    EXPECT_EQ(full.output.rfind("ktune: error: cannot write to standard output", 0), 0u) << full.output;
    auto closed = ktune(command + " >&-");
    EXPECT_NE(closed.status, 0) << closed.output;
  }
  std::printf("[hostile cases] full or closed output: %d\n", cases * 2);
}
