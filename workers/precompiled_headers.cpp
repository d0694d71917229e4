#include "workers/precompiled_headers.hpp"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "workers/nvrtc_compiler.hpp"

namespace ktune::workers {

namespace fs = std::filesystem;

std::size_t header_prefix_length(std::string_view source) {
  std::size_t pos = 0, prefix = 0;
  bool any_include = false;
  while (pos < source.size()) {
    std::size_t end = source.find('\n', pos);
    if (end == std::string_view::npos) break;  // a last line without '\n' is not taken
    std::string_view line = source.substr(pos, end - pos);
    const std::size_t i = line.find_first_not_of(" \t\r");
    if (i != std::string_view::npos) {
      std::string_view rest = line.substr(i);
      if (rest.starts_with("#")) {
        std::size_t j = rest.find_first_not_of(" \t", 1);
        if (j == std::string_view::npos || rest.substr(j, 7) != "include") break;
        any_include = true;
      } else if (!rest.starts_with("//")) {
        break;
      }
    }
    pos = end + 1;
    prefix = pos;
  }
  return any_include ? prefix : 0;
}

PchCompile pch_compile_form(const CompileJob& job) {
  PchCompile out;
  out.options = job.options;
  const std::size_t length = header_prefix_length(job.source);
  if (length == 0) return out;  // no prefix: the caller compiles the job as it is
  out.prefix = job.source.substr(0, length);
  std::size_t prefix_lines = 0;
  for (char c : out.prefix) prefix_lines += c == '\n' ? 1 : 0;
  std::string defines;
  for (const auto& d : job.defines) {
    const std::string option = normalised_define(d).substr(2);  // NAME[=VALUE]
    const std::size_t eq = option.find('=');
    // -DNAME means NAME is 1, as on a command line.
    defines += "#define " + (eq == std::string::npos ? option + " 1" : option.substr(0, eq) + " " + option.substr(eq + 1)) + "\n";
  }
  // The header stop: NVRTC 13.0 ignores `#pragma hdrstop` ("unrecognized #pragma") and ends the
  // precompiled part at the first token that is not a preprocessing directive; without this
  // declaration, the #defines below would be part of the prefix and differ per configuration.
  out.source = out.prefix + std::string(kHeaderStop) + defines + "#line " + std::to_string(prefix_lines + 1) + " \"" +
               job.source_name + "\"\n" + job.source.substr(length);
  // NVRTC warns that a #line directive disables PCH creation; it is after the header stop, so it
  // does not (the PCH is created and used).
  out.options.push_back("-diag-suppress=20283");
  return out;
}

Result<PrecompiledHeaders> PrecompiledHeaders::open(const fs::path& root) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return make_error(Errc::io, "cannot create the PCH folder " + root.string() + ": " + ec.message());
  // Folders of workers that were killed (SIGKILL leaves no chance to clean up).
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("worker-")) continue;
    const long pid = std::strtol(name.c_str() + 7, nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove_all(entry.path(), ec);
  }
  std::string pattern = (root / ("worker-" + std::to_string(::getpid()) + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr)
    return make_error(Errc::io, "cannot create a PCH folder in " + root.string() + ": " + std::generic_category().message(errno));
  return PrecompiledHeaders(fs::path(pattern));
}

PrecompiledHeaders::PrecompiledHeaders(PrecompiledHeaders&& other) noexcept
    : folder_(std::move(other.folder_)), ready_(std::move(other.ready_)), next_(other.next_) {
  other.folder_.clear();
}

PrecompiledHeaders::~PrecompiledHeaders() {
  if (folder_.empty()) return;
  std::error_code ec;
  fs::remove_all(folder_, ec);
}

std::string PrecompiledHeaders::option_for(const std::string& key, bool& creating) {
  if (auto it = ready_.find(key); it != ready_.end()) {
    creating = false;
    return "--use-pch=" + it->second;
  }
  creating = true;
  return "--create-pch=" + (folder_ / (std::to_string(next_) + ".pch")).string();
}

void PrecompiledHeaders::created(const std::string& key, bool ok) {
  const std::string file = (folder_ / (std::to_string(next_) + ".pch")).string();
  if (ok) {
    ready_[key] = file;
    ++next_;
  } else {
    std::error_code ec;
    fs::remove(file, ec);
  }
}

void PrecompiledHeaders::forget_all() {
  std::error_code ec;
  for (const auto& [key, file] : ready_) fs::remove(file, ec);
  ready_.clear();
}

}  // namespace ktune::workers
