#pragma once
// Header packages a spec names by "@name" in compile.include_dirs (docs/spec.md "Packages"): a
// pinned wheel unpacked by tools/packages/install-packages.sh into <packages dir>/<name>/, described
// there by ktune-package.json. A package brings include folders, NVRTC options and pre-included
// headers (CUTLASS's NVRTC shim), and joins the kernel key by its identity (name, version, wheel
// SHA-256, the pre-included headers' contents) instead of its headers' contents: CUTLASS has ~1000
// headers, beyond the included-headers bound (docs/keys.md).
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/result.hpp"

namespace ktune {

struct HeaderPackage {
  std::string name;     // "cutlass"
  std::string version;  // "4.2.0.0"
  std::string sha256;   // of the wheel it was unpacked from
  std::filesystem::path root;                    // <packages dir>/<name>
  std::vector<std::filesystem::path> include_dirs;  // absolute
  std::vector<std::string> nvrtc_options;        // added to every compile, pre-includes as --pre-include=<abs>
  // "cutlass 4.2.0.0 sha256:<wheel> pre:<xxh3 of the pre-included headers>": what the kernel key holds.
  std::string identity;
};

// Where packages are looked for, in order: $KTUNE_PACKAGES_DIR; the source tree this build came
// from (<source>/third_party); next to the running program (<exe>/../third_party,
// <exe>/../../third_party: a tree with its build inside carried to another machine).
std::vector<std::filesystem::path> package_search_dirs();

// The package "name" (without the '@') from the first search folder that holds it. Not installed,
// or a broken ktune-package.json: an error naming the folders looked in and the install command.
Result<HeaderPackage> find_header_package(std::string_view name);

// The same from one packages folder (tests).
Result<HeaderPackage> read_header_package(const std::filesystem::path& packages_dir, std::string_view name);

}  // namespace ktune
