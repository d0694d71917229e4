#pragma once
// An Engine that measures by replaying real H100 SGEMM measurements (tests/data/h100-sgemm.db), in
// a scratch folder of its own (store, cubin cache): the engine tests that need a device but no GPU
// (lookups, binaries, lifecycle, fork) start from here.
#include <filesystem>
#include <memory>

#include "engine/engine.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace ktune::testing {

inline const DeviceSignature kRecordedH100{"NVIDIA H100 80GB HBM3", "sm_90"};

inline EngineOptions recorded_engine_options(const ScratchDir& dir) {
  EngineOptions options;
  options.store_path = dir / "store.db";
  options.cubin_cache_dir = dir / "cubins";
  options.workers = 2;  // the CI machines have few cores
  options.replay = EngineOptions::Recording{std::filesystem::path(KTUNE_SOURCE_DIR) / "tests/data/h100-sgemm.db",
                                            kRecordedH100, Toolchain{"13.0"}};
  return options;
}

inline KernelSpec example_sgemm() {
  return KernelSpec::from_file(std::filesystem::path(KTUNE_SOURCE_DIR) / "examples/sgemm.json").value_or_throw();
}

}  // namespace ktune::testing
