#pragma once
// What a GpuSession holds on the device (private to gpu_session.cpp and measure_run.cpp). Every
// driver handle is an RAII member; they are declared in the order they are made, so they go away
// in reverse: buffers, the flush buffer, CUPTI, events, stream, and the context last.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/cuda/cupti_timer.hpp"
#include "engine/cuda/device_buffer.hpp"
#include "engine/cuda/event.hpp"
#include "engine/cuda/pinned_host.hpp"
#include "engine/cuda/primary_context.hpp"
#include "engine/cuda/sm_clock.hpp"
#include "engine/cuda/stream.hpp"
#include "engine/runner/device_compare/device_comparer.hpp"
#include "engine/runner/gpu_session.hpp"
#include "engine/runner/launch_limits.hpp"

namespace ktune::runner {

struct GpuSession::State {
  const cuda::DriverApi* api = nullptr;
  cuda::DeviceInfo device;
  cuda::PrimaryContext context;
  cuda::Stream stream;
  cuda::Event start_event, end_event;
  std::vector<cuda::Event> sample_events;  // start/end pairs of the launches of one sample round
  DeviceLimits limits;
  std::unique_ptr<cuda::CuptiKernelTimer> cupti;
  std::unique_ptr<cuda::SmClock> clock;
  cuda::DeviceBuffer flush;
  Problem problem;
  std::vector<cuda::DeviceBuffer> buffers;
  std::vector<cuda::DeviceBuffer> pristine;  // initial contents of each output, restored before launches
  std::vector<cuda::PinnedHost> staging;     // per output: where outputs are read back for verification
  std::vector<std::vector<std::byte>> reference;  // per output (in buffer order): the reference outputs
  bool has_reference = false;
  // Per buffer: the reference answer read from its file (empty: none, or not an output), and what
  // the reference of each output is called in messages (a file, a configuration, a reference kernel).
  std::vector<std::vector<std::byte>> answers;
  std::vector<std::string> reference_labels;
  std::vector<std::vector<std::byte>> constant_data;  // per Problem::constants, copied into each loaded cubin
  // The reference outputs kept on the GPU too, where the comparison kernel loads: then every
  // later configuration is verified there (device_compare/), and on the host otherwise.
  std::unique_ptr<DeviceComparer> comparer;
  bool comparer_tried = false;
  std::vector<cuda::DeviceBuffer> device_reference;  // per buffer; empty for inputs
  bool has_device_reference = false;
  bool poisoned = false;
  std::uint32_t flush_counter = 0;
  std::chrono::steady_clock::time_point last_busy;  // when the last measure call ended

  // Waits for the stream with a deadline, polling, so a kernel that never ends is detected.
  // Returns the CUresult of the stream, or CUDA_ERROR_LAUNCH_TIMEOUT when the deadline passed.
  CUresult wait(double timeout_seconds);
  Status restore_outputs();
  // Writing twice the L2's worth of fresh values evicts whatever the last sample left there.
  Status flush_l2();
  // A shape with a cluster goes through cuLaunchKernelEx with the cluster dimension attribute.
  CUresult launch(CUfunction function, const std::vector<void*>& params, const LaunchShape& shape);
  // Whether the device can run `function` in clusters of `shape` (cuOccupancyMaxActiveClusters,
  // after allowing a non-portable size above 8 blocks); the error says why not.
  Status check_cluster(CUfunction function, const LaunchShape& shape);
  // At least `count` events in sample_events.
  Status ensure_sample_events(std::size_t count);
  // Keeps the GPU busy (L2 flushes) until the SM clock is within 90 % of its maximum, or for
  // `max_seconds` (at least 0.3 s of it without a clock reading); a GPU left idle drops its clocks.
  void ramp_clocks(double max_seconds);
};

}  // namespace ktune::runner
