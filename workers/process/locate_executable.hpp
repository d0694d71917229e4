#pragma once
// Where a helper executable of ktune is (ktune-worker, ktune-runner), found one way for both.
// A compiler that links libktune from an unusual prefix must find them next to the library, not
// only next to its own executable.
#include <filesystem>
#include <string>
#include <vector>

#include "engine/common/result.hpp"

namespace ktune::process {

struct ExecutableSearch {
  std::string name;                   // "ktune-worker"
  std::filesystem::path explicit_path;  // when given, the only place looked at: never silently replaced
  std::string environment_variable;   // "KTUNE_WORKER": tried first
  // Tried last, in order (the install bindir, the built binary of this build tree).
  std::vector<std::filesystem::path> fallbacks;
};

// Tries: explicit_path alone; else $environment_variable; next to the running executable (and
// ../tools, where the build tree keeps the helpers); next to the library holding this code (found
// with dladdr: libktune.so or the program itself) and its ../bin; then the fallbacks.
// Errc::not_found lists every place tried.
Result<std::filesystem::path> locate_executable(const ExecutableSearch& search);

}  // namespace ktune::process
