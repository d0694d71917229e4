#pragma once
// The child processes of a process, read from /proc: how the tests check that workers and runners
// are reaped (no zombie) and that none is left behind.
#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ktune::testing {

struct ChildProcess {
  pid_t pid = 0;
  char state = '?';  // R, S, D, Z (zombie: exited, not reaped), ...
};

inline std::vector<ChildProcess> children_of(pid_t parent) {
  std::vector<ChildProcess> children;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;  // gone meanwhile
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size()) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = '?';
    long ppid = 0;
    if (!(rest >> state >> ppid) || ppid != parent) continue;
    children.push_back({static_cast<pid_t>(std::stol(name)), state});
  }
  return children;
}

}  // namespace ktune::testing
