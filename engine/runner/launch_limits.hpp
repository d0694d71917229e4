#pragma once
// Whether a launch can run on a device before it is attempted: a launch that breaks a limit is an
// `invalid_config` with the reason, never a launch error that poisons the context.
#include <array>
#include <cstdint>
#include <string>

#include "engine/common/result.hpp"

namespace ktune::runner {

// What the runner reads off the device (cuDeviceGetAttribute); recorded devices make the checks
// testable without a GPU.
struct DeviceLimits {
  int max_threads_per_block = 1024;
  std::array<int, 3> max_block_dim{1024, 1024, 64};
  std::array<int, 3> max_grid_dim{2147483647, 65535, 65535};
  int max_shared_memory_per_block = 48 * 1024;  // without opting in
  int max_shared_memory_per_block_optin = 48 * 1024;
  int max_registers_per_block = 65536;
};

DeviceLimits h100_limits();  // recorded from an H100 80GB HBM3 (sm_90)

// What the compiled kernel needs (cuFuncGetAttribute).
struct KernelAttributes {
  int registers_per_thread = 0;
  int static_shared_bytes = 0;
  int local_bytes_per_thread = 0;
  int max_threads_per_block = 1024;  // the kernel's own limit: launch bounds and register use
};

struct LaunchShape {
  std::array<std::int64_t, 3> grid{1, 1, 1};
  std::array<std::int64_t, 3> block{1, 1, 1};
  std::int64_t dynamic_shared_bytes = 0;
  // Thread block cluster ("launch.cluster"): launched through cuLaunchKernelEx with the cluster
  // dimension attribute. All zero: no cluster attribute (a kernel's own __cluster_dims__ holds).
  std::array<std::int64_t, 3> cluster{0, 0, 0};
  bool has_cluster() const noexcept { return cluster[0] != 0 || cluster[1] != 0 || cluster[2] != 0; }
  std::int64_t cluster_blocks() const noexcept { return has_cluster() ? cluster[0] * cluster[1] * cluster[2] : 1; }
};

// Blocks per cluster that Hopper can place at all (with the non-portable size allowed); 8 is the
// portable limit.
inline constexpr std::int64_t kMaxClusterBlocks = 16;
inline constexpr std::int64_t kPortableClusterBlocks = 8;

// Ok, or Errc::invalid_argument with the broken limit ("block of 2048 threads exceeds the
// device's 1024", "grid.x of 30 is not a multiple of cluster.x 4").
Status check_launch(const DeviceLimits& device, const KernelAttributes& kernel, const LaunchShape& shape);

// True when the dynamic shared memory needs cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES).
bool needs_shared_memory_opt_in(const DeviceLimits& device, const KernelAttributes& kernel, const LaunchShape& shape);

}  // namespace ktune::runner
