#pragma once
// The recorded search spaces ktune's strategies are measured on (tools/bench/bench_strategies.cpp,
// tests/test_strategy_quality.cpp): the three Kernel Tuner sweeps of tests/data/kernel_tuner
// (imported into a scratch store) and the H100 SGEMM sweeps of tests/data/h100-sgemm.db (4 sizes).
// Header-only so the benchmark and the CI test open exactly the same spaces.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/kernel_tuner_import.hpp"
#include "engine/replay.hpp"
#include "tuner/search_space.hpp"

namespace ktune::bench {

struct RecordedSpaceEntry {
  std::string label;  // "convolution A6000"
  std::unique_ptr<KernelSpec> spec;
  std::unique_ptr<RecordedSpace> space;
};

struct RecordedSpaceSet {
  std::vector<RecordedSpaceEntry> spaces;
};

// `source_dir`: the repository root; `scratch`: a folder for the imported store (created).
inline Result<RecordedSpaceSet> open_recorded_spaces(const std::filesystem::path& source_dir, const std::filesystem::path& scratch) {
  RecordedSpaceSet out;
  std::error_code ec;
  std::filesystem::create_directories(scratch, ec);
  const auto data = source_dir / "tests/data/kernel_tuner";
  struct Cache {
    const char* label;
    const char* file;
    const char* spec;
    std::optional<Sizes> sizes;
    const char* device;
    const char* arch;
  };
  const Cache caches[] = {
      {"convolution A6000", "convolution_milo.A6000.kt-cache.json.gz", "convolution_milo.A6000.spec.json", std::nullopt, "", "sm_86"},
      {"convolution MI250X", "convolution_milo.MI250X.kt-cache-trimmed.json.gz", "convolution_milo.MI250X.spec.json", std::nullopt,
       "AMD Instinct MI250X", "gfx90a"},
      {"dedispersion A4000", "dedispersion_milo.A4000.kt-cache-trimmed.json.gz", "dedispersion_milo.A4000.spec.json",
       Sizes{{"samples", 25000}, {"dms", 2048}, {"channels", 1536}}, "", "sm_86"},
  };
  for (const auto& c : caches) {
    RecordedSpaceEntry e;
    e.label = c.label;
    auto spec = KernelSpec::from_file(data / c.spec);
    if (!spec) return spec.error();
    e.spec = std::make_unique<KernelSpec>(std::move(*spec));
    // One store per cache: the two convolution specs are one kernel under two names, which one
    // store refuses (a kernel key is stored with one name).
    const auto db = scratch / (std::string(c.file) + ".db");
    std::filesystem::remove(db, ec);
    KernelTunerImportOptions options;
    options.sizes = c.sizes;
    options.device = c.device;
    options.arch = c.arch;
    auto imported = import_kernel_tuner_cache(data / c.file, *e.spec, db, options);
    if (!imported) return imported.error();
    auto space = RecordedSpace::open(*e.spec, imported->sizes, imported->device, imported->toolchain, db);
    if (!space) return space.error();
    e.space = std::make_unique<RecordedSpace>(std::move(*space));
    out.spaces.push_back(std::move(e));
  }
  const Sizes sgemm_sizes[] = {{{"M", 4096}, {"N", 4096}, {"K", 4096}},
                               {{"M", 1024}, {"N", 1024}, {"K", 1024}},
                               {{"M", 2048}, {"N", 2048}, {"K", 2048}},
                               {{"M", 4096}, {"N", 4096}, {"K", 1024}}};
  for (const auto& sizes : sgemm_sizes) {
    RecordedSpaceEntry e;
    e.label = "sgemm H100 " + format_named(sizes, ",");
    auto spec = KernelSpec::from_file(source_dir / "examples/sgemm.json");
    if (!spec) return spec.error();
    e.spec = std::make_unique<KernelSpec>(std::move(*spec));
    auto space = RecordedSpace::open(*e.spec, sizes, {"NVIDIA H100 80GB HBM3", "sm_90"}, Toolchain{"13.0"},
                                     source_dir / "tests/data/h100-sgemm.db");
    if (!space) return space.error();
    e.space = std::make_unique<RecordedSpace>(std::move(*space));
    out.spaces.push_back(std::move(e));
  }
  return out;
}

}  // namespace ktune::bench
