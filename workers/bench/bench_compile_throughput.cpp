// Compile throughput of the compile pool: configurations per second for a small templated GEMM
// space with 1, 2, 4, ... workers, in three regimes:
//   cold        NVRTC's disk cache off (--no-cache) and an empty cubin cache: every config compiles
//   nvrtc-warm  NVRTC's disk cache on and primed, empty cubin cache (only differs from cold where
//               a driver is installed: NVRTC 13 keeps that cache through libcuda)
//   cubin-warm  every config is a cubin-cache hit: no worker runs
// Pool start-up is excluded (a tuning session warms the pool once) and reported separately.
//
// The "raw" column is the ceiling the pool is judged against: N bare processes (this program
// re-executed with --slice) each compiling 1/N of the configs in-process, cold, no pool at all,
// timed from the first spawn to the last exit.
//
//   bench_compile_throughput [--workers 1,2,4,8,16] [--configs 96] [--worker PATH]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "workers/process/child_process.hpp"
#include "workers/compile_pool.hpp"
#include "workers/cubin_cache.hpp"
#include "workers/nvrtc_compiler.hpp"

using namespace ktune::workers;
using namespace ktune::process;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const char* kGemm = R"(
template <int BM, int BN, int BK, int TM, int TN>
__global__ void __launch_bounds__((BM / TM) * (BN / TN))
sgemm(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C, int M, int N, int K) {
  constexpr int THREADS = (BM / TM) * (BN / TN);
  __shared__ float As[BK][BM];
  __shared__ float Bs[BK][BN];
  const int tid = threadIdx.x;
  const int tr = tid / (BN / TN), tc = tid % (BN / TN);
  const int br = blockIdx.y * BM, bc = blockIdx.x * BN;
  float acc[TM][TN] = {};
  float a[TM], b[TN];
  for (int k0 = 0; k0 < K; k0 += BK) {
    for (int i = tid; i < BM * BK; i += THREADS) {
      const int r = i / BK, c = i % BK;
      As[c][r] = (br + r < M && k0 + c < K) ? A[(size_t)(br + r) * K + k0 + c] : 0.0f;
    }
    for (int i = tid; i < BK * BN; i += THREADS) {
      const int r = i / BN, c = i % BN;
      Bs[r][c] = (k0 + r < K && bc + c < N) ? B[(size_t)(k0 + r) * N + bc + c] : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; ++k) {
#pragma unroll
      for (int m = 0; m < TM; ++m) a[m] = As[k][tr * TM + m];
#pragma unroll
      for (int n = 0; n < TN; ++n) b[n] = Bs[k][tc * TN + n];
#pragma unroll
      for (int m = 0; m < TM; ++m)
#pragma unroll
        for (int n = 0; n < TN; ++n) acc[m][n] += a[m] * b[n];
    }
    __syncthreads();
  }
#pragma unroll
  for (int m = 0; m < TM; ++m)
#pragma unroll
    for (int n = 0; n < TN; ++n) {
      const int r = br + tr * TM + m, c = bc + tc * TN + n;
      if (r < M && c < N) C[(size_t)r * N + c] = acc[m][n];
    }
}
)";

struct Gemm {
  int bm, bn, bk, tm, tn;
};

std::vector<Gemm> gemm_space(std::size_t limit) {
  std::vector<Gemm> space;
  for (int bm : {32, 64, 128})
    for (int bn : {32, 64, 128})
      for (int bk : {8, 16, 32})
        for (int tm : {2, 4, 8})
          for (int tn : {2, 4, 8}) {
            if ((bm / tm) * (bn / tn) > 1024 || (bm + bn) * bk * 4 > 49152) continue;
            if (space.size() < limit) space.push_back({bm, bn, bk, tm, tn});
          }
  return space;
}

CompileJob job_for(const Gemm& g, bool nvrtc_cache) {
  CompileJob job;
  job.source = kGemm;
  job.source_name = "bench_sgemm.cu";
  job.name_expressions = {"sgemm<" + std::to_string(g.bm) + ", " + std::to_string(g.bn) + ", " + std::to_string(g.bk) +
                          ", " + std::to_string(g.tm) + ", " + std::to_string(g.tn) + ">"};
  job.arch = "sm_90";
  job.use_nvrtc_cache = nvrtc_cache;
  return job;
}

struct Run {
  double seconds = 0;
  double startup_seconds = 0;
  std::size_t ok = 0;
  std::size_t hits = 0;
};

Run run(const fs::path& worker, std::size_t workers, const std::vector<Gemm>& space, bool nvrtc_cache, CubinCache* cache) {
  CompilePoolOptions o;
  o.workers = workers;
  o.worker_path = worker;
  o.cache = cache;
  auto pool = CompilePool::create(o);
  if (!pool) {
    std::fprintf(stderr, "%s\n", pool.error().message.c_str());
    std::exit(1);
  }
  Run r;
  const auto t0 = Clock::now();
  if (auto ready = (*pool)->wait_ready(); !ready) {
    std::fprintf(stderr, "%s\n", ready.error().message.c_str());
    std::exit(1);
  }
  const auto t1 = Clock::now();
  std::vector<std::future<CompileResult>> futures;
  futures.reserve(space.size());
  for (const auto& g : space) futures.push_back((*pool)->submit(job_for(g, nvrtc_cache)));
  for (auto& f : futures) {
    const CompileResult res = f.get();
    if (res.ok()) ++r.ok;
    if (res.from_cache) ++r.hits;
    if (!res.ok()) std::fprintf(stderr, "failed: %s %s\n", compile_status_name(res.status), res.log.c_str());
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  r.startup_seconds = std::chrono::duration<double>(t1 - t0).count();
  return r;
}

double raw_seconds(std::size_t n, std::size_t configs) {
  const auto t0 = Clock::now();
  std::vector<ChildProcess> children;
  for (std::size_t k = 0; k < n; ++k) {
    auto child = ChildProcess::spawn({"/proc/self/exe",
                                      {"--configs", std::to_string(configs), "--slice", std::to_string(k), std::to_string(n)},
                                      {}});
    if (!child) {
      std::fprintf(stderr, "%s\n", child.error().message.c_str());
      std::exit(1);
    }
    child->close_input();
    children.push_back(std::move(*child));
  }
  for (auto& c : children) {
    const ExitStatus status = c.wait();
    if (status.signaled || status.code != 0) std::fprintf(stderr, "raw slice %s\n", status.describe().c_str());
  }
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

fs::path fresh_dir(const std::string& tag) {
  const fs::path dir = fs::temp_directory_path() / ("ktune-bench-" + std::to_string(::getpid()) + "-" + tag);
  fs::remove_all(dir);
  return dir;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> counts;
  std::size_t configs = 96;
  fs::path worker = KTUNE_WORKER;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--workers" && i + 1 < argc) {
      std::string list = argv[++i];
      for (std::size_t p = 0; p < list.size();) {
        const std::size_t q = std::min(list.find(',', p), list.size());
        counts.push_back(std::stoul(list.substr(p, q - p)));
        p = q + 1;
      }
    } else if (arg == "--configs" && i + 1 < argc) {
      configs = std::stoul(argv[++i]);
    } else if (arg == "--slice" && i + 2 < argc) {
      const std::size_t k = std::stoul(argv[++i]), n = std::stoul(argv[++i]);
      const auto space = gemm_space(configs);
      int failures = 0;
      for (std::size_t j = k; j < space.size(); j += n)
        if (!compile_with_nvrtc(job_for(space[j], false)).ok()) ++failures;
      return failures == 0 ? 0 : 1;
    } else if (arg == "--worker" && i + 1 < argc) {
      worker = argv[++i];
    } else {
      std::fprintf(stderr, "usage: bench_compile_throughput [--workers 1,2,4] [--configs N] [--worker PATH]\n");
      return 2;
    }
  }
  const unsigned hw = std::max(1U, std::thread::hardware_concurrency());
  if (counts.empty())
    for (std::size_t n = 1; n <= hw; n *= 2) counts.push_back(n);
  const auto space = gemm_space(configs);

  std::printf("compile throughput: %zu templated sgemm configs, sm_90, %u hardware threads\n", space.size(), hw);
  // Prime NVRTC's own disk cache for the nvrtc-warm rows (a no-op where there is no driver).
  (void)run(worker, counts.back(), space, true, nullptr);

  std::printf("%8s  %12s  %12s  %9s  %12s  %12s  %10s\n", "workers", "cold cfg/s", "raw procs", "pool/raw",
              "nvrtc-warm", "cubin-warm", "startup s");
  for (std::size_t n : counts) {
    const fs::path cold_dir = fresh_dir("cold");
    auto cold_cache = CubinCache::open({cold_dir});
    const Run cold = run(worker, n, space, false, cold_cache->get());
    const Run warm_cubin = run(worker, n, space, false, cold_cache->get());  // now all hits
    const fs::path nv_dir = fresh_dir("nv");
    auto nv_cache = CubinCache::open({nv_dir});
    const Run warm_nvrtc = run(worker, n, space, true, nv_cache->get());
    if (cold.ok != space.size() || warm_cubin.hits != space.size() || warm_nvrtc.ok != space.size())
      std::fprintf(stderr, "warning: not every configuration compiled/hit\n");
    const double raw = static_cast<double>(space.size()) / raw_seconds(n, space.size());
    const auto rate = [&](const Run& r) { return static_cast<double>(space.size()) / r.seconds; };
    std::printf("%8zu  %12.1f  %12.1f  %8.0f%%  %12.1f  %12.0f  %10.3f\n", n, rate(cold), raw, 100.0 * rate(cold) / raw,
                rate(warm_nvrtc), rate(warm_cubin), cold.startup_seconds);
    std::fflush(stdout);
    fs::remove_all(cold_dir);
    fs::remove_all(nv_dir);
  }
  return 0;
}
