#pragma once
// Shared fixtures for the tests/test_store_*.cpp suites: a scratch folder, records with valid keys,
// file snapshots (to prove a refused file was not modified), and running a child process.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "engine/common/hash.hpp"
#include "tests/helpers/scratch_dir.hpp"
#include "store/store.hpp"

extern char** environ;

namespace ktune::store::testing {

using ScratchDir = ktune::testing::ScratchDir;

// SQLite's own check of a store file ("ok" when sound), through a connection of its own.
inline std::string integrity_check(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK)
    while (sqlite3_step(stmt) == SQLITE_ROW) out += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Bytes and modification time (ns) of a file.
struct FileSnapshot {
  std::string bytes;
  std::int64_t mtime_ns = 0;
  static FileSnapshot of(const std::filesystem::path& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return {read_file(path), static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
  }
  friend bool operator==(const FileSnapshot&, const FileSnapshot&) = default;
};

inline KernelRecord make_kernel(const std::string& name) {
  const std::string json = R"({"form":"ktune-kernel","name_for_test":")" + name + "\"}";
  return KernelRecord{xxh3_128(json).hex(), name, json};
}

inline TuningRecord make_tuning(const KernelRecord& kernel, Sizes sizes, const std::string& device,
                                const std::string& arch = "sm_90", const std::string& toolchain = "nvrtc 13.0") {
  const std::string form = kernel.kernel_key + "|" + format_named(sizes) + "|" + device + "|" + toolchain;
  return TuningRecord{xxh3_128(form).hex(), kernel.kernel_key, std::move(sizes), device, arch, toolchain};
}

inline BestRecord make_best(const TuningRecord& tuning, Config config, double time_ns, std::int64_t tuned_at = 1795342500) {
  BestRecord b;
  b.tuning = tuning;
  b.config = std::move(config);
  b.time_ns = time_ns;
  b.default_time_ns = time_ns * 3;
  b.strategy = "exhaustive";
  b.evaluations = 243;
  b.wall_seconds = 3.9;
  b.tuned_at = tuned_at;
  b.ktune_version = "0.1.0";
  return b;
}

inline LookupRequest request_for(const TuningRecord& t) {
  return LookupRequest{t.tuning_key, t.kernel_key, t.sizes, t.device, t.arch, t.toolchain};
}

struct ProcessResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs argv to completion, capturing stdout and stderr (through files: no pipe deadlock).
inline ProcessResult run_process(const std::vector<std::string>& argv, const std::filesystem::path& scratch) {
  static int counter = 0;
  const auto out_path = scratch / ("out" + std::to_string(counter) + ".txt");
  const auto err_path = scratch / ("err" + std::to_string(counter++) + ".txt");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  ProcessResult result;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) return result;
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

}  // namespace ktune::store::testing
