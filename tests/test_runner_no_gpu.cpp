// Where there is no GPU driver, starting a runner is a clear "no GPU" value, not a crash or a hang.
#include <gtest/gtest.h>

#include "engine/runner_client.hpp"
#include "engine/cuda/driver_api.hpp"

TEST(RunnerNoGpu, StartSaysWhyThereIsNoGpu) {
  if (ktune::cuda::list_devices().ok()) GTEST_SKIP() << "a GPU is present";
  auto runner = ktune::GpuRunner::start({});
  ASSERT_FALSE(runner.ok());
  EXPECT_EQ(runner.error().code, ktune::Errc::no_gpu);
  EXPECT_NE(runner.error().message.find("no NVIDIA driver"), std::string::npos) << runner.error().message;
}

TEST(RunnerNoGpu, MissingRunnerBinaryIsNamed) {
  auto path = ktune::process::locate_executable(ktune::runner_search("/nonexistent/ktune-runner"));
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.error().code, ktune::Errc::not_found);
  EXPECT_NE(path.error().message.find("/nonexistent/ktune-runner"), std::string::npos);
}
