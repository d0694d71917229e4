// ktune.Engine in Python: the C++ Engine (engine/engine.hpp) with sizes and configurations as dicts,
// error values raised as ktune exceptions (errors.hpp), the GIL released while the engine works
// and taken again for the caller's callbacks. Mirrors the C API's choices (engine/c_api.cpp): a
// lookup without a tuned entry answers the spec's default with rule "default"; a device not given
// is this engine's (the recording's, or the GPU's).
#include "engine_bindings.hpp"

#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <cmath>
#include <future>
#include <limits>
#include <mutex>
#include <optional>

#include "engine/engine.hpp"
#include "engine/model/instantiate.hpp"
#include "engine/model/toolchain.hpp"
#include "errors.hpp"
#include "named_values.hpp"
#include "python_callback.hpp"
#include "spec_bindings.hpp"
#include "tuner/param_space.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace ktune::python {

namespace {

std::chrono::milliseconds milliseconds_from(double seconds, const char* what) {
  if (!(seconds >= 0) || std::isinf(seconds))
    throw KtuneError(make_error(Errc::invalid_argument, std::string(what) + " must be a finite number of seconds >= 0"));
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000)));
}

// What a lookup answers (ktune_answer in the C API).
struct Answer {
  std::string rule;  // "exact", "bucket", "nearest_size", "same_arch", "default"
  Config config;
  std::optional<double> time_ns;  // of the matched entry (on its own sizes); None for "default"
  std::string tuned_device;       // the device the entry was tuned on; "" for "default"
  Sizes tuned_sizes;              // the sizes the entry was tuned at; {} for "default"
  double distance = 0;            // size distance to the entry (0 when exact)
};

// What a tuning answers: the winner and what it cost.
struct TuneResult {
  std::string rule;  // "tuned", or "exact" when the lookup table already had the answer
  Config config;
  double time_ns = 0;
  std::optional<double> default_ns;
  DeviceSignature device;
  std::string arch;
  std::string strategy;
  std::size_t evaluated = 0, from_store = 0;
  std::map<std::string, std::size_t> by_status;
  double wall_seconds = 0, compile_seconds = 0, gpu_seconds = 0;
  // A pipeline: each kernel's entry (as the spec names it) and median in the best's measurement.
  std::vector<std::string> stage_entries;
  std::vector<double> stage_ns;
};

TuneResult result_from(TuneOutcome&& outcome, const std::vector<std::string>& stage_entries) {
  TuneResult r;
  r.stage_ns = std::move(outcome.report.best_stage_ns);
  for (std::size_t i = 0; i < r.stage_ns.size(); ++i) r.stage_entries.push_back(i < stage_entries.size() ? stage_entries[i] : "");
  r.rule = outcome.answered_from_lookup ? "exact" : "tuned";
  r.config = std::move(outcome.report.best);
  r.time_ns = outcome.report.best_ns;
  r.default_ns = outcome.report.default_ns;
  r.device = std::move(outcome.device);
  r.arch = std::move(outcome.arch);
  r.strategy = std::move(outcome.report.strategy);
  r.evaluated = outcome.report.evaluated;
  r.from_store = outcome.report.from_store;
  r.by_status = std::move(outcome.report.by_status);
  r.wall_seconds = outcome.report.wall_seconds;
  r.compile_seconds = outcome.report.compile_seconds;
  r.gpu_seconds = outcome.report.gpu_seconds;
  return r;
}

// One compiled configuration; `launch` and `rule` are known when sizes were given (binary, or
// compile with sizes).
struct Compiled {
  CompiledKernel kernel;
  std::optional<LaunchDims> launch;
  std::optional<std::string> rule;
  // With sizes: each kernel a run launches (a pipeline's stages) and the setup kernels (KernelBinary).
  std::vector<BinaryKernel> stages, setup;
};

nb::tuple launch_tuple(const LaunchDims& l) {
  return nb::make_tuple(nb::make_tuple(l.grid[0], l.grid[1], l.grid[2]), nb::make_tuple(l.block[0], l.block[1], l.block[2]),
                        l.dynamic_shared_bytes);
}

// A tune_async request: the engine's future and what its callbacks raised.
struct TuneFuture {
  std::shared_future<Result<TuneOutcome>> future;
  std::shared_ptr<CallbackErrors> errors;
  std::vector<std::string> stage_entries;  // a pipeline's kernels, for TuneResult::stage_entries

  bool done() const { return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }
  TuneResult result(std::optional<double> timeout) const {
    {
      nb::gil_scoped_release unlocked;
      if (timeout) {
        if (future.wait_for(milliseconds_from(*timeout, "timeout")) != std::future_status::ready) {
          nb::gil_scoped_acquire locked;
          PyErr_SetString(PyExc_TimeoutError, "the tuning did not finish in time (it keeps running)");
          throw nb::python_error();
        }
      } else {
        future.wait();
      }
    }
    errors->rethrow();
    Result<TuneOutcome> outcome = future.get();  // a copy: the shared state keeps its own
    return result_from(unwrap(std::move(outcome)), stage_entries);
  }
};

struct PyEngine {
  std::unique_ptr<Engine> engine;

  Engine& get() {
    if (!engine) throw KtuneError(make_error(Errc::unsupported, "the engine was closed"));
    return *engine;
  }
  ~PyEngine() {
    // The engine's threads may be waiting for the GIL (a callback): let them finish.
    if (engine && PyGILState_Check()) {
      nb::gil_scoped_release unlocked;
      engine.reset();
    }
  }
};

// The device a lookup or binary is asked for: as given, else this engine's (c_api.cpp device_for).
DeviceSignature device_for(Engine& engine, const std::optional<std::string>& name, const std::optional<std::string>& arch) {
  DeviceSignature device{name.value_or(""), arch.value_or("")};
  if (device.name.empty() || device.arch.empty()) {
    Result<DeviceSignature> own = [&] {
      nb::gil_scoped_release unlocked;  // may start the runner
      return engine.device();
    }();
    if (!own)
      throw KtuneError(make_error(own.error().code, own.error().message +
                                                        "; pass device= and arch= to look up for another machine "
                                                        "(e.g. \"NVIDIA H100 80GB HBM3\", \"sm_90\")"));
    if (device.name.empty()) device.name = own->name;
    if (device.arch.empty()) device.arch = own->arch;
  }
  return device;
}

TuneOptions tune_options(const std::optional<std::string>& strategy, std::size_t budget, double max_seconds, bool force,
                         bool refine, const std::optional<std::string>& arch, std::uint64_t seed, const nb::handle& progress,
                         const nb::handle& on_evaluation, const std::shared_ptr<CallbackErrors>& errors) {
  TuneOptions options;
  if (strategy) options.strategy = *strategy;
  options.limits.max_evaluations = budget;
  if (!(max_seconds >= 0) || std::isinf(max_seconds))
    throw KtuneError(make_error(Errc::invalid_argument, "max_seconds must be a finite number >= 0"));
  options.limits.max_seconds = max_seconds;
  options.force = force;
  options.refine = refine;
  if (arch) options.arch = *arch;
  options.seed = seed;
  if (!progress.is_none()) {
    PythonCallback call(progress, errors);
    options.hooks.on_progress = [call](const TuneProgress& p) { call(p); };
  }
  if (!on_evaluation.is_none()) {
    PythonCallback call(on_evaluation, errors);
    options.hooks.on_evaluation = [call](const Evaluation& e) { call(e); };
  }
  return options;
}

template <class T>
T wait_released(const std::shared_future<Result<T>>& future) {
  Result<T> result = [&] {
    nb::gil_scoped_release unlocked;
    return future.get();
  }();
  return unwrap(std::move(result));
}

std::optional<double> time_of(const Evaluation& e) { return e.time_ns(); }

std::optional<double> timing_field(const Evaluation& e, double store::TimingStats::*field) {
  if (!e.measurement.timing) return std::nullopt;
  return (*e.measurement.timing).*field;
}

}  // namespace

void bind_engine(nb::module_& m) {
  nb::class_<DeviceSignature>(m, "Device", "A GPU as ktune keys it: its name and architecture.")
      .def(nb::init<>())
      .def("__init__", [](DeviceSignature* d, std::string name, std::string arch) { new (d) DeviceSignature{std::move(name), std::move(arch)}; },
           "name"_a, "arch"_a)
      .def_ro("name", &DeviceSignature::name)
      .def_ro("arch", &DeviceSignature::arch)
      .def("__eq__", [](const DeviceSignature& a, const DeviceSignature& b) { return a == b; })
      .def("__repr__", [](const DeviceSignature& d) { return "Device(" + d.name + ", " + d.arch + ")"; });

  nb::class_<EngineOptions::Recording>(m, "Recording",
                                       "Measurements to replay instead of a GPU: a store recorded on `device` "
                                       "(a name such as \"NVIDIA H100 80GB HBM3\") of architecture `arch`, with NVRTC "
                                       "`nvrtc_version` (default: this machine's).")
      .def("__init__",
           [](EngineOptions::Recording* r, std::filesystem::path store, std::string device, std::string arch,
              std::optional<std::string> nvrtc_version) {
             new (r) EngineOptions::Recording{std::move(store), DeviceSignature{std::move(device), std::move(arch)},
                                               nvrtc_version ? Toolchain{*nvrtc_version} : current_toolchain()};
           },
           "store"_a, "device"_a, "arch"_a, "nvrtc_version"_a = nb::none())
      .def_ro("store", &EngineOptions::Recording::store)
      .def_prop_ro("device", [](const EngineOptions::Recording& r) { return r.device; })
      .def_prop_ro("nvrtc_version", [](const EngineOptions::Recording& r) { return r.toolchain.nvrtc_version; });

  nb::class_<Answer>(m, "Answer", "What a lookup answers (rule: exact, bucket, nearest_size, same_arch or default).")
      .def_ro("rule", &Answer::rule)
      .def_prop_ro("config", [](const Answer& a) { return dict_from_named(a.config); })
      .def_ro("time_ns", &Answer::time_ns)
      .def_ro("tuned_device", &Answer::tuned_device)
      .def_prop_ro("tuned_sizes", [](const Answer& a) { return dict_from_named(a.tuned_sizes); })
      .def_ro("distance", &Answer::distance)
      .def("__repr__", [](const Answer& a) { return "Answer(" + a.rule + ": " + format_named(a.config) + ")"; });

  nb::class_<TuneResult>(m, "TuneResult", "What a tuning answers: the best configuration and what it cost.")
      .def_ro("rule", &TuneResult::rule)
      .def_prop_ro("config", [](const TuneResult& r) { return dict_from_named(r.config); })
      .def_ro("time_ns", &TuneResult::time_ns)
      .def_ro("default_ns", &TuneResult::default_ns)
      .def_ro("device", &TuneResult::device)
      .def_ro("arch", &TuneResult::arch)
      .def_ro("strategy", &TuneResult::strategy)
      .def_ro("evaluated", &TuneResult::evaluated)
      .def_ro("from_store", &TuneResult::from_store)
      .def_ro("by_status", &TuneResult::by_status)
      .def_ro("wall_seconds", &TuneResult::wall_seconds)
      .def_ro("compile_seconds", &TuneResult::compile_seconds)
      .def_ro("gpu_seconds", &TuneResult::gpu_seconds)
      .def_prop_ro(
          "stages",
          [](const TuneResult& r) {
            nb::list out;
            for (std::size_t i = 0; i < r.stage_ns.size(); ++i) {
              nb::dict stage;
              stage["entry"] = r.stage_entries[i];
              stage["median_ns"] = r.stage_ns[i];
              out.append(stage);
            }
            return out;
          },
          "A pipeline: each kernel's {\"entry\", \"median_ns\"} in the best's measurement, in launch order (as "
          "`ktune tune --json` best_stages); [] for a single kernel.")
      .def("__repr__", [](const TuneResult& r) {
        return "TuneResult(" + r.rule + ": " + format_named(r.config) + ", " + std::to_string(r.time_ns) + " ns)";
      });

  nb::class_<TuneProgress>(m, "Progress", "Passed to a tuning's progress callback.")
      .def_ro("evaluated", &TuneProgress::evaluated)
      .def_ro("from_store", &TuneProgress::from_store)
      .def_ro("planned", &TuneProgress::planned)
      .def_ro("valid", &TuneProgress::valid)
      .def_ro("best_ns", &TuneProgress::best_ns)
      .def_prop_ro("best", [](const TuneProgress& p) { return dict_from_named(p.best); })
      .def_ro("elapsed_seconds", &TuneProgress::elapsed_seconds)
      .def_ro("gpu_seconds", &TuneProgress::gpu_seconds)
      .def_prop_ro("done", &TuneProgress::done);

  nb::class_<Evaluation>(m, "Measurement", "One evaluated configuration (measure, and a tuning's on_evaluation callback).")
      .def_prop_ro("config", [](const Evaluation& e) { return dict_from_named(e.measurement.config); })
      .def_prop_ro("status", [](const Evaluation& e) { return std::string(to_string(e.measurement.status)); })
      .def_prop_ro("time_ns", &time_of, "The median time, None unless status is \"ok\".")
      .def_prop_ro("message", [](const Evaluation& e) { return e.measurement.message; })
      .def_prop_ro("registers", [](const Evaluation& e) { return e.measurement.registers; })
      .def_prop_ro("shared_bytes", [](const Evaluation& e) { return e.measurement.shared_bytes; })
      .def_prop_ro("compile_seconds", [](const Evaluation& e) { return e.measurement.compile_seconds; })
      .def_ro("gpu_seconds", &Evaluation::gpu_seconds)
      .def_ro("from_store", &Evaluation::from_store)
      // The timing's statistics (Kernel Tuner's results carry them); None unless status is "ok".
      .def_prop_ro("min_ns", [](const Evaluation& e) { return timing_field(e, &store::TimingStats::min_ns); })
      .def_prop_ro("mean_ns", [](const Evaluation& e) { return timing_field(e, &store::TimingStats::mean_ns); })
      .def_prop_ro("stddev_ns", [](const Evaluation& e) { return timing_field(e, &store::TimingStats::stddev_ns); })
      .def_prop_ro("samples", [](const Evaluation& e) -> std::optional<std::int64_t> {
        if (!e.measurement.timing) return std::nullopt;
        return e.measurement.timing->samples;
      })
      .def_prop_ro("stage_ns", [](const Evaluation& e) { return e.measurement.stage_median_ns; },
                   "A pipeline: each kernel's median in ns over the same samples as time_ns, in launch order; [] "
                   "for a single kernel.");

  nb::class_<TunedConfig>(m, "TunedConfig",
                          "Engine.get's progressive answer: the best configuration known now, improved by a "
                          "background tuning.")
      .def_prop_ro("config", [](const TunedConfig& t) { return dict_from_named(t.config()); })
      .def_prop_ro("tuned", &TunedConfig::tuned, "The background tuning has finished successfully.")
      .def_prop_ro("source", &TunedConfig::source, "\"exact\", \"nearest_size\", \"same_arch\", \"default\" or \"tuned\".")
      .def(
          "wait",
          [](const TunedConfig& t) {
            Status waited = [&] {
              nb::gil_scoped_release unlocked;
              return t.wait();
            }();
            check(std::move(waited));
          },
          "Waits for the background tuning; raises its error.")
      .def("__repr__", [](const TunedConfig& t) { return "TunedConfig(" + t.source() + ": " + format_named(t.config()) + ")"; });

  nb::class_<Compiled>(m, "CompiledKernel",
                       "A compiled configuration: cubin (ELF bytes for cuModuleLoadData), entry (the lowered symbol), "
                       "and, when sizes were given, launch = (grid, block, dynamic_shared_bytes).")
      .def_prop_ro("cubin", [](const Compiled& c) { return nb::bytes(c.kernel.cubin.data(), c.kernel.cubin.size()); })
      .def_prop_ro("entry", [](const Compiled& c) { return c.kernel.entry; })
      .def_prop_ro("arch", [](const Compiled& c) { return c.kernel.arch; })
      .def_prop_ro("config", [](const Compiled& c) { return dict_from_named(c.kernel.config); })
      .def_prop_ro("from_cache", [](const Compiled& c) { return c.kernel.from_cache; })
      .def_prop_ro("compile_seconds", [](const Compiled& c) { return c.kernel.compile_seconds; })
      .def_prop_ro("log", [](const Compiled& c) { return c.kernel.log; })
      .def_ro("rule", &Compiled::rule)
      .def_prop_ro("launch", [](const Compiled& c) -> nb::object {
        if (!c.launch) return nb::none();
        return launch_tuple(*c.launch);
      })
      .def_ro("stages", &Compiled::stages,
              "With sizes: what one run launches, in order on one stream (one kernel, or a pipeline's stages).")
      .def_ro("setup", &Compiled::setup,
              "With sizes: setup kernels, launched once in order after loading the cubin, before the first run.");

  nb::class_<BinaryKernel>(m, "BinaryKernel", "One kernel of a compiled configuration's cubin as a program launches it.")
      .def_ro("entry", &BinaryKernel::entry, "the lowered symbol, for cuModuleGetFunction")
      .def_prop_ro("launch", [](const BinaryKernel& k) { return launch_tuple(k.launch); },
                   "(grid, block, dynamic_shared_bytes)")
      .def_ro("args", &BinaryKernel::args, "the spec's argument names, in the kernel's parameter order")
      .def("__repr__", [](const BinaryKernel& k) { return "BinaryKernel(" + k.entry + ")"; });

  nb::class_<TuneFuture>(m, "TuneFuture", "The engine's future of a tune_async request (ktune.Engine.tune_async wraps it).")
      .def("done", &TuneFuture::done)
      .def("result", &TuneFuture::result, "timeout"_a = nb::none(),
           "Waits (the GIL released) and returns the TuneResult, or raises the tuning's error; TimeoutError "
           "after `timeout` seconds.");

  nb::class_<PyEngine>(m, "Engine")
      .def(
          "__init__",
          [](PyEngine* self, std::optional<std::filesystem::path> db, std::size_t workers, int device,
             std::optional<EngineOptions::Recording> replay, std::optional<std::filesystem::path> cubin_cache,
             bool use_cubin_cache, std::optional<std::filesystem::path> worker_executable,
             std::optional<std::filesystem::path> runner_executable, double worker_idle_timeout,
             double runner_idle_timeout, bool warm_start) {
            EngineOptions options;
            if (db) options.store_path = *db;
            options.workers = workers;
            options.device = device;
            options.replay = std::move(replay);
            if (cubin_cache) options.cubin_cache_dir = *cubin_cache;
            options.use_cubin_cache = use_cubin_cache;
            if (worker_executable) options.worker_executable = *worker_executable;
            if (runner_executable) options.runner_executable = *runner_executable;
            options.lifecycle.worker_idle_timeout = milliseconds_from(worker_idle_timeout, "worker_idle_timeout");
            options.lifecycle.runner_idle_timeout = milliseconds_from(runner_idle_timeout, "runner_idle_timeout");
            options.lifecycle.warm_start = warm_start;
            auto created = [&] {
              nb::gil_scoped_release unlocked;
              return Engine::create(std::move(options));
            }();
            new (self) PyEngine{unwrap(std::move(created))};
          },
          "db"_a = nb::none(), "workers"_a = 0, "device"_a = 0, "replay"_a = nb::none(), "cubin_cache"_a = nb::none(),
          "use_cubin_cache"_a = true, "worker_executable"_a = nb::none(), "runner_executable"_a = nb::none(),
          "worker_idle_timeout"_a = 30.0, "runner_idle_timeout"_a = 60.0, "warm_start"_a = false)
      .def_prop_ro("store_path", [](PyEngine& e) { return e.get().store_path(); })
      .def(
          "device",
          [](PyEngine& e) {
            Engine& engine = e.get();
            Result<DeviceSignature> device = [&] {
              nb::gil_scoped_release unlocked;  // starts the runner the first time
              return engine.device();
            }();
            return unwrap(std::move(device));
          },
           "The GPU this engine tunes on (the recording's when replaying); ktune.NoGpuError where there is none.")
      .def(
          "lookup",
          [](PyEngine& e, const Spec& spec, const nb::handle& sizes, std::optional<std::string> device,
             std::optional<std::string> arch) {
            Engine& engine = e.get();
            Sizes given = named_from_dict(sizes, "sizes");
            Result<store::LookupAnswer> found = (device || arch)
                                                    ? engine.lookup(spec.kernel, given, device_for(engine, device, arch))
                                                    : [&] {
                                                        nb::gil_scoped_release unlocked;  // the first may start the runner
                                                        return engine.lookup(spec.kernel, given);
                                                      }();
            store::LookupAnswer answer = unwrap(std::move(found));
            Answer a;
            if (answer.entry) {
              a.rule = std::string(store::to_string(answer.rule));
              a.config = answer.entry->config;
              a.time_ns = answer.entry->time_ns;
              a.tuned_device = answer.entry->tuning.device;
              a.tuned_sizes = answer.entry->tuning.sizes;
              a.distance = answer.distance;
            } else {
              a.rule = "default";
              a.config = spec.kernel.spec().default_config;
            }
            return a;
          },
          "spec"_a, "sizes"_a, "device"_a = nb::none(), "arch"_a = nb::none(),
          "Never tunes: the lookup table's answer for these sizes on this engine's device (or `device`/`arch`), "
          "else the spec's default with rule \"default\".")
      .def(
          "_tune_async",
          [](PyEngine& e, const Spec& spec, const nb::handle& sizes, std::optional<std::string> strategy, std::size_t budget,
             double max_seconds, bool force, bool refine, std::optional<std::string> arch, std::uint64_t seed,
             const nb::handle& progress, const nb::handle& on_evaluation) {
            Engine& engine = e.get();
            Sizes given = named_from_dict(sizes, "sizes");
            auto errors = std::make_shared<CallbackErrors>();
            TuneOptions options =
                tune_options(strategy, budget, max_seconds, force, refine, arch, seed, progress, on_evaluation, errors);
            std::vector<std::string> stage_entries;
            for (const auto& stage : spec.kernel.spec().pipeline) stage_entries.push_back(stage.entry);
            nb::gil_scoped_release unlocked;
            return TuneFuture{engine.tune_async(spec.kernel.spec(), given, options), errors, std::move(stage_entries)};
          },
          "spec"_a, "sizes"_a, "strategy"_a = nb::none(), "budget"_a = 0, "max_seconds"_a = 0.0, "force"_a = false,
          "refine"_a = false, "arch"_a = nb::none(), "seed"_a = 1, "progress"_a = nb::none(), "on_evaluation"_a = nb::none(),
          "Starts a tuning on the engine's thread (ktune.Engine.tune waits for it, tune_async wraps it in a "
          "concurrent.futures.Future); the callbacks run on that thread with the GIL held.")
      .def(
          "get",
          [](PyEngine& e, const Spec& spec, const nb::handle& sizes, std::optional<std::string> strategy, std::size_t budget,
             double max_seconds, std::optional<std::string> arch, std::uint64_t seed) {
            Engine& engine = e.get();
            Sizes given = named_from_dict(sizes, "sizes");
            auto errors = std::make_shared<CallbackErrors>();
            TuneOptions options =
                tune_options(strategy, budget, max_seconds, false, false, arch, seed, nb::none(), nb::none(), errors);
            nb::gil_scoped_release unlocked;  // the first lookup may start the runner
            return engine.get(spec.kernel.spec(), given, options);
          },
          "spec"_a, "sizes"_a, "strategy"_a = nb::none(), "budget"_a = 0, "max_seconds"_a = 0.0, "arch"_a = nb::none(),
          "seed"_a = 1,
          "Answers at once with the best configuration known (lookup, any rule; the default when nothing matches) "
          "and, where that is not an exact answer, tunes in the background: .config improves when it finishes.")
      .def(
          "measure",
          [](PyEngine& e, const Spec& spec, const nb::handle& sizes, const nb::handle& config) {
            Engine& engine = e.get();
            Sizes given = named_from_dict(sizes, "sizes");
            Config chosen = named_from_dict(config, "config");
            Result<Evaluation> measured = [&] {
              nb::gil_scoped_release unlocked;
              return engine.measure(spec.kernel.spec(), given, chosen, TuneOptions{});
            }();
            return unwrap(std::move(measured));
          },
          "spec"_a, "sizes"_a, "config"_a,
          "Measures one configuration on the GPU (verified against the spec's reference) and records it.")
      .def(
          "compile",
          [](PyEngine& e, const Spec& spec, const nb::handle& config, std::optional<std::string> arch,
             const nb::handle& sizes) {
            Engine& engine = e.get();
            Config chosen = named_from_dict(config, "config");
            Compiled compiled;
            std::optional<runner::LaunchPlan> plan;
            if (!sizes.is_none()) {
              Sizes ordered = unwrap(spec.kernel.spec().ordered_sizes(named_from_dict(sizes, "sizes")));
              if (auto why = why_invalid_at(spec.kernel.spec().space, chosen, ordered))
                throw KtuneError(make_error(Errc::invalid_argument, format_named(chosen) + ": " + *why));
              plan = unwrap(plan_launch(spec.kernel.spec(), chosen, ordered));
            }
            std::shared_future<Result<CompiledKernel>> future = [&] {
              nb::gil_scoped_release unlocked;
              return engine.compile_async(spec.kernel.spec(), chosen, arch.value_or(""));
            }();
            compiled.kernel = wait_released(future);
            if (plan) {
              KernelBinary binary;
              binary.kernel.lowered_names = compiled.kernel.lowered_names;
              check(fill_kernels(binary, spec.kernel.spec(), *plan));
              compiled.launch = binary.launch;
              compiled.stages = std::move(binary.stages);
              compiled.setup = std::move(binary.setup);
            }
            return compiled;
          },
          "spec"_a, "config"_a, "arch"_a = nb::none(), "sizes"_a = nb::none(),
          "Compiles one configuration with NVRTC in a ktune-worker (through the cubin cache). arch: \"sm_90\"; None: "
          "this engine's device's. With sizes, the configuration is checked against the space at those sizes "
          "(InvalidArgumentError) and .launch holds the launch geometry; without, it is compiled as given.")
      .def(
          "binary",
          [](PyEngine& e, const Spec& spec, const nb::handle& sizes, std::optional<std::string> device,
             std::optional<std::string> arch) {
            Engine& engine = e.get();
            Sizes given = named_from_dict(sizes, "sizes");
            DeviceSignature target = device_for(engine, device, arch);
            Result<KernelBinary> binary = [&] {
              nb::gil_scoped_release unlocked;
              return engine.binary(spec.kernel.spec(), given, target);
            }();
            KernelBinary b = unwrap(std::move(binary));
            Compiled compiled;
            compiled.rule = b.rule == store::LookupRule::none ? std::string("default") : std::string(store::to_string(b.rule));
            compiled.launch = b.launch;
            compiled.kernel = std::move(b.kernel);
            compiled.stages = std::move(b.stages);
            compiled.setup = std::move(b.setup);
            return compiled;
          },
          "spec"_a, "sizes"_a, "device"_a = nb::none(), "arch"_a = nb::none(),
          "The tuned configuration at these sizes (lookup, any rule; the default when nothing is tuned), compiled, "
          "with its launch geometry: what a program launches.")
      .def(
          "counters",
          [](PyEngine& e) {
            EngineCounters c = e.get().counters();
            nb::dict d;
            d["compiles_started"] = c.compiles_started;
            d["compiles_finished"] = c.compiles_finished;
            d["compiles_failed"] = c.compiles_failed;
            d["compiles_from_cache"] = c.compiles_from_cache;
            d["wait_seconds"] = c.wait_seconds;
            d["tunings_run"] = c.tunings_run;
            d["tunings_from_table"] = c.tunings_from_table;
            d["lookups"] = c.lookups;
            d["workers_alive"] = c.workers_alive;
            d["runner_alive"] = c.runner_alive;
            return d;
          })
      .def(
          "close",
          [](PyEngine& e, double timeout) {
            if (!e.engine) return;
            auto wait = milliseconds_from(timeout, "timeout");
            Status stopped = [&] {
              nb::gil_scoped_release unlocked;
              return e.engine->shutdown(wait);
            }();
            check(std::move(stopped));
          },
          "timeout"_a = 10.0,
          "Stops the compile workers and the runner; later compiles, tunings and measurements raise, lookups keep "
          "working. Raises when a tuning was still running after `timeout` seconds.");
}

}  // namespace ktune::python
