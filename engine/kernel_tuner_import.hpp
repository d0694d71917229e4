#pragma once
// Kernel Tuner cache files in: a Kernel Tuner user's brute-force sweeps (or any tuning history)
// become recorded measurements of a ktune spec's kernel, so `ktune replay`, the strategies and a
// later `ktune tune` use them like anything ktune measured itself.
//
// The cache format (Kernel Tuner's `cache=` file, plain or gzip-compressed): `device_name`,
// `kernel_name`, `problem_size`, `tune_params_keys`, `tune_params`, `objective`, and `cache`: one
// entry per configuration holding its parameter values and `time` (ms) — or, for a configuration
// that failed, a marker string instead of a time:
//
// | Kernel Tuner              | ktune           | why |
// |---------------------------|-----------------|-----|
// | InvalidConfig             | invalid_config  | broke a launch limit (Kernel Tuner's restriction or resource check) |
// | CompilationFailedConfig   | compile_error   | |
// | RuntimeFailedConfig       | launch_error    | the launch itself failed |
// | time (ms, number)         | ok, timing      | median_ns = `time` (Kernel Tuner's objective, the mean of its runs) in ns; min/mean/stddev/samples from `times` when present |
//
// Validated like any import: every entry's parameters and values against the spec (names, listed
// values, constraints), all entries before anything is written, then one transaction. Errors are one
// line naming the first bad entry.
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "engine/common/result.hpp"
#include "engine/model/key.hpp"
#include "engine/model/spec.hpp"
#include "store/store.hpp"

namespace ktune {

struct KernelTunerImportOptions {
  // The problem sizes of the sweep. Without them the cache's problem_size is mapped onto the spec's
  // size names in order (an error when the counts differ, e.g. a 1-D problem_size for a 2-D spec).
  std::optional<Sizes> sizes;
  // The device. Without a name the cache's device_name is used (an error when it is empty, as some
  // HIP caches have it). Kernel Tuner does not record the architecture: "unknown" unless given.
  std::string device;
  std::string arch = "unknown";
  // Part of the tuning key; Kernel Tuner records none. Default: this build's NVRTC, so `ktune replay`
  // and `ktune tune` find the imported measurements without being told.
  std::optional<Toolchain> toolchain;
};

struct KernelTunerImportSummary {
  std::string kernel_name;  // the cache's kernel_name (informative)
  Sizes sizes;              // spec order
  DeviceSignature device;
  Toolchain toolchain;
  std::string tuning_key;
  std::size_t entries = 0;
  std::map<std::string, std::size_t> by_status;  // "ok", "compile_error", ...
};

// The decompressed text of a cache file (.json or .json.gz; gzip is detected by content, not name).
// Refuses a file that inflates beyond 2 GiB (not a cache, or a decompression bomb).
Result<std::string> read_kernel_tuner_file(const std::filesystem::path& path);

// Parses and validates `text` (a cache's JSON) against `spec` and returns the measurements and the
// question they answer, without writing anything. `origin` names the file in errors.
struct KernelTunerCache {
  KernelTunerImportSummary summary;
  std::vector<store::Measurement> measurements;
};
Result<KernelTunerCache> parse_kernel_tuner_cache(const std::string& text, const KernelSpec& spec,
                                                  const KernelTunerImportOptions& options, const std::string& origin);

// read + parse + write into `store` (the kernel, then every measurement in one transaction).
Result<KernelTunerImportSummary> import_kernel_tuner_cache(const std::filesystem::path& path, const KernelSpec& spec,
                                                           store::Store& store, const KernelTunerImportOptions& options = {});
// The same into the store file at `store_path` (created if missing), for callers that hold no Store.
Result<KernelTunerImportSummary> import_kernel_tuner_cache(const std::filesystem::path& path, const KernelSpec& spec,
                                                           const std::filesystem::path& store_path,
                                                           const KernelTunerImportOptions& options = {});

}  // namespace ktune
