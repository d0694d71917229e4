// `ktune doctor` — is this machine ready to compile and to tune? One line per check: "ok", "--"
// for something missing that limits what ktune can do here, "FAIL" for something that breaks it.
#include <nvrtc.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>

#include "engine/cuda/cupti_api.hpp"
#include "engine/cuda/driver_api.hpp"
#include "engine/engine.hpp"
#include "engine/model/toolchain.hpp"
#include "engine/store_file.hpp"  // default_store_path
#include "engine/version.hpp"
#include "tools/commands.hpp"

namespace ktune::cli {

namespace {

void line(const char* status, const std::string& what) { std::printf("  %-5s %s\n", status, what.c_str()); }

std::string human_bytes(std::uintmax_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit ? "%.1f %s" : "%.0f %s", value, units[unit]);
  return text;
}

// A real compile of a trivial kernel proves NVRTC and its builtins library load and work.
bool nvrtc_compiles(std::string& detail) {
  const char* source = "extern \"C\" __global__ void ktune_doctor(float* x) { x[threadIdx.x] *= 2.0f; }";
  nvrtcProgram program = nullptr;
  if (nvrtcCreateProgram(&program, source, "doctor.cu", 0, nullptr, nullptr) != NVRTC_SUCCESS) {
    detail = "nvrtcCreateProgram failed";
    return false;
  }
  const char* options[] = {"--gpu-architecture=sm_90"};
  auto start = std::chrono::steady_clock::now();
  nvrtcResult rc = nvrtcCompileProgram(program, 1, options);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::size_t cubin_size = 0;
  if (rc == NVRTC_SUCCESS) nvrtcGetCUBINSize(program, &cubin_size);
  nvrtcDestroyProgram(&program);
  if (rc != NVRTC_SUCCESS) {
    detail = std::string("test compile failed: ") + nvrtcGetErrorString(rc);
    return false;
  }
  char text[96];
  std::snprintf(text, sizeof text, "test compile to sm_90 CUBIN: %zu bytes in %.0f ms", cubin_size, ms);
  detail = text;
  return true;
}

// A compile through a library engine, as an embedding compiler would do it (a spawned worker, the
// cubin cache), reported with the engine's counters — the line a compiler's log would carry.
// The engine's store and cubin cache are scratch files: the doctor changes nothing of the user's.
bool engine_compiles(std::string& detail) {
  char pattern[] = "/tmp/ktune-doctor-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) {
    detail = "cannot make a scratch folder under /tmp";
    return false;
  }
  const std::filesystem::path scratch = pattern;
  struct Remove {
    std::filesystem::path path;
    ~Remove() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } remove{scratch};
  EngineOptions options;
  options.store_path = scratch / "store.db";
  options.cubin_cache_dir = scratch / "cubins";
  options.workers = 1;
  auto engine = Engine::create(options);
  if (!engine) {
    detail = engine.error().message;
    return false;
  }
  auto spec = KernelSpec::from_json_text(R"json({"ktune_spec": 1, "name": "doctor", "entry": "ktune_doctor", "sizes": ["n"],
    "source": {"code": "extern \"C\" __global__ void ktune_doctor(float* x, int n) { int i = blockIdx.x * TB + threadIdx.x; if (i < n) x[i] *= 2.0f; }"},
    "params": {"TB": [128]}, "default": {"TB": 128},
    "launch": {"grid": ["ceil_div(n, TB)"], "block": ["TB"]},
    "args": [{"name": "x", "type": "float*", "count": "n", "output": true}, {"name": "n", "type": "int", "value": "n"}]})json");
  if (!spec) {
    detail = spec.error().message;
    return false;
  }
  auto compiled = (*engine)->compile_async(*spec, spec->default_config, "sm_90").get();
  const EngineCounters c = (*engine)->counters();
  const EngineLifecycle lifecycle = options.lifecycle;
  char text[320];
  std::snprintf(text, sizeof text,
                "library engine: compiles started %llu, finished %llu, failed %llu, from cache %llu; waited %.2f s; "
                "workers alive %zu (exit after %lld s idle), runner after %lld s idle",
                static_cast<unsigned long long>(c.compiles_started), static_cast<unsigned long long>(c.compiles_finished),
                static_cast<unsigned long long>(c.compiles_failed), static_cast<unsigned long long>(c.compiles_from_cache),
                c.wait_seconds, c.workers_alive,
                static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(lifecycle.worker_idle_timeout).count()),
                static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(lifecycle.runner_idle_timeout).count()));
  detail = text;
  if (!compiled) detail += ": " + compiled.error().message;
  return compiled.ok();
}

std::filesystem::path self_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
}

int run() {
  bool broken = false;
  std::printf("ktune %s\n", version_string());

  Toolchain toolchain = current_toolchain();
  auto archs = nvrtc_supported_archs();
  std::string arch_text = archs.empty() ? "none" : "sm_" + std::to_string(archs.front()) + " .. sm_" + std::to_string(archs.back());
  std::string compile_detail;
  if (nvrtc_compiles(compile_detail)) {
    line("ok", "NVRTC " + toolchain.nvrtc_version + ", targets " + arch_text + "; " + compile_detail);
  } else {
    line("FAIL", "NVRTC " + toolchain.nvrtc_version + ": " + compile_detail);
    broken = true;
  }

  std::filesystem::path dir = self_dir();
  std::filesystem::path worker;
  for (auto candidate : {dir / "ktune-worker", dir / ".." / "workers" / "ktune-worker"})
    if (::access(candidate.c_str(), X_OK) == 0) {
      worker = candidate.lexically_normal();
      break;
    }
  if (worker.empty()) {
    line("FAIL", "ktune-worker not found next to " + (dir / "ktune").string() + " (compiles need it)");
    broken = true;
  } else {
    line("ok", "compile worker " + worker.string());
  }

  std::string engine_detail;
  if (engine_compiles(engine_detail)) {
    line("ok", engine_detail);
  } else {
    line("FAIL", engine_detail);
    broken = true;
  }

  auto devices = cuda::list_devices();
  if (devices) {
    auto api = cuda::DriverApi::load();
    int v = (*api)->driver_version;
    line("ok", "NVIDIA driver, CUDA " + std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10));
    for (const auto& d : *devices)
      line("ok", "GPU " + std::to_string(d.ordinal) + ": " + d.name + " (" + d.arch + ", " +
                     std::to_string(d.multiprocessors) + " SMs, " + human_bytes(d.total_memory) + ", L2 " +
                     human_bytes(static_cast<std::uintmax_t>(d.l2_cache_bytes)) + ")");
  } else {
    line("--", "GPU: " + devices.error().message);
    line("", "without a GPU: `ktune space`, `ktune key`, `ktune compile` and lookups work; tuning does not");
  }

  auto cupti = cuda::load_cupti();
  if (cupti)
    line("ok", "CUPTI " + std::to_string((*cupti)->api_version) + " (" + (*cupti)->path + "), kernel-only timing");
  else
    line("--", cupti.error().message + "; timing would fall back to CUDA events");

  auto cache = find_cache_dir();
  if (!cache && std::getenv("KTUNE_DB") == nullptr) {
    line("FAIL", cache.error().message);
    std::printf("ktune cannot work on this machine: see FAIL above\n");
    return 1;
  }
  std::filesystem::path store = default_store_path();
  std::error_code ec;
  if (std::filesystem::exists(store, ec))
    line("ok", "store " + store.string() + " (" + human_bytes(std::filesystem::file_size(store, ec)) + ")");
  else
    line("ok", "store " + store.string() + " (not created yet; the first tune or import creates it)");
  std::printf("%s\n", broken ? "ktune cannot work on this machine: see FAIL above" : "ready");
  return broken ? 1 : 0;
}

// `ktune doctor --store [PATH]`: every page of one store (PRAGMA integrity_check), read-only.
void check_store(const std::string& db_option) {
  const std::filesystem::path path = default_store_path(db_option);
  const auto started = std::chrono::steady_clock::now();
  auto store = StoreFile::open_read_only(path).value_or_throw();
  const auto problems = store.check_integrity().value_or_throw();
  if (!problems.empty())
    throw CliFailure("store '" + path.string() + "' is damaged: " + problems.front() +
                     (problems.size() > 1 ? " (and " + std::to_string(problems.size() - 1) + " more problems)" : ""));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::error_code ec;
  std::printf("store %s is intact (%s, every page checked in %.2f s)\n", path.c_str(),
              human_bytes(std::filesystem::file_size(path, ec)).c_str(), seconds);
}

}  // namespace

void add_doctor_command(CLI::App& app) {
  auto store = std::make_shared<std::optional<std::string>>();
  auto* cmd = app.add_subcommand("doctor", "Check the toolchain, GPU, CUPTI and store; say what works here");
  cmd->add_option("--store", *store,
                  "only check every page of this store (default: the default store) and exit non-zero if damaged")
      ->expected(0, 1);
  cmd->callback([store, cmd] {
    if (cmd->count("--store") > 0) return check_store(store->value_or(std::string{}));
    if (int rc = run(); rc != 0) throw CliFailure("doctor found a problem", rc);
  });
}

}  // namespace ktune::cli
