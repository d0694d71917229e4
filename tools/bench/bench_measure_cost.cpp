// What measuring one configuration costs at every kernel length (issue #13's goal: at most
// 3 ms + 20 x the kernel's time per configuration, as a median over a space, for kernels up to
// 1 ms). One synthetic kernel whose length is set by a size (ITERS: a dependent arithmetic chain
// per thread) is calibrated to each target length on this GPU, then its space of 20
// configurations (BLOCK x UNROLL) is tuned exhaustively from a fresh store; every configuration's
// runner time is split by phase (load, first run, verify, warm-up, sampling), with the samples
// taken and why sampling stopped. Needs a GPU.
//
//   bench_measure_cost [--lengths-us 1,10,100,1000,5000] [--repeats 1] [--markdown]
//                      [--record-samples N]   (every configuration sampled exactly N times, for
//                                              recording streams with KTUNE_RUNNER_SAMPLE_LOG)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "engine/engine.hpp"
#include "tools/bench/comma_list.hpp"

namespace {

using namespace ktune;

constexpr const char* kSpec = R"spec({
  "ktune_spec": 1,
  "name": "measure_cost_chain",
  "description": "A dependent multiply-add chain of ITERS steps per element: a kernel of any length.",
  "source": {"code": "extern \"C\" __global__ void chain(float* out, const float* in, int n, int iters) {\n  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i >= n) return;\n  float x = in[i];\n#pragma unroll UNROLL\n  for (int k = 0; k < iters; ++k) x = x * 0.9999f + 0.0001f;\n  out[i] = x;\n}\n"},
  "entry": "chain",
  "sizes": ["N", "ITERS"],
  "params": {"BLOCK": [64, 128, 256, 512, 1024], "UNROLL": [1, 2, 4, 8]},
  "default": {"BLOCK": 256, "UNROLL": 1},
  "launch": {"grid": ["ceil_div(N, BLOCK)"], "block": ["BLOCK"]},
  "args": [
    {"name": "out", "type": "float*", "count": "N", "output": true},
    {"name": "in", "type": "const float*", "count": "N", "init": "random"},
    {"name": "n", "type": "int", "value": "N"},
    {"name": "iters", "type": "int", "value": "ITERS"}
  ],
  "verify": {"against": "default", "rtol": 1e-3, "atol": 1e-3}
})spec";

std::vector<double> split_numbers(const std::string& text) {
  std::vector<double> out;
  for (const auto& item : bench::split_comma_list(text)) out.push_back(std::stod(item));
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct LengthResult {
  double target_us = 0, kernel_us = 0;
  std::size_t configs = 0;
  double wall_seconds = 0, compile_seconds = 0;
  std::vector<double> cost, load, first_run, verify, warm_up, sampling, samples;
  std::map<std::string, std::size_t> stops;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<double> lengths_us{1, 10, 100, 1000, 5000};
  std::size_t repeats = 1, record_samples = 0;
  bool markdown = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_measure_cost: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--lengths-us") lengths_us = split_numbers(next());
    else if (a == "--repeats") repeats = std::stoul(next());
    else if (a == "--record-samples") record_samples = std::stoul(next());
    else if (a == "--markdown") markdown = true;
    else {
      std::fprintf(stderr, "bench_measure_cost: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  auto spec = KernelSpec::from_json_text(kSpec);
  if (!spec) {
    std::fprintf(stderr, "bench_measure_cost: %s\n", spec.error().message.c_str());
    return 1;
  }
  const auto dir = std::filesystem::temp_directory_path() / ("ktune-bench-measure-cost-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  EngineOptions engine_options;
  engine_options.store_path = dir / "calibration.db";
  engine_options.cubin_cache_dir = dir / "cubins";
  auto engine = Engine::create(engine_options);
  if (!engine) {
    std::fprintf(stderr, "bench_measure_cost: %s\n", engine.error().message.c_str());
    return 1;
  }
  auto device = (*engine)->device();
  if (!device) {
    std::fprintf(stderr, "bench_measure_cost: needs a GPU: %s\n", device.error().message.c_str());
    return 3;
  }
  TuneOptions measure_options;
  auto kernel_us_at = [&](std::int64_t n, std::int64_t iters) -> double {
    auto e = (*engine)->measure(*spec, {{"N", n}, {"ITERS", iters}}, spec->default_config, measure_options);
    if (!e || !e->time_ns()) {
      std::fprintf(stderr, "bench_measure_cost: calibration failed: %s\n",
                   e ? e->measurement.message.c_str() : e.error().message.c_str());
      std::exit(1);
    }
    return *e->time_ns() * 1e-3;
  };

  std::vector<LengthResult> results;
  for (double target : lengths_us) {
    // Calibrate ITERS to the target on this GPU: the time is close to linear in ITERS. Below a
    // few microseconds a full wave of threads is already too long, so short targets get fewer.
    const std::int64_t n = target < 5 ? 8 * 1024 : 512 * 1024;
    const double base = kernel_us_at(n, 0);
    std::int64_t iters = 0;
    double at = base;
    if (target > base) {
      const double per_iter = std::max((kernel_us_at(n, 4096) - base) / 4096, 1e-6);
      for (int step = 0; step < 3 && std::abs(at - target) > 0.05 * target; ++step) {
        iters = std::max<std::int64_t>(1, iters + std::llround((target - at) / per_iter));
        at = kernel_us_at(n, iters);
      }
    }
    for (std::size_t r = 0; r < repeats; ++r) {
      LengthResult lr;
      lr.target_us = target;
      lr.kernel_us = at;
      EngineOptions fresh = engine_options;
      fresh.store_path = dir / ("tune-" + std::to_string(results.size()) + ".db");
      auto tuner = Engine::create(fresh);
      if (!tuner) return 1;
      TuneOptions options;
      options.strategy = "exhaustive";
      options.force = true;
      if (record_samples) {  // every configuration exactly record_samples times: no rule may stop it
        options.rule.min_samples = options.rule.max_samples = record_samples;
        options.rule.max_standard_error = -1;
        options.rule.budget_floor_seconds = options.rule.budget_seconds = 1e3;
        options.rule.prune_factor = 1e9;
        options.rule.race_after = record_samples + 1;
        options.limits.finalists = 0;
      }
      options.hooks.on_evaluation = [&](const Evaluation& e) {
        if (e.gpu_seconds <= 0) return;
        const auto& p = e.diagnostics.phases;
        lr.cost.push_back(1e3 * e.gpu_seconds);
        lr.load.push_back(1e3 * p.load);
        lr.first_run.push_back(1e3 * p.first_run);
        lr.verify.push_back(1e3 * p.verify);
        lr.warm_up.push_back(1e3 * p.warm_up);
        lr.sampling.push_back(1e3 * p.sampling);
        lr.samples.push_back(e.measurement.timing ? static_cast<double>(e.measurement.timing->samples) : 0.0);
        ++lr.stops[e.diagnostics.stop_reason.empty() ? std::string(store::to_string(e.measurement.status)) : e.diagnostics.stop_reason];
      };
      const auto start = std::chrono::steady_clock::now();
      auto outcome = (*tuner)->tune(*spec, {{"N", n}, {"ITERS", iters}}, options);
      lr.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!outcome) {
        std::fprintf(stderr, "bench_measure_cost: tuning failed: %s\n", outcome.error().message.c_str());
        return 1;
      }
      lr.configs = outcome->report.evaluated;
      lr.compile_seconds = outcome->report.compile_seconds;
      results.push_back(std::move(lr));
    }
  }

  std::printf("%s%s, one configuration's runner time by phase (medians over the space, ms)\n", markdown ? "" : "# ",
              device->name.c_str());
  if (markdown) {
    std::printf("| kernel | configs | cost | goal (3 ms + 20 T) | load | first run | verify | warm-up | sampling | samples | stopped | tuning wall |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  } else {
    std::printf("%10s %8s %9s %9s %7s %9s %7s %8s %9s %8s %9s  %s\n", "kernel_us", "configs", "cost_ms", "goal_ms", "load",
                "first_run", "verify", "warm_up", "sampling", "samples", "wall_s", "stopped");
  }
  for (const auto& r : results) {
    std::string stops;
    for (const auto& [why, count] : r.stops) stops += (stops.empty() ? "" : ", ") + why + " " + std::to_string(count);
    const double goal = 3 + 20 * r.kernel_us * 1e-3;
    if (markdown)
      std::printf("| %.1f µs | %zu | %.2f ms | %.2f ms | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f | %s | %.2f s |\n", r.kernel_us,
                  r.configs, median(r.cost), goal, median(r.load), median(r.first_run), median(r.verify), median(r.warm_up),
                  median(r.sampling), median(r.samples), stops.c_str(), r.wall_seconds);
    else
      std::printf("%10.1f %8zu %9.2f %9.2f %7.2f %9.2f %7.2f %8.2f %9.2f %8.0f %9.2f  %s\n", r.kernel_us, r.configs, median(r.cost),
                  goal, median(r.load), median(r.first_run), median(r.verify), median(r.warm_up), median(r.sampling),
                  median(r.samples), r.wall_seconds, stops.c_str());
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}
