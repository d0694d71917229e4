// Launch checks against a recorded H100: a launch that cannot run is invalid_config, with why.
#include <gtest/gtest.h>

#include "engine/runner/launch_limits.hpp"

using namespace ktune::runner;

namespace {
std::string why(const KernelAttributes& k, const LaunchShape& s) {
  auto r = check_launch(h100_limits(), k, s);
  return r.ok() ? "ok" : r.error().message;
}
LaunchShape shape(std::int64_t threads, std::int64_t smem = 0) { return {{100, 1, 1}, {threads, 1, 1}, smem}; }
}  // namespace

TEST(LaunchLimits, AcceptsWhatFits) {
  KernelAttributes k{32, 16384, 0, 1024};
  EXPECT_EQ(why(k, shape(256)), "ok");
  EXPECT_EQ(why(k, shape(1024, 100 * 1024)), "ok");
  EXPECT_FALSE(needs_shared_memory_opt_in(h100_limits(), k, shape(256, 16 * 1024)));
  EXPECT_TRUE(needs_shared_memory_opt_in(h100_limits(), k, shape(256, 100 * 1024)));
}

TEST(LaunchLimits, NamesTheBrokenLimit) {
  KernelAttributes k{32, 0, 0, 1024};
  EXPECT_EQ(why(k, shape(2048)), "block.x of 2048 exceeds the device's 1024");
  EXPECT_EQ(why(k, {{1, 1, 1}, {32, 32, 2}, 0}), "block of 2048 threads exceeds the device's 1024");
  EXPECT_EQ(why(k, {{1, 1, 1}, {1, 1, 128}, 0}), "block.z of 128 exceeds the device's 64");
  EXPECT_EQ(why(k, {{1, 70000, 1}, {32, 1, 1}, 0}), "grid.y of 70000 exceeds the device's 65535");
  EXPECT_EQ(why(k, {{0, 1, 1}, {32, 1, 1}, 0}), "grid.x is 0; must be at least 1");
  EXPECT_EQ(why(k, shape(256, 240 * 1024)),
            "shared memory of 245760 bytes (0 static + 245760 dynamic) exceeds the device's 232448");
  KernelAttributes bounded{32, 0, 0, 256};
  EXPECT_EQ(why(bounded, shape(512)), "block of 512 threads exceeds this kernel's 256 (its launch bounds or 32 registers per thread)");
  KernelAttributes heavy{255, 0, 0, 1024};
  EXPECT_EQ(why(heavy, shape(512)), "512 threads x 255 registers exceed the device's 65536 registers per block");
}

TEST(LaunchLimits, AClusterMustDivideTheGridAndFitTheHardware) {
  KernelAttributes k{32, 0, 0, 1024};
  LaunchShape s{{16, 8, 1}, {128, 1, 1}, 0};
  EXPECT_FALSE(s.has_cluster());  // no cluster unless the spec gives one
  s.cluster = {2, 2, 1};
  EXPECT_EQ(why(k, s), "ok");
  EXPECT_EQ(s.cluster_blocks(), 4);
  s.cluster = {3, 1, 1};
  EXPECT_EQ(why(k, s), "grid.x of 16 is not a multiple of cluster.x 3");
  s.cluster = {1, 16, 1};
  EXPECT_EQ(why(k, s), "grid.y of 8 is not a multiple of cluster.y 16");
  s.cluster = {1, 1, 0};
  EXPECT_EQ(why(k, s), "cluster.z is 0; must be 1 to 16");
  s.grid = {32, 8, 1};
  s.cluster = {8, 4, 1};
  EXPECT_EQ(why(k, s), "a cluster of 32 blocks exceeds the 16 any GPU can place");
}
