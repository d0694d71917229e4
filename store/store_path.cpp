#include "store/store_path.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace ktune {

namespace {

// The account's own home from the password database. Never a shared folder such as /tmp: what
// another account left there would be answered as this account's measurements and cubins.
std::optional<std::filesystem::path> account_home() {
  const long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(hint > 0 ? static_cast<std::size_t>(hint) : 16384);
  struct passwd entry {};
  struct passwd* found = nullptr;
  while (::getpwuid_r(::geteuid(), &entry, buffer.data(), buffer.size(), &found) == ERANGE && buffer.size() < (1u << 20))
    buffer.resize(buffer.size() * 2);
  if (found == nullptr || found->pw_dir == nullptr || found->pw_dir[0] != '/') return std::nullopt;
  const std::filesystem::path home(found->pw_dir);
  if (home == "/" || home == "/nonexistent") return std::nullopt;  // system accounts: no home of their own
  return home;
}

}  // namespace

Result<std::filesystem::path> find_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "ktune";
  if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".cache" / "ktune";
  if (auto home = account_home()) return *home / ".cache" / "ktune";
  return make_error(Errc::io, "no cache folder: HOME and XDG_CACHE_HOME are unset and account " +
                                  std::to_string(::geteuid()) +
                                  " has no home folder; set KTUNE_DB (or --db) and XDG_CACHE_HOME");
}

std::filesystem::path default_cache_dir() { return find_cache_dir().value_or_throw(); }

std::filesystem::path default_store_path(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  if (const char* env = std::getenv("KTUNE_DB"); env && *env) return env;
  return default_cache_dir() / "ktune.db";
}

}  // namespace ktune
