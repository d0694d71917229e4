#include "store/store_path.hpp"

#include <cstdlib>

namespace ktune {

std::filesystem::path default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "ktune";
  if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".cache" / "ktune";
  return std::filesystem::temp_directory_path() / "ktune";
}

std::filesystem::path default_store_path(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  if (const char* env = std::getenv("KTUNE_DB"); env && *env) return env;
  return default_cache_dir() / "ktune.db";
}

}  // namespace ktune
