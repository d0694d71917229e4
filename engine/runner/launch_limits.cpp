#include "engine/runner/launch_limits.hpp"

#include <limits>

namespace ktune::runner {

namespace {
const char* kAxis[] = {"x", "y", "z"};
Error invalid(const std::string& why) { return make_error(Errc::invalid_argument, why); }
}  // namespace

DeviceLimits h100_limits() {
  DeviceLimits d;
  d.max_threads_per_block = 1024;
  d.max_block_dim = {1024, 1024, 64};
  d.max_grid_dim = {2147483647, 65535, 65535};
  d.max_shared_memory_per_block = 49152;
  d.max_shared_memory_per_block_optin = 232448;
  d.max_registers_per_block = 65536;
  return d;
}

Status check_launch(const DeviceLimits& device, const KernelAttributes& kernel, const LaunchShape& shape) {
  std::int64_t threads = 1;
  for (std::size_t i = 0; i < 3; ++i) {
    const std::string block = std::string("block.") + kAxis[i], grid = std::string("grid.") + kAxis[i];
    if (shape.block[i] < 1) return invalid(block + " is " + std::to_string(shape.block[i]) + "; must be at least 1");
    if (shape.grid[i] < 1) return invalid(grid + " is " + std::to_string(shape.grid[i]) + "; must be at least 1");
    if (shape.block[i] > device.max_block_dim[i])
      return invalid(block + " of " + std::to_string(shape.block[i]) + " exceeds the device's " +
                     std::to_string(device.max_block_dim[i]));
    if (shape.grid[i] > device.max_grid_dim[i])
      return invalid(grid + " of " + std::to_string(shape.grid[i]) + " exceeds the device's " +
                     std::to_string(device.max_grid_dim[i]));
    threads *= shape.block[i];
  }
  if (shape.has_cluster()) {
    for (std::size_t i = 0; i < 3; ++i) {
      const std::string cluster = std::string("cluster.") + kAxis[i];
      if (shape.cluster[i] < 1 || shape.cluster[i] > kMaxClusterBlocks)
        return invalid(cluster + " is " + std::to_string(shape.cluster[i]) + "; must be 1 to " + std::to_string(kMaxClusterBlocks));
      if (shape.grid[i] % shape.cluster[i] != 0)
        return invalid(std::string("grid.") + kAxis[i] + " of " + std::to_string(shape.grid[i]) + " is not a multiple of " +
                       cluster + " " + std::to_string(shape.cluster[i]));
    }
    if (shape.cluster_blocks() > kMaxClusterBlocks)
      return invalid("a cluster of " + std::to_string(shape.cluster_blocks()) + " blocks exceeds the " +
                     std::to_string(kMaxClusterBlocks) + " any GPU can place");
  }
  if (threads > device.max_threads_per_block)
    return invalid("block of " + std::to_string(threads) + " threads exceeds the device's " +
                   std::to_string(device.max_threads_per_block));
  if (threads > kernel.max_threads_per_block)
    return invalid("block of " + std::to_string(threads) + " threads exceeds this kernel's " +
                   std::to_string(kernel.max_threads_per_block) + " (its launch bounds or " +
                   std::to_string(kernel.registers_per_thread) + " registers per thread)");
  if (threads * kernel.registers_per_thread > device.max_registers_per_block)
    return invalid(std::to_string(threads) + " threads x " + std::to_string(kernel.registers_per_thread) +
                   " registers exceed the device's " + std::to_string(device.max_registers_per_block) +
                   " registers per block");
  if (shape.dynamic_shared_bytes < 0) return invalid("dynamic shared memory is negative");
  // The dynamic size comes from a spec's expression and can be any 64-bit value: saturate the sum.
  std::int64_t shared = 0;
  if (__builtin_add_overflow(std::int64_t{kernel.static_shared_bytes}, shape.dynamic_shared_bytes, &shared))
    shared = std::numeric_limits<std::int64_t>::max();
  if (shared > device.max_shared_memory_per_block_optin)
    return invalid("shared memory of " + std::to_string(shared) + " bytes (" + std::to_string(kernel.static_shared_bytes) +
                   " static + " + std::to_string(shape.dynamic_shared_bytes) + " dynamic) exceeds the device's " +
                   std::to_string(device.max_shared_memory_per_block_optin));
  return Ok{};
}

bool needs_shared_memory_opt_in(const DeviceLimits& device, const KernelAttributes& kernel, const LaunchShape& shape) {
  // Written as a difference: the sum could overflow for a dynamic size near the 64-bit limit.
  return shape.dynamic_shared_bytes > std::int64_t{device.max_shared_memory_per_block} - kernel.static_shared_bytes;
}

}  // namespace ktune::runner
