#include "engine/model/packages.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>

#include "engine/common/hash.hpp"

namespace ktune {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kInstallCommand = "bash tools/packages/install-packages.sh (run by tools/install-deps.sh)";

std::optional<std::string> read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> strings(const json& manifest, const char* field) {
  std::vector<std::string> out;
  if (!manifest.contains(field)) return out;
  for (const auto& v : manifest.at(field)) out.push_back(v.get<std::string>());
  return out;
}

}  // namespace

std::vector<fs::path> package_search_dirs() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("KTUNE_PACKAGES_DIR"); env && *env) dirs.emplace_back(env);
  dirs.emplace_back(KTUNE_SOURCE_PACKAGES_DIR);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const fs::path& dir : {exe.parent_path().parent_path() / "third_party",
                                exe.parent_path().parent_path().parent_path() / "third_party"})
      if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
  }
  return dirs;
}

Result<HeaderPackage> read_header_package(const fs::path& packages_dir, std::string_view name) {
  const fs::path root = packages_dir / std::string(name);
  const fs::path manifest_path = root / "ktune-package.json";
  auto text = read_text(manifest_path);
  if (!text) return make_error(Errc::not_found, "package " + std::string(name) + " is not in " + packages_dir.string());
  try {
    const json manifest = json::parse(*text);
    HeaderPackage package;
    package.name = manifest.at("name").get<std::string>();
    package.version = manifest.at("version").get<std::string>();
    package.sha256 = manifest.at("sha256").get<std::string>();
    package.root = root;
    if (package.name != name)
      return make_error(Errc::invalid_spec, manifest_path.string() + " describes package '" + package.name + "', not '" +
                                                std::string(name) + "'");
    for (const auto& dir : strings(manifest, "include_dirs")) {
      std::error_code ec;
      if (!fs::is_directory(root / dir, ec))
        return make_error(Errc::not_found, "package " + package.name + ": include folder " + (root / dir).string() +
                                               " is missing; reinstall it with " + kInstallCommand);
      package.include_dirs.push_back(root / dir);
    }
    package.nvrtc_options = strings(manifest, "nvrtc_options");
    std::string pre_included;
    for (const auto& header : strings(manifest, "pre_includes")) {
      auto content = read_text(root / header);
      if (!content)
        return make_error(Errc::not_found, "package " + package.name + ": " + (root / header).string() +
                                               " is missing; reinstall it with " + kInstallCommand);
      pre_included += header + "\n" + *content;
      package.nvrtc_options.push_back("--pre-include=" + (root / header).string());
    }
    package.identity = package.name + " " + package.version + " sha256:" + package.sha256;
    if (!pre_included.empty()) package.identity += " pre:" + xxh3_128(pre_included).hex();
    return package;
  } catch (const json::exception& e) {
    return make_error(Errc::invalid_spec, manifest_path.string() + ": " + e.what() + "; reinstall it with " + kInstallCommand);
  }
}

Result<HeaderPackage> find_header_package(std::string_view name) {
  std::string looked;
  for (const auto& dir : package_search_dirs()) {
    std::error_code ec;
    if (fs::exists(dir / std::string(name) / "ktune-package.json", ec)) return read_header_package(dir, name);
    looked += (looked.empty() ? "" : ", ") + dir.string();
  }
  return make_error(Errc::not_found, "package @" + std::string(name) + " is not installed (looked in " + looked +
                                         "); install it with " + kInstallCommand + " or set KTUNE_PACKAGES_DIR");
}

}  // namespace ktune
