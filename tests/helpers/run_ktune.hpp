#pragma once
// Runs the built ktune command line as a user would (KTUNE_CLI is defined for every test), with
// stdout and stderr together, for the tests of the CLI.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace ktune::testing {

struct CliRun {
  int status = -1;     // exit status, -1 when killed by a signal
  std::string output;  // stdout and stderr together
};

// A shell command line (pipes, redirections, `ulimit`, variables all allowed), run to the end.
inline CliRun run_shell(const std::string& command) {
  CliRun run;
  FILE* pipe = popen(("( " + command + " ) 2>&1").c_str(), "r");
  if (!pipe) return run;
  std::array<char, 4096> buffer{};
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) run.output.append(buffer.data(), n);
  const int raw = pclose(pipe);
  run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return run;
}

inline CliRun run_ktune(const std::string& args) { return run_shell(std::string(KTUNE_CLI) + " " + args); }

inline bool has_gpu_driver() { return run_ktune("doctor").output.find("ok    GPU 0") != std::string::npos; }

}  // namespace ktune::testing
