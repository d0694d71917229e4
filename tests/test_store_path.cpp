// Issue 14: with HOME and XDG_CACHE_HOME unset, the store and the cubin cache go to the account's
// own home from the password database — never to a folder other accounts share (/tmp/ktune) —
// and an account without a home gets one clear line instead.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <algorithm>
#include <string>
#include <vector>

#include "store/store_path.hpp"
#include "tests/helpers/run_ktune.hpp"

namespace fs = std::filesystem;
using ktune::testing::run_shell;

namespace {

// Unsets a variable for one test and puts it back after.
class UnsetVariable {
 public:
  explicit UnsetVariable(const char* name) : name_(name) {
    if (const char* value = std::getenv(name)) saved_ = value;
    ::unsetenv(name);
  }
  ~UnsetVariable() {
    if (saved_) ::setenv(name_, saved_->c_str(), 1);
  }
  UnsetVariable(const UnsetVariable&) = delete;
  UnsetVariable& operator=(const UnsetVariable&) = delete;

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

std::string account_home() {
  const passwd* entry = ::getpwuid(::geteuid());
  return entry && entry->pw_dir ? entry->pw_dir : "";
}

}  // namespace

TEST(StorePath, WithoutHomeVariablesTheAccountsOwnHomeIsUsed) {
  UnsetVariable home("HOME"), xdg("XDG_CACHE_HOME"), db("KTUNE_DB");
  const std::string expected_home = account_home();
  ASSERT_FALSE(expected_home.empty());
  auto dir = ktune::find_cache_dir();
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  EXPECT_EQ(*dir, fs::path(expected_home) / ".cache" / "ktune");
  EXPECT_NE(dir->string().rfind(fs::temp_directory_path().string(), 0), 0u) << "a shared temporary folder";
  EXPECT_EQ(ktune::default_store_path(), fs::path(expected_home) / ".cache" / "ktune" / "ktune.db");
}

TEST(StorePath, TheVariablesStillComeFirst) {
  UnsetVariable db("KTUNE_DB");
  ::setenv("XDG_CACHE_HOME", "/some/cache", 1);
  EXPECT_EQ(ktune::default_store_path(), fs::path("/some/cache/ktune/ktune.db"));
  ::unsetenv("XDG_CACHE_HOME");
}

// "nobody" has no home (/nonexistent): every command that needs the default store or the cubin
// cache says so in one line, and nothing is written to /tmp/ktune.
TEST(StorePath, AnAccountWithoutAHomeIsRefusedInOneLine) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a command as the account without a home (nobody)";
  const std::string as_nobody = "cd / && env -u HOME -u XDG_CACHE_HOME -u KTUNE_DB setpriv --reuid=65534 --regid=65534 --clear-groups ";
  const std::string spec = std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json";
  const bool tmp_had_ktune = fs::exists(fs::temp_directory_path() / "ktune");
  int cases = 0;
  for (const std::string& command : std::vector<std::string>{"show", "export", "import " + std::string(KTUNE_SOURCE_DIR) + "/tests/data/sgemm-table.json",
        "lookup " + spec + " --size M=64,N=64,K=64 --device X --arch sm_90", "compile " + spec + " --arch sm_90"}) {
    SCOPED_TRACE(command);
    ++cases;
    auto run = run_shell(as_nobody + KTUNE_CLI + " " + command);
    EXPECT_EQ(run.status, 1) << run.output;
    EXPECT_EQ(run.output.rfind("ktune: error: no cache folder: HOME and XDG_CACHE_HOME are unset", 0), 0u) << run.output;
    EXPECT_EQ(std::count(run.output.begin(), run.output.end(), '\n'), 1) << run.output;
  }
  if (!tmp_had_ktune) {
    EXPECT_FALSE(fs::exists(fs::temp_directory_path() / "ktune"));
  }
  std::printf("[hostile cases] no home: %d\n", cases);
}
