#include "workers/process/locate_executable.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

namespace ktune::process {
namespace fs = std::filesystem;

namespace {

bool executable(const fs::path& path) {
  std::error_code ec;
  return !path.empty() && fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

// An address inside whatever binary this code was linked into (libktune.so, or a program that
// links the static libraries).
void anchor() {}

}  // namespace

Result<fs::path> locate_executable(const ExecutableSearch& search) {
  if (!search.explicit_path.empty()) {
    if (executable(search.explicit_path)) return search.explicit_path;
    return make_error(Errc::not_found,
                      search.name + " not found or not executable at " + search.explicit_path.string());
  }
  std::vector<fs::path> candidates;
  if (!search.environment_variable.empty())
    if (const char* env = std::getenv(search.environment_variable.c_str()); env != nullptr && *env != '\0')
      candidates.emplace_back(env);
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(self.parent_path() / search.name);
    candidates.push_back(self.parent_path().parent_path() / "tools" / search.name);  // tests and benches in a build tree
  }
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&anchor), &info) != 0 && info.dli_fname != nullptr) {
    const fs::path lib = fs::weakly_canonical(fs::path(info.dli_fname), ec);
    if (!ec) {
      candidates.push_back(lib.parent_path() / search.name);
      candidates.push_back(lib.parent_path().parent_path() / "bin" / search.name);
    }
  }
  for (const auto& f : search.fallbacks) candidates.push_back(f);
  std::string tried;
  for (const auto& c : candidates) {
    if (executable(c)) return c;
    tried += (tried.empty() ? "" : ", ") + c.string();
  }
  std::string hint = "install it next to ktune";
  if (!search.environment_variable.empty()) hint += " or set " + search.environment_variable;
  return make_error(Errc::not_found, search.name + " not found (tried " + tried + "); " + hint);
}

}  // namespace ktune::process
