// Issue 14, "Unavailable": a damaged store is noticed. The cheap check on every open (header,
// size, root pages: store/store_integrity.hpp) refuses a damaged file with one line naming it,
// where commands used to exit 0; `ktune doctor --store` checks every page. Real stores, damaged
// byte by byte as a failing disk or a careless copy would; the file is never "repaired" behind the
// user's back.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "store/store_integrity.hpp"
#include "tests/helpers/run_ktune.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace fs = std::filesystem;
using ktune::testing::run_shell;
using ktune::testing::ScratchDir;

namespace {

const std::string kCli = KTUNE_CLI;
const std::string kSpec = std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json";
const std::string kRecorded = std::string(KTUNE_SOURCE_DIR) + "/tests/data/h100-sgemm.db";  // 924 measurements

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_bytes(const fs::path& path, std::uint64_t offset, const std::string& bytes) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Reads one integer from the store with SQLite directly (read-only), e.g. a root page number.
std::int64_t query_int(const fs::path& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  std::int64_t value = -1;
  if (sqlite3_prepare_v2(raw, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
    value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
  return value;
}

std::vector<std::string> reading_commands(const fs::path& db) {
  const std::string d = " --db " + db.string();
  return {"show" + d, "export" + d,
          "lookup " + kSpec + " --size M=1024,N=1024,K=1024 --device 'NVIDIA H100 80GB HBM3' --arch sm_90" + d,
          "doctor --store " + db.string()};
}

int line_count(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

struct Damage {
  std::string name;
  std::function<void(const fs::path&)> apply;
};

std::vector<Damage> header_damages() {
  return {
      {"cut short by one page", [](const fs::path& p) { fs::resize_file(p, fs::file_size(p) - 4096); }},
      {"cut inside a page", [](const fs::path& p) { fs::resize_file(p, fs::file_size(p) - 1000); }},
      {"grown by half a page", [](const fs::path& p) { fs::resize_file(p, fs::file_size(p) + 2048); }},
      {"cut inside the header", [](const fs::path& p) { fs::resize_file(p, 60); }},
      {"page size not a power of two", [](const fs::path& p) { write_bytes(p, 16, std::string("\x03\x00", 2)); }},
      {"page size too small", [](const fs::path& p) { write_bytes(p, 16, std::string("\x00\x80", 2)); }},
      {"unknown write format", [](const fs::path& p) { write_bytes(p, 18, std::string("\x07", 1)); }},
      {"unknown read format", [](const fs::path& p) { write_bytes(p, 19, std::string("\x09", 1)); }},
      {"reserved bytes too many", [](const fs::path& p) { write_bytes(p, 20, std::string("\xc8", 1)); }},
      {"wrong payload fraction", [](const fs::path& p) { write_bytes(p, 21, std::string("\x41", 1)); }},
      {"page count in the header too large", [](const fs::path& p) { write_bytes(p, 28, std::string("\x00\x00\x10\x00", 4)); }},
      {"free page count larger than the file", [](const fs::path& p) { write_bytes(p, 36, std::string("\x00\x00\x10\x00", 4)); }},
  };
}

}  // namespace

// Every table's and index's root page, damaged, under every reading command: one line naming the
// file. Before the cheap check, show and export exited 0 with a damaged tunings_by_kernel or
// measurements root.
TEST(StoreIntegrity, ADamagedRootPageIsNoticedOnOpen) {
  ScratchDir dir("ktune-integrity");
  const fs::path pristine = dir / "pristine.db";
  fs::copy_file(kRecorded, pristine);
  const std::vector<std::string> objects{"kernels", "sqlite_autoindex_kernels_1", "tunings", "sqlite_autoindex_tunings_1",
                                         "tunings_by_kernel", "measurements", "measurements_by_tuning", "best",
                                         "sqlite_autoindex_best_1"};
  int cases = 0;
  for (const auto& object : objects) {
    const std::int64_t root = query_int(pristine, "SELECT rootpage FROM sqlite_schema WHERE name = '" + object + "'");
    ASSERT_GT(root, 1) << object;
    const fs::path db = dir / ("root-" + object + ".db");
    fs::copy_file(pristine, db);
    const std::int64_t page_size = query_int(pristine, "PRAGMA page_size");
    write_bytes(db, static_cast<std::uint64_t>((root - 1) * page_size), std::string(4, '\xff'));
    const std::string damaged = read_bytes(db);
    for (const auto& command : reading_commands(db)) {
      SCOPED_TRACE(object + ": " + command);
      ++cases;
      auto run = run_shell(kCli + " " + command + " > /dev/null");
      EXPECT_EQ(run.status, 1) << run.output;
      EXPECT_EQ(line_count(run.output), 1) << run.output;
      EXPECT_NE(run.output.find(db.string()), std::string::npos) << run.output;
      EXPECT_EQ(read_bytes(db), damaged) << "a damaged store must be left as it is";
    }
  }
  std::printf("[hostile cases] damaged root pages: %d\n", cases);
}

TEST(StoreIntegrity, ADamagedHeaderOrSizeIsNoticedOnOpen) {
  ScratchDir dir("ktune-integrity");
  int cases = 0;
  int index = 0;
  for (const Damage& damage : header_damages()) {
    const fs::path db = dir / ("header-" + std::to_string(index++) + ".db");
    fs::copy_file(kRecorded, db);
    damage.apply(db);
    const std::string damaged = read_bytes(db);
    for (const auto& command : reading_commands(db)) {
      SCOPED_TRACE(damage.name + ": " + command);
      ++cases;
      auto run = run_shell(kCli + " " + command + " > /dev/null");
      EXPECT_EQ(run.status, 1) << run.output;
      EXPECT_EQ(line_count(run.output), 1) << run.output;
      EXPECT_NE(run.output.find(db.string()), std::string::npos) << run.output;
      EXPECT_EQ(read_bytes(db), damaged);
    }
    // A command that writes refuses too, and does not "repair" the file.
    ++cases;
    auto import = run_shell(kCli + " import --db " + db.string() + " " + KTUNE_SOURCE_DIR + "/tests/data/sgemm-table.json");
    EXPECT_EQ(import.status, 1) << damage.name << ": " << import.output;
    EXPECT_EQ(read_bytes(db), damaged) << damage.name;
  }
  std::printf("[hostile cases] damaged headers and sizes: %d\n", cases);
}

// A changed row inside a data page breaks no structure the cheap check reads; the full check sees
// that the row no longer matches its index entry.
TEST(StoreIntegrity, DoctorStoreChecksEveryPage) {
  ScratchDir dir("ktune-integrity");
  const fs::path db = dir / "row.db";
  fs::copy_file(kRecorded, db);
  auto intact = run_shell(kCli + " doctor --store " + db.string());
  EXPECT_EQ(intact.status, 0) << intact.output;
  EXPECT_NE(intact.output.find("is intact"), std::string::npos) << intact.output;

  const std::int64_t page = query_int(db, "SELECT pageno FROM dbstat WHERE name = 'measurements' AND pagetype = 'leaf' LIMIT 1");
  const std::int64_t page_size = query_int(db, "PRAGMA page_size");
  ASSERT_GT(page, 1);
  std::string bytes = read_bytes(db);
  const std::size_t start = static_cast<std::size_t>((page - 1) * page_size);
  const std::size_t at = bytes.find("BM=", start);
  ASSERT_LT(at, start + static_cast<std::size_t>(page_size));
  const char digit = bytes[at + 3];
  write_bytes(db, at + 3, std::string(1, digit == '9' ? '1' : static_cast<char>(digit + 1)));

  auto full = run_shell(kCli + " doctor --store " + db.string());
  EXPECT_EQ(full.status, 1) << full.output;
  EXPECT_EQ(line_count(full.output), 1) << full.output;
  EXPECT_EQ(full.output.rfind("ktune: error: store '" + db.string() + "' is damaged: ", 0), 0u) << full.output;
}

TEST(StoreIntegrity, AnIntactStorePassesTheCheapCheckWhileWritersUseIt) {
  ScratchDir dir("ktune-integrity");
  const fs::path db = dir / "live.db";
  auto store = ktune::store::Store::open(db).value_or_throw();
  // Open: a -wal file exists and the main file may lag behind it; the check must not cry wolf.
  EXPECT_TRUE(ktune::store::check_store_header(db).ok());
  auto second = ktune::store::Store::open(db);
  EXPECT_TRUE(second.ok()) << second.error().message;
  EXPECT_TRUE(store.check_integrity().value_or_throw().empty());
}
