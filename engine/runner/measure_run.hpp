#pragma once
// One GpuSession::measure call as a script of named phases (nvbench's measure_cold shape):
//   for each job:  prepare → first run → verify → warm up
//   then:          sample rounds (round robin A B C A B C ...) until every job's criteria are
//                  satisfied (criteria/criterion.hpp)
//   finally:       summarise.
// A phase that fails a job marks it done with its status; a sticky error or a hang poisons the
// session and ends the run (the process must exit).
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/cuda/loaded_library.hpp"
#include "engine/runner/criteria/criterion.hpp"
#include "engine/runner/host_data.hpp"
#include "engine/runner/sample_log.hpp"
#include "engine/runner/session_state.hpp"

namespace ktune::runner {

class MeasureRun {
 public:
  MeasureRun(GpuSession::State& session, const std::vector<KernelJob>& jobs, const MeasureOptions& options);
  std::vector<KernelMeasurement> run();

 private:
  using Clock = std::chrono::steady_clock;

  // One kernel of a job: the job's only one, or one stage of a pipeline (launched in order).
  struct Stage {
    const LaunchShape* shape = nullptr;
    CUfunction function = nullptr;
    std::vector<std::vector<std::byte>> scalar_bytes;
    std::vector<void*> params;  // pointers into pointer_storage and scalar_bytes
    std::vector<CUdeviceptr> pointer_storage;
    std::vector<double> samples;  // a pipeline: this kernel's own times, alongside Kernel::samples
  };

  // One job on its way through the phases.
  struct Kernel {
    const KernelJob* job = nullptr;
    cuda::LoadedLibrary library;
    std::vector<Stage> stages;
    // The job's TMA descriptors, encoded once against the problem's buffers; stages point at them.
    std::vector<CUtensorMap> tensor_maps;
    std::vector<Stage> setup;  // setup kernels: run after loading and again whenever another job's ran since
    std::vector<double> samples;  // a pipeline: first start to last end
    Criteria criteria;
    KernelMeasurement result;
    bool done = false;
    Clock::time_point started;
  };

  // Phases, in order.
  void prepare(Kernel& k);
  bool prepare_stage(Kernel& k, Stage& stage, const std::string& lowered_name, const std::vector<ArgSlot>& args,
                     std::optional<std::size_t> setup_index = std::nullopt);
  void run_setup(Kernel& k);
  void first_run(Kernel& k);
  void verify(Kernel& k);
  void warm_up(Kernel& k);
  void sample_rounds();
  std::vector<KernelMeasurement> summarise();

  // Verification on the GPU (device_compare/) and its bookkeeping.
  void set_reference(Kernel& k);
  bool reference_from_answers();
  std::vector<std::span<const std::byte>> read_outputs(Kernel& k);
  void keep_device_reference();
  bool verify_on_device(Kernel& k);
  bool host_reference_from_device();
  bool record_comparison(Kernel& k, std::size_t buffer, const Comparison& c);

  // Steps the phases share.
  std::size_t sample_round(const std::vector<std::size_t>& active, std::size_t per_kernel);
  std::optional<float> timed_launch(Kernel& k, const char* when);
  // Launches every stage of k in order on the stream, an event before each (when given: `events`
  // points at stages + 1 events, the last recorded after the last stage). The first failure's code.
  CUresult launch_stages(Kernel& k, cuda::Event* events = nullptr);
  // Queues k's setup kernels (untimed) unless their results are already in the buffers; the
  // number of kernels queued, or nullopt (and k failed) when a launch failed.
  std::optional<std::size_t> queue_setup(std::size_t kernel_index);
  bool hopeless(float event_ms) const;
  void fail(Kernel& k, MeasurementStatus status, std::string message);
  void launch_failed(Kernel& k, CUresult rc, const char* when);

  GpuSession::State& s_;
  const cuda::DriverApi& d_;
  const MeasureOptions& options_;
  std::vector<Kernel> kernels_;
  SampleLog* sample_log_;  // KTUNE_RUNNER_SAMPLE_LOG, or null
  unsigned last_mhz_ = 0;  // the SM clock read after the last sample round (0: unknown)
  double round_overhead_seconds_ = 0;  // of the last sample round: clock reading, CUPTI flush
  // The job whose setup kernels wrote the buffers last (SIZE_MAX: none): jobs sampled in turn
  // each need their own setup's results (a parameter block of their configuration).
  std::size_t setup_owner_ = SIZE_MAX;
};

}  // namespace ktune::runner
