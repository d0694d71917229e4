#pragma once
// A runner's hello from an H100 (sm_90: its launch limits and clock), for tests and seeds that
// encode one (tests/test_runner_protocol.cpp, tests/fuzz/make_seeds.cpp). The caller gives what
// identifies its device: name, PCI bus id, memory and L2 sizes.
#include <cstddef>
#include <string>
#include <utility>

#include "engine/runner/runner_protocol.hpp"

namespace ktune::testing {

inline void set_h100_limits(cuda::DeviceInfo& d) {
  d.cc_major = 9;
  d.arch = "sm_90";
  d.multiprocessors = 132;
  d.max_shared_memory_per_block = 49152;
  d.max_shared_memory_per_block_optin = 232448;
  d.max_shared_memory_per_sm = 233472;
  d.max_registers_per_block = 65536;
  d.max_threads_per_block = 1024;
  d.max_threads_per_sm = 2048;
  d.max_block_dim[0] = d.max_block_dim[1] = 1024;
  d.max_block_dim[2] = 64;
  d.max_grid_dim[0] = 2147483647;
  d.max_grid_dim[1] = d.max_grid_dim[2] = 65535;
  d.clock_khz = 1'980'000;
}

inline runner::RunnerHello h100_hello(int pid, std::string name, std::string pci_bus_id, std::size_t total_memory,
                                      int l2_cache_bytes) {
  runner::RunnerHello h;
  h.ok = true;
  h.cupti = true;
  h.pid = pid;
  auto& d = h.device;
  d.name = std::move(name);
  set_h100_limits(d);
  d.pci_bus_id = std::move(pci_bus_id);
  d.total_memory = total_memory;
  d.l2_cache_bytes = l2_cache_bytes;
  return h;
}

}  // namespace ktune::testing
