// The driver is loaded at run time: with no driver every entry point is a clear "no GPU" value;
// on the GPU machine the devices are listed with the facts the runner relies on.
#include <gtest/gtest.h>

#include "engine/cuda/driver_api.hpp"

TEST(GpuDriver, ListsDevicesOrSaysWhyNot) {
  auto devices = ktune::cuda::list_devices();
  if (!devices) {
    EXPECT_EQ(devices.error().code, ktune::Errc::no_gpu);
    EXPECT_FALSE(devices.error().message.empty());
    GTEST_SKIP() << "no GPU here: " << devices.error().message;
  }
  ASSERT_FALSE(devices->empty());
  const auto& d = devices->front();
  EXPECT_FALSE(d.name.empty());
  EXPECT_EQ(d.arch, "sm_" + std::to_string(d.cc_major) + std::to_string(d.cc_minor));
  EXPECT_GT(d.multiprocessors, 0);
  EXPECT_GT(d.l2_cache_bytes, 0);
  EXPECT_GE(d.max_shared_memory_per_block_optin, 48 * 1024);
  std::printf("GPU 0: %s %s, %d SMs, L2 %d B, smem opt-in %d B\n", d.name.c_str(), d.arch.c_str(), d.multiprocessors,
              d.l2_cache_bytes, d.max_shared_memory_per_block_optin);
}
