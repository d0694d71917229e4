#include "engine/model/included_headers.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <system_error>
#include <vector>

#include "engine/common/hash.hpp"

namespace ktune {

namespace {

namespace fs = std::filesystem;

struct Include {
  std::string name;
  bool quoted = false;
};

// The `#include` directives of a text, in order. Comments are not parsed: an include inside a block
// comment is hashed too, which can only change a key needlessly, never miss a header.
std::vector<Include> includes_of(std::string_view text) {
  std::vector<Include> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    std::size_t i = line.find_first_not_of(" \t");
    if (i == std::string_view::npos || line[i] != '#') continue;
    i = line.find_first_not_of(" \t", i + 1);
    if (i == std::string_view::npos || line.substr(i, 7) != "include") continue;
    i = line.find_first_not_of(" \t", i + 7);
    if (i == std::string_view::npos || (line[i] != '"' && line[i] != '<')) continue;
    const char close = line[i] == '"' ? '"' : '>';
    const std::size_t stop = line.find(close, i + 1);
    if (stop == std::string_view::npos || stop == i + 1) continue;
    out.push_back({std::string(line.substr(i + 1, stop - i - 1)), close == '"'});
  }
  return out;
}

bool under(const fs::path& file, const fs::path& folder) {
  if (folder.empty()) return false;
  auto rel = file.lexically_relative(folder);
  return !rel.empty() && *rel.begin() != "..";
}

class HeaderWalk {
 public:
  HeaderWalk(const KernelSpec& spec, std::vector<std::string>* texts = nullptr) : spec_(spec), texts_(texts) {
    std::error_code ec;
    toolkit_ = fs::weakly_canonical(toolkit_include_dir(), ec);
    if (!spec.source_path.empty()) source_dir_ = spec.source_path.parent_path();
    for (const auto& package : spec.packages)
      for (const auto& dir : package.include_dirs) package_dirs_.push_back(fs::weakly_canonical(dir, ec));
  }

  IncludedHeaders run() {
    // A package is keyed by its identity (name, version, wheel digest), not by its headers:
    // CUTLASS alone has ~1000, beyond the bounds (engine/model/packages.hpp).
    for (const auto& package : spec_.packages) record_ += "\npackage " + package.identity;
    visit(spec_.source, {}, 0);
    IncludedHeaders out;
    out.headers = seen_.size();
    out.bytes = bytes_;
    out.truncated = truncated_;
    if (record_.empty() && !truncated_) return out;
    if (truncated_) record_ += "\ntruncated";
    out.digest = xxh3_128(record_).hex();
    return out;
  }

 private:
  std::optional<fs::path> resolve(const Include& inc, const fs::path& including_dir) const {
    std::vector<fs::path> folders;
    if (inc.quoted && !including_dir.empty()) folders.push_back(including_dir);
    for (const auto& dir : spec_.include_dirs) folders.push_back(dir);
    if (inc.quoted && !source_dir_.empty()) folders.push_back(source_dir_);
    for (const auto& folder : folders) {
      std::error_code ec;
      const fs::path candidate = folder / inc.name;
      if (fs::is_regular_file(candidate, ec)) return fs::weakly_canonical(candidate, ec);
    }
    return std::nullopt;
  }

  bool in_package(const fs::path& file) const {
    for (const auto& dir : package_dirs_)
      if (under(file, dir)) return true;
    return false;
  }

  void visit(std::string_view text, const fs::path& including_dir, int depth) {
    for (const Include& inc : includes_of(text)) {
      auto file = resolve(inc, including_dir);
      if (!file || under(*file, toolkit_) || in_package(*file)) continue;
      if (depth >= kMaxIncludeDepth || seen_.size() >= kMaxIncludedHeaders) {
        truncated_ = true;
        return;
      }
      if (!seen_.insert(file->string()).second) continue;  // include guards / #pragma once / cycles
      std::error_code ec;
      const auto size = fs::file_size(*file, ec);
      if (ec || bytes_ + size > kMaxIncludedBytes) {
        truncated_ = true;
        return;
      }
      std::ifstream in(*file, std::ios::binary);
      std::ostringstream content;
      content << in.rdbuf();
      const std::string text_of_header = content.str();
      bytes_ += text_of_header.size();
      if (texts_) texts_->push_back(text_of_header);
      // The spelling, not the path: the same tree checked out elsewhere gives the same key.
      record_ += (inc.quoted ? "\n\"" : "\n<") + inc.name + " " + xxh3_128(text_of_header).hex();
      visit(text_of_header, file->parent_path(), depth + 1);
    }
  }

  const KernelSpec& spec_;
  std::vector<std::string>* texts_;
  fs::path toolkit_, source_dir_;
  std::vector<fs::path> package_dirs_;
  std::set<std::string> seen_;
  std::string record_;
  std::size_t bytes_ = 0;
  bool truncated_ = false;
};

}  // namespace

IncludedHeaders included_headers(const KernelSpec& spec) { return HeaderWalk(spec).run(); }

std::vector<std::string> included_header_texts(const KernelSpec& spec) {
  std::vector<std::string> texts;
  HeaderWalk(spec, &texts).run();
  return texts;
}

const std::string& toolkit_include_dir() {
  static const std::string dir = [] {
    if (const char* home = std::getenv("CUDA_HOME");
        home && *home && std::filesystem::exists(std::filesystem::path(home) / "include/cuda.h"))
      return (std::filesystem::path(home) / "include").string();
    return std::string(KTUNE_CUDA_INCLUDE_DIR);
  }();
  return dir;
}

const std::vector<std::string>& toolkit_include_dirs() {
  static const std::vector<std::string> dirs = [] {
    std::vector<std::string> out{toolkit_include_dir()};
    std::error_code ec;
    const auto cccl = std::filesystem::path(toolkit_include_dir()) / "cccl";
    if (std::filesystem::is_directory(cccl, ec)) out.push_back(cccl.string());
    return out;
  }();
  return dirs;
}

}  // namespace ktune
