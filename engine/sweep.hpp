#pragma once
// A sweep file ("ktune_sweep": 1, docs/sweep.md): many kernels x many problem sizes, tuned one
// after the other by `ktune sweep`. load_sweep reads and validates the whole file up front — every
// spec is loaded and every size set checked against its spec — so a mistake is reported before any
// tuning starts (and on a machine without a GPU). Every mistake is one Error naming the sweep file
// and the field path, e.g. "sweep.json: items[1].sizes[0]: unknown size Q for kernel ...".
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/named_values.hpp"
#include "engine/common/result.hpp"
#include "engine/model/spec.hpp"
#include "engine/tune_options.hpp"

namespace ktune {

inline constexpr int kSweepVersion = 1;

struct SweepItem {
  std::string spec_field;             // the "spec" value as written in the sweep file
  std::filesystem::path spec_path;    // resolved against the sweep file's folder, normalised
  KernelSpec spec;
  std::vector<Sizes> sizes;           // each in the spec's size order
  std::string strategy;               // canonical name: exhaustive | random | coordesc | bestfirst
  std::size_t budget = 0;             // at most this many new evaluations per size set; 0 = no limit
};

struct SweepPlan {
  int version = kSweepVersion;
  std::filesystem::path path;        // the sweep file (empty when parsed from text)
  std::string strategy{kDefaultStrategy};  // top-level default, canonical
  std::size_t budget = 0;             // top-level default; 0 = no limit
  std::vector<SweepItem> items;

  std::size_t run_count() const noexcept;  // items x size sets: the number of tuning runs
};

// Reads and validates a sweep file; relative spec paths are resolved against its folder.
Result<SweepPlan> load_sweep(const std::filesystem::path& path);
// The same from text; `base_dir` resolves relative spec paths, `origin` prefixes error messages.
Result<SweepPlan> parse_sweep(std::string_view text, const std::filesystem::path& base_dir, const std::string& origin = "sweep");

}  // namespace ktune
