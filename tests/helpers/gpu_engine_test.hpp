#pragma once
// The fixture of a GPU test that tunes through the whole engine: skips with a message where there
// is no driver or no device; otherwise the first device's properties (for bounds taken from the
// device, never from one card) and an Engine with a store and cubin cache of its own, in a folder
// removed when the test ends.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "engine/cuda/driver_api.hpp"
#include "engine/engine.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace ktune::testing {

class GpuEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto devices = cuda::list_devices();
    if (!devices) GTEST_SKIP() << "no GPU here: " << devices.error().message;
    if (devices->empty()) GTEST_SKIP() << "no GPU here";
    device_ = devices->front();
    scratch_.emplace("ktune-gpu-test");
    dir_ = scratch_->path;
    EngineOptions options;
    options.store_path = dir_ / "store.db";
    options.cubin_cache_dir = dir_ / "cubins";
    engine_ = Engine::create(options).value_or_throw();
  }
  // The engine (its worker and runner processes) ends before its folder is removed.
  void TearDown() override {
    engine_.reset();
    scratch_.reset();
  }

  // Every configuration, measured again even if the store has it, each evaluation to `on_evaluation`.
  static TuneOptions exhaustive_options(std::function<void(const Evaluation&)> on_evaluation) {
    TuneOptions options;
    options.strategy = "exhaustive";
    options.force = true;
    options.hooks.on_evaluation = std::move(on_evaluation);
    return options;
  }
  // Verified correct: ok, or pruned (stopped early as clearly slower, after verification).
  static bool measured_correct(MeasurementStatus status) {
    return status == MeasurementStatus::ok || status == MeasurementStatus::pruned;
  }

  cuda::DeviceInfo device_;
  std::filesystem::path dir_;  // the store is dir_ / "store.db"
  std::unique_ptr<Engine> engine_;

 private:
  std::optional<ScratchDir> scratch_;
};

}  // namespace ktune::testing
