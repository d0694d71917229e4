// The C API (engine/ktune.h) on top of ktune::Engine. Every entry point is noexcept: expected
// failures arrive as Result errors and become status codes, anything thrown becomes
// KTUNE_ERROR_INTERNAL; either way the one-line message goes to a thread-local string.
#include "engine/ktune.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <utility>

#include "engine/engine.hpp"
#include "engine/model/spec.hpp"
#include "engine/prepared_kernel.hpp"
#include "engine/version.hpp"

struct ktune_engine {
  std::unique_ptr<ktune::Engine> engine;
  std::string store_path;
  std::mutex device_mutex;
  std::optional<ktune::DeviceSignature> device;  // set once, never changed: pointers into it stay valid
};

// The C API's specs are immutable once loaded, so each is a PreparedKernel: its keys are computed
// once and ktune_lookup answers from the store's memory tier (docs/c-api.md, "Hot lookups").
struct ktune_spec {
  ktune::PreparedKernel prepared;
  const ktune::KernelSpec& spec;
  explicit ktune_spec(ktune::KernelSpec parsed) : prepared(ktune::PreparedKernel::from(std::move(parsed))), spec(prepared.spec()) {}
};

struct ktune_binary {
  ktune::KernelBinary binary;
  std::string config_text;
};

struct ktune_answer {
  ktune_rule rule = KTUNE_RULE_DEFAULT;
  ktune::Config config;
  std::string config_text;
  double time_ns = std::numeric_limits<double>::quiet_NaN();
  std::string tuned_device;
  double distance = 0;
  // A pipeline's kernels (entry as the spec names it) and each one's median; empty when unknown.
  std::vector<std::string> stage_entries;
  std::vector<double> stage_ns;
};

namespace {

thread_local std::string t_message;
thread_local const char* t_static_message = nullptr;  // used when the message itself cannot be allocated

ktune_status to_status(ktune::Errc code) noexcept {
  switch (code) {
    case ktune::Errc::invalid_spec: return KTUNE_ERROR_INVALID_SPEC;
    case ktune::Errc::invalid_argument: return KTUNE_ERROR_INVALID_ARGUMENT;
    case ktune::Errc::io: return KTUNE_ERROR_IO;
    case ktune::Errc::not_found: return KTUNE_ERROR_NOT_FOUND;
    case ktune::Errc::no_gpu: return KTUNE_ERROR_NO_GPU;
    case ktune::Errc::corrupt: return KTUNE_ERROR_CORRUPT;
    case ktune::Errc::conflict: return KTUNE_ERROR_CONFLICT;
    case ktune::Errc::unsupported: return KTUNE_ERROR_UNSUPPORTED;
    case ktune::Errc::internal: return KTUNE_ERROR_INTERNAL;
  }
  return KTUNE_ERROR_INTERNAL;
}

ktune_status fail(ktune_status status, const char* prefix, std::string_view message) noexcept {
  try {
    t_message.assign(prefix);
    t_message.append(message);
  } catch (...) {
    t_message.clear();
    t_static_message = "out of memory (while reporting an error)";
  }
  return status;
}

ktune_status fail(ktune_status status, std::string_view message) noexcept { return fail(status, "", message); }
ktune_status fail(const ktune::Error& error) noexcept { return fail(to_status(error.code), error.message); }

// A NULL required argument: "ktune_lookup: spec is NULL".
ktune_status null_argument(const char* function, const char* parameter) noexcept {
  try {
    return fail(KTUNE_ERROR_INVALID_ARGUMENT, std::string(function) + ": " + parameter + " is NULL");
  } catch (...) {
    return fail(KTUNE_ERROR_INVALID_ARGUMENT, "a required argument is NULL");
  }
}

// Runs one entry point's body: clears the last error, then maps whatever escapes to a status.
template <class Body>
ktune_status guarded(const char* function, Body&& body) noexcept {
  t_static_message = nullptr;
  t_message.clear();
  try {
    return std::forward<Body>(body)(function);
  } catch (const ktune::KtuneError& e) {
    return fail(e.error());
  } catch (const std::bad_alloc&) {
    t_static_message = "out of memory";
    return KTUNE_ERROR_INTERNAL;
  } catch (const std::exception& e) {
    return fail(KTUNE_ERROR_INTERNAL, function, std::string(": internal error: ") + e.what());
  } catch (...) {
    return fail(KTUNE_ERROR_INTERNAL, function, ": internal error: an unknown exception");
  }
}

// The entry points that read one field of a handle: both pointers checked, then one copy.
template <class Handle, class T, class Get>
ktune_status read_field(const char* function, const char* handle_name, const Handle* handle, T* out, Get get) noexcept {
  return guarded(function, [&](const char* fn) {
    if (!handle) return null_argument(fn, handle_name);
    if (!out) return null_argument(fn, "out");
    *out = get(*handle);
    return KTUNE_OK;
  });
}


ktune_rule to_rule(ktune::store::LookupRule rule) noexcept {
  switch (rule) {
    case ktune::store::LookupRule::exact: return KTUNE_RULE_EXACT;
    case ktune::store::LookupRule::bucket: return KTUNE_RULE_BUCKET;
    case ktune::store::LookupRule::nearest_size: return KTUNE_RULE_NEAREST_SIZE;
    case ktune::store::LookupRule::same_arch: return KTUNE_RULE_SAME_ARCH;
    case ktune::store::LookupRule::none: return KTUNE_RULE_DEFAULT;
  }
  return KTUNE_RULE_DEFAULT;
}

// The caller's parallel arrays as Sizes, as given (the prepared kernel checks and orders them
// once per size set).
ktune::Result<ktune::Sizes> given_sizes(const char* function, const char* const* names, const int64_t* values,
                                        size_t count) {
  const std::string where = std::string(function) + ": ";
  if (count > 0 && names == nullptr) return ktune::make_error(ktune::Errc::invalid_argument, where + "size_names is NULL");
  if (count > 0 && values == nullptr) return ktune::make_error(ktune::Errc::invalid_argument, where + "size_values is NULL");
  ktune::Sizes given;
  for (size_t i = 0; i < count; ++i) {
    if (names[i] == nullptr)
      return ktune::make_error(ktune::Errc::invalid_argument, where + "size_names[" + std::to_string(i) + "] is NULL");
    given.emplace_back(names[i], values[i]);
  }
  return given;
}

// The same in the spec's order, every size given exactly once.
ktune::Result<ktune::Sizes> sizes_from(const char* function, const ktune::KernelSpec& spec, const char* const* names,
                                       const int64_t* values, size_t count) {
  auto given = given_sizes(function, names, values, count);
  if (!given) return given.error();
  return spec.ordered_sizes(*given);
}

// This machine's GPU, asked once per engine.
ktune::Result<const ktune::DeviceSignature*> device_of(ktune_engine& handle) {
  std::lock_guard lock(handle.device_mutex);
  if (!handle.device) {
    auto device = handle.engine->device();
    if (!device) return device.error();
    handle.device = std::move(*device);
  }
  return &*handle.device;
}

// The device a lookup or binary is asked for: as given, else this machine's GPU.
ktune::Result<ktune::DeviceSignature> device_for(ktune_engine& engine, const char* device_name, const char* arch) {
  ktune::DeviceSignature device{device_name ? device_name : "", arch ? arch : ""};
  if (device.name.empty() || device.arch.empty()) {
    auto gpu = device_of(engine);
    if (!gpu) {
      return ktune::make_error(gpu.error().code, gpu.error().message + "; pass device_name and arch to look up for another machine "
                                                                       "(e.g. \"NVIDIA H100 80GB HBM3\", \"sm_90\")");
    }
    if (device.name.empty()) device.name = (*gpu)->name;
    if (device.arch.empty()) device.arch = (*gpu)->arch;
  }
  return device;
}

std::unique_ptr<ktune_answer> make_answer(const ktune::KernelSpec& spec, ktune_rule rule, ktune::Config config, double time_ns,
                                          std::string device, double distance) {
  auto answer = std::make_unique<ktune_answer>();
  answer->rule = rule;
  answer->config_text = spec.space.format(config);  // named choices as their strings
  answer->config = std::move(config);
  answer->time_ns = time_ns;
  answer->tuned_device = std::move(device);
  answer->distance = distance;
  return answer;
}

// The C form of ktune::EngineLifecycle's defaults (ktune_engine_options_init).
ktune_engine_options default_engine_options() noexcept {
  const ktune::EngineLifecycle defaults;
  ktune_engine_options options{};
  options.warm_start = defaults.warm_start ? 1 : 0;
  options.worker_idle_timeout_ms = static_cast<int64_t>(defaults.worker_idle_timeout.count());
  options.runner_idle_timeout_ms = static_cast<int64_t>(defaults.runner_idle_timeout.count());
  options.runner_frees_problem = defaults.runner_frees_problem ? 1 : 0;
  return options;
}

// ktune_engine_create and ktune_engine_create_with_options, with the caller's name in errors.
ktune_status create_engine(const char* fn, const ktune_engine_options& given, ktune_engine** out) {
  if (!out) return null_argument(fn, "out");
  if (given.worker_idle_timeout_ms < 0 || given.runner_idle_timeout_ms < 0)
    return fail(KTUNE_ERROR_INVALID_ARGUMENT, std::string(fn) + ": idle timeouts must be >= 0 (0 = never)");
  ktune::EngineOptions options;
  if (given.store_path) options.store_path = given.store_path;
  options.workers = given.workers;
  options.lifecycle.warm_start = given.warm_start != 0;
  options.lifecycle.worker_idle_timeout = std::chrono::milliseconds(given.worker_idle_timeout_ms);
  options.lifecycle.runner_idle_timeout = std::chrono::milliseconds(given.runner_idle_timeout_ms);
  options.lifecycle.runner_frees_problem = given.runner_frees_problem != 0;
  auto created = ktune::Engine::create(std::move(options));
  if (!created) return fail(created.error());
  auto handle = std::make_unique<ktune_engine>();
  handle->engine = std::move(*created);
  handle->store_path = handle->engine->store_path().string();
  *out = handle.release();
  return KTUNE_OK;
}

ktune_status load_spec(ktune::Result<ktune::KernelSpec> parsed, ktune_spec** out) {
  if (!parsed) return fail(parsed.error());
  *out = new ktune_spec(std::move(*parsed));
  return KTUNE_OK;
}

// A binary's stages (setup false) or setup kernels, checking `index` against their count.
ktune::Result<const ktune::BinaryKernel*> binary_kernel(const char* fn, const ktune_binary& binary, bool setup, size_t index) {
  const auto& kernels = setup ? binary.binary.setup : binary.binary.stages;
  if (index >= kernels.size())
    return ktune::make_error(ktune::Errc::invalid_argument, std::string(fn) + ": index " + std::to_string(index) +
                                                                " is out of range (the binary has " + std::to_string(kernels.size()) +
                                                                (setup ? " setup kernels)" : " kernels per run)"));
  return &kernels[index];
}

void write_launch(const ktune::LaunchDims& launch, int64_t grid[3], int64_t block[3], int64_t* shared_bytes) {
  for (std::size_t d = 0; d < 3; ++d) {
    grid[d] = launch.grid[d];
    block[d] = launch.block[d];
  }
  *shared_bytes = launch.dynamic_shared_bytes;
}

ktune_status binary_kernel_count(const char* fn, const ktune_binary* binary, bool setup, size_t* out) {
  return read_field(fn, "binary", binary, out, [setup](const ktune_binary& h) {
    return setup ? h.binary.setup.size() : h.binary.stages.size();
  });
}

ktune_status binary_kernel_launch(const char* function, const ktune_binary* binary, bool setup, size_t index, const char** entry,
                                  int64_t grid[3], int64_t block[3], int64_t* shared_bytes) {
  return guarded(function, [&](const char* fn) {
    if (!binary) return null_argument(fn, "binary");
    if (!entry) return null_argument(fn, "entry");
    if (!grid) return null_argument(fn, "grid");
    if (!block) return null_argument(fn, "block");
    if (!shared_bytes) return null_argument(fn, "shared_bytes");
    auto kernel = binary_kernel(fn, *binary, setup, index);
    if (!kernel) return fail(kernel.error());
    write_launch((*kernel)->launch, grid, block, shared_bytes);
    *entry = (*kernel)->entry.c_str();
    return KTUNE_OK;
  });
}

ktune_status binary_kernel_arg_count(const char* function, const ktune_binary* binary, bool setup, size_t index, size_t* out) {
  return guarded(function, [&](const char* fn) {
    if (!binary) return null_argument(fn, "binary");
    if (!out) return null_argument(fn, "out");
    auto kernel = binary_kernel(fn, *binary, setup, index);
    if (!kernel) return fail(kernel.error());
    *out = (*kernel)->args.size();
    return KTUNE_OK;
  });
}

ktune_status binary_kernel_arg(const char* function, const ktune_binary* binary, bool setup, size_t index, size_t arg,
                               const char** name) {
  return guarded(function, [&](const char* fn) {
    if (!binary) return null_argument(fn, "binary");
    if (!name) return null_argument(fn, "name");
    auto kernel = binary_kernel(fn, *binary, setup, index);
    if (!kernel) return fail(kernel.error());
    if (arg >= (*kernel)->args.size())
      return fail(KTUNE_ERROR_INVALID_ARGUMENT, std::string(fn) + ": argument " + std::to_string(arg) +
                                                    " is out of range (the kernel takes " +
                                                    std::to_string((*kernel)->args.size()) + ")");
    *name = (*kernel)->args[arg].c_str();
    return KTUNE_OK;
  });
}


}  // namespace

extern "C" {

int ktune_c_api_version(void) { return KTUNE_C_API_VERSION; }

const char* ktune_version(void) { return ktune::version_string(); }

const char* ktune_status_name(ktune_status status) {
  switch (status) {
    case KTUNE_OK: return "ok";
    case KTUNE_ERROR_INVALID_SPEC: return "invalid_spec";
    case KTUNE_ERROR_INVALID_ARGUMENT: return "invalid_argument";
    case KTUNE_ERROR_IO: return "io";
    case KTUNE_ERROR_NOT_FOUND: return "not_found";
    case KTUNE_ERROR_NO_GPU: return "no_gpu";
    case KTUNE_ERROR_CORRUPT: return "corrupt";
    case KTUNE_ERROR_CONFLICT: return "conflict";
    case KTUNE_ERROR_UNSUPPORTED: return "unsupported";
    case KTUNE_ERROR_INTERNAL: return "internal";
  }
  return "unknown";
}

const char* ktune_rule_name(ktune_rule rule) {
  switch (rule) {
    case KTUNE_RULE_EXACT: return "exact";
    case KTUNE_RULE_NEAREST_SIZE: return "nearest_size";
    case KTUNE_RULE_SAME_ARCH: return "same_arch";
    case KTUNE_RULE_DEFAULT: return "default";
    case KTUNE_RULE_TUNED: return "tuned";
    case KTUNE_RULE_BUCKET: return "bucket";
  }
  return "unknown";
}

const char* ktune_last_error_message(void) { return t_static_message ? t_static_message : t_message.c_str(); }

// ---- engine ----

ktune_status ktune_engine_options_init(ktune_engine_options* options) {
  return guarded(__func__, [&](const char* fn) {
    if (!options) return null_argument(fn, "options");
    *options = default_engine_options();
    return KTUNE_OK;
  });
}

ktune_status ktune_engine_create(const char* store_path, ktune_engine** out) {
  return guarded(__func__, [&](const char* fn) {
    ktune_engine_options options = default_engine_options();
    options.store_path = store_path;
    return create_engine(fn, options, out);
  });
}

ktune_status ktune_engine_create_with_options(const ktune_engine_options* given, ktune_engine** out) {
  return guarded(__func__, [&](const char* fn) {
    if (!given) return null_argument(fn, "options");
    return create_engine(fn, *given, out);
  });
}

void ktune_engine_destroy(ktune_engine* engine) {
  try {
    delete engine;
  } catch (...) {  // a destructor that throws would be a bug; it still must not cross into C
  }
}

ktune_status ktune_engine_wait_ready(ktune_engine* engine, int64_t timeout_ms) {
  return guarded(__func__, [&](const char* fn) {
    if (!engine) return null_argument(fn, "engine");
    auto ok = engine->engine->wait_ready(std::chrono::milliseconds(std::max<int64_t>(timeout_ms, 0)));
    return ok ? KTUNE_OK : fail(ok.error());
  });
}

ktune_status ktune_engine_shutdown(ktune_engine* engine, int64_t timeout_ms) {
  return guarded(__func__, [&](const char* fn) {
    if (!engine) return null_argument(fn, "engine");
    auto ok = engine->engine->shutdown(std::chrono::milliseconds(std::max<int64_t>(timeout_ms, 0)));
    return ok ? KTUNE_OK : fail(ok.error());
  });
}

ktune_status ktune_engine_counters(const ktune_engine* engine, ktune_counters* out) {
  return guarded(__func__, [&](const char* fn) {
    if (!engine) return null_argument(fn, "engine");
    if (!out) return null_argument(fn, "out");
    const ktune::EngineCounters c = engine->engine->counters();
    *out = ktune_counters{c.compiles_started, c.compiles_finished, c.compiles_failed, c.compiles_from_cache,
                          c.wait_seconds,     c.tunings_run,       c.tunings_from_table, c.lookups,
                          c.workers_alive,    c.runner_alive ? 1 : 0};
    return KTUNE_OK;
  });
}

ktune_status ktune_engine_store_path(const ktune_engine* engine, const char** out) {
  return read_field(__func__, "engine", engine, out, [](const ktune_engine& h) { return h.store_path.c_str(); });
}

ktune_status ktune_engine_device(ktune_engine* engine, const char** name, const char** arch) {
  return guarded(__func__, [&](const char* fn) {
    if (!engine) return null_argument(fn, "engine");
    if (!name) return null_argument(fn, "name");
    if (!arch) return null_argument(fn, "arch");
    auto device = device_of(*engine);
    if (!device) return fail(device.error());
    *name = (*device)->name.c_str();
    *arch = (*device)->arch.c_str();
    return KTUNE_OK;
  });
}

// ---- specs ----

ktune_status ktune_spec_load_file(const char* path, ktune_spec** out) {
  return guarded(__func__, [&](const char* fn) {
    if (!path) return null_argument(fn, "path");
    if (!out) return null_argument(fn, "out");
    return load_spec(ktune::KernelSpec::from_file(path), out);
  });
}

ktune_status ktune_spec_load_json(const char* json_text, const char* base_dir, ktune_spec** out) {
  return guarded(__func__, [&](const char* fn) {
    if (!json_text) return null_argument(fn, "json_text");
    if (!out) return null_argument(fn, "out");
    std::filesystem::path base = base_dir ? std::filesystem::path(base_dir) : std::filesystem::path();
    return load_spec(ktune::KernelSpec::from_json_text(json_text, base), out);
  });
}

void ktune_spec_destroy(ktune_spec* spec) {
  try {
    delete spec;
  } catch (...) {
  }
}

ktune_status ktune_spec_name(const ktune_spec* spec, const char** out) {
  return read_field(__func__, "spec", spec, out, [](const ktune_spec& h) { return h.spec.name.c_str(); });
}

ktune_status ktune_spec_size_count(const ktune_spec* spec, size_t* out) {
  return read_field(__func__, "spec", spec, out, [](const ktune_spec& h) { return h.spec.space.size_names.size(); });
}

ktune_status ktune_spec_size_name(const ktune_spec* spec, size_t index, const char** out) {
  return guarded(__func__, [&](const char* fn) {
    if (!spec) return null_argument(fn, "spec");
    if (!out) return null_argument(fn, "out");
    const auto& names = spec->spec.space.size_names;
    if (index >= names.size())
      return fail(KTUNE_ERROR_INVALID_ARGUMENT, std::string(fn) + ": index " + std::to_string(index) + " is out of range (" +
                                                    spec->spec.name + " has " + std::to_string(names.size()) + " sizes)");
    *out = names[index].c_str();
    return KTUNE_OK;
  });
}

// ---- lookup and tuning ----

// What ktune_lookup and ktune_tune take alike, checked: the sizes of the question, or why not
// (a NULL engine, spec or out is "FUNCTION: spec is NULL", as null_argument words it).
ktune::Result<ktune::Sizes> question_sizes(const char* fn, const ktune_engine* engine, const ktune_spec* spec,
                                           const char* const* size_names, const int64_t* size_values, size_t n_sizes,
                                           const void* out) {
  const char* missing = !engine ? "engine" : !spec ? "spec" : !out ? "out" : nullptr;
  if (missing) return ktune::make_error(ktune::Errc::invalid_argument, std::string(fn) + ": " + missing + " is NULL");
  return sizes_from(fn, spec->spec, size_names, size_values, n_sizes);
}

ktune_status ktune_lookup(ktune_engine* engine, const ktune_spec* spec, const char* const* size_names,
                          const int64_t* size_values, size_t n_sizes, const char* device_name, const char* arch,
                          ktune_answer** out) {
  return guarded(__func__, [&](const char* fn) {
    const char* missing = !engine ? "engine" : !spec ? "spec" : !out ? "out" : nullptr;
    if (missing) return null_argument(fn, missing);
    auto sizes = given_sizes(fn, size_names, size_values, n_sizes);
    if (!sizes) return fail(sizes.error());
    auto device = device_for(*engine, device_name, arch);
    if (!device) return fail(device.error());

    auto answer = engine->engine->lookup(spec->prepared, *sizes, *device);
    if (!answer) return fail(answer.error());
    std::unique_ptr<ktune_answer> result;
    if (answer->entry) {
      const auto& entry = *answer->entry;
      result = make_answer(spec->spec, to_rule(answer->rule), entry.config, entry.time_ns, entry.tuning.device, answer->distance);
    } else {
      result = make_answer(spec->spec, KTUNE_RULE_DEFAULT, spec->spec.default_config, std::numeric_limits<double>::quiet_NaN(), "", 0);
    }
    *out = result.release();
    return KTUNE_OK;
  });
}

ktune_status ktune_tune_options_init(ktune_tune_options* options) {
  return guarded(__func__, [&](const char* fn) {
    if (!options) return null_argument(fn, "options");
    *options = ktune_tune_options{};  // NULL strategy and arch, no limits, no refine or force
    return KTUNE_OK;
  });
}

ktune_status ktune_tune(ktune_engine* engine, const ktune_spec* spec, const char* const* size_names,
                        const int64_t* size_values, size_t n_sizes, const ktune_tune_options* options,
                        ktune_answer** out) {
  return guarded(__func__, [&](const char* fn) {
    auto sizes = question_sizes(fn, engine, spec, size_names, size_values, n_sizes, out);
    if (!sizes) return fail(sizes.error());

    ktune_tune_options given{};  // all zero: the defaults (ktune_tune_options_init)
    if (options) given = *options;
    if (!(given.max_seconds >= 0) || std::isinf(given.max_seconds))
      return fail(KTUNE_ERROR_INVALID_ARGUMENT, std::string(fn) + ": max_seconds must be a finite number >= 0");
    ktune::TuneOptions tune;
    if (given.strategy) tune.strategy = given.strategy;
    tune.limits.max_evaluations = static_cast<std::size_t>(given.max_evaluations);
    tune.limits.max_seconds = given.max_seconds;
    tune.refine = given.refine != 0;
    tune.force = given.force != 0;
    if (given.arch) tune.arch = given.arch;

    auto outcome = engine->engine->tune(spec->spec, *sizes, tune);
    if (!outcome) return fail(outcome.error());
    auto result = make_answer(spec->spec, outcome->answered_from_lookup ? KTUNE_RULE_EXACT : KTUNE_RULE_TUNED,
                              std::move(outcome->report.best), outcome->report.best_ns, outcome->device.name, 0);
    result->stage_ns = std::move(outcome->report.best_stage_ns);
    for (std::size_t i = 0; i < result->stage_ns.size(); ++i)
      result->stage_entries.push_back(i < spec->spec.pipeline.size() ? spec->spec.pipeline[i].entry : "");
    *out = result.release();
    return KTUNE_OK;
  });
}

ktune_status ktune_binary_get(ktune_engine* engine, const ktune_spec* spec, const char* const* size_names,
                              const int64_t* size_values, size_t n_sizes, const char* device_name, const char* arch,
                              ktune_binary** out) {
  return guarded(__func__, [&](const char* fn) {
    auto sizes = question_sizes(fn, engine, spec, size_names, size_values, n_sizes, out);
    if (!sizes) return fail(sizes.error());
    auto device = device_for(*engine, device_name, arch);
    if (!device) return fail(device.error());
    auto binary = engine->engine->binary(spec->spec, *sizes, *device);
    if (!binary) return fail(binary.error());
    auto handle = std::make_unique<ktune_binary>();
    handle->config_text = spec->spec.space.format(binary->kernel.config);
    handle->binary = std::move(*binary);
    *out = handle.release();
    return KTUNE_OK;
  });
}

void ktune_binary_destroy(ktune_binary* binary) { delete binary; }

ktune_status ktune_binary_cubin(const ktune_binary* binary, const void** data, size_t* size) {
  return guarded(__func__, [&](const char* fn) {
    if (!binary) return null_argument(fn, "binary");
    if (!data) return null_argument(fn, "data");
    if (!size) return null_argument(fn, "size");
    *data = binary->binary.kernel.cubin.data();
    *size = binary->binary.kernel.cubin.size();
    return KTUNE_OK;
  });
}

ktune_status ktune_binary_entry(const ktune_binary* binary, const char** out) {
  return read_field(__func__, "binary", binary, out, [](const ktune_binary& h) { return h.binary.kernel.entry.c_str(); });
}

ktune_status ktune_binary_arch(const ktune_binary* binary, const char** out) {
  return read_field(__func__, "binary", binary, out, [](const ktune_binary& h) { return h.binary.kernel.arch.c_str(); });
}

ktune_status ktune_binary_config_string(const ktune_binary* binary, const char** out) {
  return read_field(__func__, "binary", binary, out, [](const ktune_binary& h) { return h.config_text.c_str(); });
}

ktune_status ktune_binary_rule(const ktune_binary* binary, ktune_rule* out) {
  return read_field(__func__, "binary", binary, out, [](const ktune_binary& h) { return to_rule(h.binary.rule); });
}

ktune_status ktune_binary_launch(const ktune_binary* binary, int64_t grid[3], int64_t block[3], int64_t* shared_bytes) {
  return guarded(__func__, [&](const char* fn) {
    if (!binary) return null_argument(fn, "binary");
    if (!grid) return null_argument(fn, "grid");
    if (!block) return null_argument(fn, "block");
    if (!shared_bytes) return null_argument(fn, "shared_bytes");
    write_launch(binary->binary.launch, grid, block, shared_bytes);
    return KTUNE_OK;
  });
}

ktune_status ktune_binary_stage_count(const ktune_binary* binary, size_t* out) {
  return binary_kernel_count(__func__, binary, false, out);
}
ktune_status ktune_binary_stage(const ktune_binary* binary, size_t index, const char** entry, int64_t grid[3], int64_t block[3],
                                int64_t* shared_bytes) {
  return binary_kernel_launch(__func__, binary, false, index, entry, grid, block, shared_bytes);
}
ktune_status ktune_binary_stage_arg_count(const ktune_binary* binary, size_t index, size_t* out) {
  return binary_kernel_arg_count(__func__, binary, false, index, out);
}
ktune_status ktune_binary_stage_arg(const ktune_binary* binary, size_t index, size_t arg, const char** name) {
  return binary_kernel_arg(__func__, binary, false, index, arg, name);
}
ktune_status ktune_binary_setup_count(const ktune_binary* binary, size_t* out) {
  return binary_kernel_count(__func__, binary, true, out);
}
ktune_status ktune_binary_setup(const ktune_binary* binary, size_t index, const char** entry, int64_t grid[3], int64_t block[3],
                                int64_t* shared_bytes) {
  return binary_kernel_launch(__func__, binary, true, index, entry, grid, block, shared_bytes);
}
ktune_status ktune_binary_setup_arg_count(const ktune_binary* binary, size_t index, size_t* out) {
  return binary_kernel_arg_count(__func__, binary, true, index, out);
}
ktune_status ktune_binary_setup_arg(const ktune_binary* binary, size_t index, size_t arg, const char** name) {
  return binary_kernel_arg(__func__, binary, true, index, arg, name);
}

// ---- answers ----

void ktune_answer_destroy(ktune_answer* answer) { delete answer; }

ktune_status ktune_answer_rule(const ktune_answer* answer, ktune_rule* out) {
  return read_field(__func__, "answer", answer, out, [](const ktune_answer& h) { return h.rule; });
}

ktune_status ktune_answer_param_count(const ktune_answer* answer, size_t* out) {
  return read_field(__func__, "answer", answer, out, [](const ktune_answer& h) { return h.config.size(); });
}

ktune_status ktune_answer_param(const ktune_answer* answer, size_t index, const char** name, int64_t* value) {
  return guarded(__func__, [&](const char* fn) {
    if (!answer) return null_argument(fn, "answer");
    if (!name) return null_argument(fn, "name");
    if (!value) return null_argument(fn, "value");
    if (index >= answer->config.size())
      return fail(KTUNE_ERROR_INVALID_ARGUMENT, std::string(fn) + ": index " + std::to_string(index) +
                                                    " is out of range (the configuration has " +
                                                    std::to_string(answer->config.size()) + " parameters)");
    *name = answer->config[index].first.c_str();
    *value = answer->config[index].second;
    return KTUNE_OK;
  });
}

ktune_status ktune_answer_get(const ktune_answer* answer, const char* name, int64_t* value) {
  return guarded(__func__, [&](const char* fn) {
    if (!answer) return null_argument(fn, "answer");
    if (!name) return null_argument(fn, "name");
    if (!value) return null_argument(fn, "value");
    auto found = ktune::find_value(answer->config, name);
    if (!found)
      return fail(KTUNE_ERROR_NOT_FOUND, std::string(fn) + ": the configuration has no parameter " + name + " (it has " +
                                             answer->config_text + ")");
    *value = *found;
    return KTUNE_OK;
  });
}

ktune_status ktune_answer_config_string(const ktune_answer* answer, const char** out) {
  return read_field(__func__, "answer", answer, out, [](const ktune_answer& h) { return h.config_text.c_str(); });
}

ktune_status ktune_answer_time_ns(const ktune_answer* answer, double* out) {
  return read_field(__func__, "answer", answer, out, [](const ktune_answer& h) { return h.time_ns; });
}

ktune_status ktune_answer_tuned_device(const ktune_answer* answer, const char** out) {
  return read_field(__func__, "answer", answer, out, [](const ktune_answer& h) { return h.tuned_device.c_str(); });
}

ktune_status ktune_answer_distance(const ktune_answer* answer, double* out) {
  return read_field(__func__, "answer", answer, out, [](const ktune_answer& h) { return h.distance; });
}

ktune_status ktune_answer_stage_count(const ktune_answer* answer, size_t* out) {
  return read_field(__func__, "answer", answer, out, [](const ktune_answer& h) { return h.stage_ns.size(); });
}

ktune_status ktune_answer_stage_time_ns(const ktune_answer* answer, size_t index, const char** entry, double* time_ns) {
  return guarded(__func__, [&](const char* fn) {
    if (!answer) return null_argument(fn, "answer");
    if (!entry) return null_argument(fn, "entry");
    if (!time_ns) return null_argument(fn, "time_ns");
    if (index >= answer->stage_ns.size())
      return fail(KTUNE_ERROR_INVALID_ARGUMENT, std::string(fn) + ": index " + std::to_string(index) +
                                                    " is out of range (the answer has " + std::to_string(answer->stage_ns.size()) +
                                                    " kernel times)");
    *entry = answer->stage_entries[index].c_str();
    *time_ns = answer->stage_ns[index];
    return KTUNE_OK;
  });
}

}  // extern "C"
