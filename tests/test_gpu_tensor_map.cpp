// TMA descriptors and thread block clusters on a GPU, through the whole engine (issue #19): the
// tma_copy example tuned over its box shapes and the 128-byte swizzle, each configuration verified
// against a plain copy (so the runner's descriptor really carries the configuration's box and
// swizzle: a kernel that does not undo the swizzle is caught); a descriptor the driver refuses is
// that configuration's invalid_config, and the runner goes on; cluster launches (launch.cluster)
// place blocks in clusters of the configuration's shape, checked through distributed shared
// memory; a kernel with its own __cluster_dims__ still launches without the attribute. Needs
// sm_90 or later; skips without a driver or on an older GPU.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "tests/helpers/gpu_engine_test.hpp"

namespace {

using namespace ktune;

class GpuTensorMap : public ktune::testing::GpuEngineTest {
 protected:
  void SetUp() override {
    GpuEngineTest::SetUp();
    if (IsSkipped()) return;
    if (device_.cc_major < 9) GTEST_SKIP() << "TMA and clusters need sm_90 or later; this GPU is " << device_.arch;
  }

  static nlohmann::json example_json() {
    std::ifstream in(std::filesystem::path(KTUNE_SOURCE_DIR) / "examples" / "tma_copy.json");
    nlohmann::json spec = nlohmann::json::parse(in);
    spec["source"] = (std::filesystem::path(KTUNE_SOURCE_DIR) / "examples" / "tma_copy.cu").string();
    return spec;
  }

  // Every configuration's outcome, by its text.
  std::map<std::string, store::Measurement> tune_all(const KernelSpec& spec, const Sizes& sizes) {
    TuneOptions options;
    options.strategy = "exhaustive";
    options.force = true;
    // Statuses are what these tests check, not speed: no configuration is pruned for being slow
    // (a pruned one would skip verification or end without its status being the point).
    options.rule.prune_factor = 1e6;
    std::map<std::string, store::Measurement> seen;
    options.hooks.on_evaluation = [&](const Evaluation& e) { seen[format_named(e.measurement.config)] = e.measurement; };
    auto outcome = engine_->tune(spec, sizes, options);
    EXPECT_TRUE(outcome.ok()) << outcome.error().message;  // some configuration is right in every test
    return seen;
  }
};

TEST_F(GpuTensorMap, TheTmaCopyTunesOverBoxesAndSwizzleAndEveryConfigurationVerifies) {
  const KernelSpec spec = KernelSpec::from_json_text(example_json().dump()).value_or_throw();
  // Sizes that are not multiples of any box: edge tiles read out-of-bounds zeros and store less.
  auto seen = tune_all(spec, {{"W", 1000}, {"H", 517}});
  EXPECT_EQ(seen.size(), 12u);  // 3 x 3 boxes without swizzle, 3 with BOX_X = 32 and the 128-byte swizzle
  std::size_t swizzled = 0;
  for (const auto& [config, m] : seen) {
    EXPECT_EQ(m.status, MeasurementStatus::ok) << config << ": " << m.message;
    if (config.find("SWIZZLE=128") != std::string::npos && m.status == MeasurementStatus::ok) ++swizzled;
  }
  EXPECT_EQ(swizzled, 3u);
  for (const auto& [config, m] : seen)
    if (m.timing) std::printf("tma_copy 1000x517 %s: %.2f us\n", config.c_str(), m.timing->median_ns / 1e3);
}

TEST_F(GpuTensorMap, AKernelThatDoesNotUndoTheSwizzleIsCaught) {
  nlohmann::json json = example_json();
  KernelSpec spec = KernelSpec::from_json_text(json.dump()).value_or_throw();
  const std::string undo = "#if SWIZZLE == 128";
  const auto at = spec.source.find(undo);
  ASSERT_NE(at, std::string::npos);
  spec.source.replace(at, undo.size(), "#if 0");
  auto seen = tune_all(spec, {{"W", 512}, {"H", 256}});
  ASSERT_EQ(seen.size(), 12u);
  for (const auto& [config, m] : seen) {
    const bool swizzled = config.find("SWIZZLE=128") != std::string::npos;
    EXPECT_EQ(m.status, swizzled ? MeasurementStatus::wrong_result : MeasurementStatus::ok) << config << ": " << m.message;
  }
}

TEST_F(GpuTensorMap, ADescriptorTheDriverRefusesIsThatConfigurationsInvalidConfig) {
  nlohmann::json json = example_json();
  // A 32-byte swizzle cannot hold rows wider than 32 bytes: the driver refuses BOX_X of 16 and 32
  // floats. The kernel reads those configurations unswizzled, which would be wrong; they never run.
  json["params"]["SWIZZLE"] = {0, 32};
  json["constraints"] = {"W % 4 == 0"};
  const KernelSpec spec = KernelSpec::from_json_text(json.dump()).value_or_throw();
  auto seen = tune_all(spec, {{"W", 512}, {"H", 256}});
  ASSERT_EQ(seen.size(), 18u);
  std::size_t refused = 0;
  for (const auto& [config, m] : seen) {
    const bool too_wide = config.find("SWIZZLE=32") != std::string::npos && config.find("BOX_X=8") == std::string::npos;
    if (too_wide) {
      EXPECT_EQ(m.status, MeasurementStatus::invalid_config) << config << ": " << m.message;
      EXPECT_NE(m.message.find("cuTensorMapEncodeTiled refused the tensor map"), std::string::npos) << m.message;
      EXPECT_NE(m.message.find("swizzle 32"), std::string::npos) << m.message;
      ++refused;
    } else if (config.find("SWIZZLE=32") == std::string::npos) {
      EXPECT_EQ(m.status, MeasurementStatus::ok) << config << ": " << m.message;  // the runner went on
    }
  }
  EXPECT_EQ(refused, 6u);
}

// Each block writes its linear index into the shared memory of the next block of its cluster
// (distributed shared memory); after the cluster barrier each checks what its predecessor wrote
// and that the cluster has the configuration's shape. out[b] == b only when all of it holds.
const char* kClusterSource = R"(
#include <cooperative_groups.h>
namespace cg = cooperative_groups;

__device__ void exchange(int* out, unsigned want_x, unsigned want_y) {
  __shared__ int received;
  cg::cluster_group cluster = cg::this_cluster();
  const unsigned rank = cluster.block_rank(), blocks = cluster.num_blocks();
  const dim3 shape = cluster.dim_blocks();
  const int b = blockIdx.x + gridDim.x * blockIdx.y;
  cluster.sync();  // every block of the cluster has started: its shared memory exists
  if (threadIdx.x == 0) *cluster.map_shared_rank(&received, (rank + 1) % blocks) = b;
  cluster.sync();
  const unsigned from = (rank + blocks - 1) % blocks;  // ranks run x fastest within the cluster
  const int from_x = blockIdx.x / shape.x * shape.x + from % shape.x;
  const int from_y = blockIdx.y / shape.y * shape.y + from / shape.x;
  const bool right = received == from_x + static_cast<int>(gridDim.x) * from_y && shape.x == want_x && shape.y == want_y &&
                     blocks == want_x * want_y;
  if (threadIdx.x == 0) out[b] = right ? b : -1 - b;
}

extern "C" __global__ void cluster_exchange(int* out) { exchange(out, CX, CY); }
extern "C" __global__ void __cluster_dims__(2, 1, 1) fixed_cluster_exchange(int* out) { exchange(out, 2, 1); }
extern "C" __global__ void block_index(int* out) {
  if (threadIdx.x == 0) out[blockIdx.x + gridDim.x * blockIdx.y] = blockIdx.x + gridDim.x * blockIdx.y;
}
)";

KernelSpec cluster_spec(const std::string& entry, bool with_cluster) {
  nlohmann::json spec = nlohmann::json::parse(R"json({"ktune_spec": 1, "params": {"CX": [1, 2, 3, 4], "CY": [1, 2]},
    "default": {"CX": 1, "CY": 1}, "launch": {"grid": [16, 8], "block": [64]},
    "args": [{"name": "out", "type": "int*", "count": 128, "output": true}],
    "verify": {"against": {"kernel": {"entry": "block_index", "launch": {"grid": [16, 8], "block": [64]}}}}})json");
  spec["name"] = "cluster_" + entry;
  spec["source"] = {{"code", kClusterSource}};
  spec["entry"] = entry;
  if (with_cluster) {
    spec["launch"]["cluster"] = {"CX", "CY"};
  } else {  // the kernel's own __cluster_dims__(2, 1, 1): one configuration
    spec["params"] = {{"CX", nlohmann::json::array({2})}, {"CY", nlohmann::json::array({1})}};
    spec["default"] = {{"CX", 2}, {"CY", 1}};
  }
  return KernelSpec::from_json_text(spec.dump()).value_or_throw();
}

TEST_F(GpuTensorMap, ClusterLaunchesPlaceBlocksInClustersOfTheConfigurationsShape) {
  auto seen = tune_all(cluster_spec("cluster_exchange", true), {});
  ASSERT_EQ(seen.size(), 8u);
  for (const auto& [config, m] : seen) {
    if (config.find("CX=3") != std::string::npos) {  // 16 blocks in x do not split into clusters of 3
      EXPECT_EQ(m.status, MeasurementStatus::invalid_config) << config;
      EXPECT_NE(m.message.find("grid.x of 16 is not a multiple of cluster.x 3"), std::string::npos) << m.message;
    } else {
      EXPECT_EQ(m.status, MeasurementStatus::ok) << config << ": " << m.message;
    }
  }
}

TEST_F(GpuTensorMap, AKernelWithItsOwnClusterDimsLaunchesWithoutTheAttribute) {
  auto seen = tune_all(cluster_spec("fixed_cluster_exchange", false), {});
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen.begin()->second.status, MeasurementStatus::ok) << seen.begin()->second.message;
}

}  // namespace
