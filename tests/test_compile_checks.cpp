// `ktune compile` and the compile service for kernels as people write them (issue #16 item 7):
// compile errors cached as failures, exit statuses, honest per-configuration figures, NVRTC
// warnings, --sample, the toolkit's CCCL headers on the include path, and the entry/args check
// before anything compiles. Real NVRTC and real worker processes; no GPU.
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "engine/compile_service.hpp"
#include "engine/model/included_headers.hpp"
#include "engine/model/instantiate.hpp"
#include "engine/model/spec.hpp"
#include "helpers/run_ktune.hpp"
#include "helpers/scratch_dir.hpp"
#include "workers/compile_pool.hpp"
#include "workers/nvrtc_compiler.hpp"

namespace {

using namespace ktune;
using ktune::testing::ScratchDir;
using ktune::testing::run_ktune;

// B=64 does not compile (an #error, as a kernel that refuses a configuration would); the others do.
std::string spec_text(const std::string& code, const std::string& params = R"({"B": [32, 64, 128]})",
                      const std::string& fallback_default = R"({"B": 32})") {
  nlohmann::json source = {{"code", code}};
  return R"({"ktune_spec": 1, "name": "checks", "entry": "k", "source": )" + source.dump() + R"(,
    "sizes": ["N"], "params": )" + params + R"(, "default": )" + fallback_default + R"js(,
    "launch": {"grid": ["ceil_div(N, B)"], "block": ["B"]},
    "args": [{"name": "x", "type": "float*", "count": "N", "output": true}, {"name": "n", "type": "int", "value": "N"}]})js";
}

const std::string kSomeFail = R"(
#if B == 64
#error B=64 is not supported
#endif
__global__ void k(float* x, int n) { int i = blockIdx.x * B + threadIdx.x; if (i < n) x[i] = 1.0f; }
)";

struct CompileChecks : ::testing::Test {
  std::string write_spec(const std::string& text) {
    const auto path = scratch / "spec.json";
    std::ofstream(path) << text;
    return path.string();
  }
  std::string compile(const std::string& spec, const std::string& extra = "") {
    return "compile " + spec + " --arch sm_90 --workers 2 --cache-dir " + (scratch / "cubins").string() + " " + extra;
  }
  ScratchDir scratch{"ktune-compile-checks"};
};

TEST_F(CompileChecks, ExpectedCompileErrorsExitZeroAndAreCachedAsFailures) {
  const std::string spec = write_spec(spec_text(kSomeFail));
  auto first = run_ktune(compile(spec));
  EXPECT_EQ(first.status, 0) << first.output;
  EXPECT_NE(first.output.find("2 of 3 configurations compiled"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("0 answered by the cubin cache"), std::string::npos) << first.output;
  // Per attempted configuration, the failure counted.
  EXPECT_NE(first.output.find("ms per attempted configuration (3 attempted, 1 of them failed)"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("failed: 1 (1 compile_error)"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("B=64  compile_error: "), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("B=64 is not supported"), std::string::npos) << first.output;

  // Again: nothing is compiled, the failure included.
  auto second = run_ktune(compile(spec));
  EXPECT_EQ(second.status, 0) << second.output;
  EXPECT_NE(second.output.find("3 answered by the cubin cache"), std::string::npos) << second.output;
  EXPECT_EQ(second.output.find("NVRTC time"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("B=64  compile_error (cached): "), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("B=64 is not supported"), std::string::npos) << second.output;

  auto strict = run_ktune(compile(spec, "--strict"));
  EXPECT_EQ(strict.status, 1) << strict.output;
  EXPECT_NE(strict.output.find("1 of 3 configurations failed to compile (--strict)"), std::string::npos) << strict.output;

  // --no-cache compiles again (and still exits 0).
  auto uncached = run_ktune(compile(spec, "--no-cache"));
  EXPECT_EQ(uncached.status, 0) << uncached.output;
  EXPECT_NE(uncached.output.find("(3 attempted, 1 of them failed)"), std::string::npos) << uncached.output;
}

TEST_F(CompileChecks, AChangedSourceIsCompiledAgainNotAnsweredByTheCachedFailure) {
  run_ktune(compile(write_spec(spec_text(kSomeFail))));
  std::string fixed = kSomeFail;
  fixed.replace(fixed.find("#if B == 64"), 11, "#if B == 65");
  auto run = run_ktune(compile(write_spec(spec_text(fixed))));
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("3 of 3 configurations compiled"), std::string::npos) << run.output;
}

TEST_F(CompileChecks, NothingCompilingIsExitOne) {
  const std::string spec = write_spec(spec_text(
      "#if B != 32\n#error only 32\n#endif\n__global__ void k(float* x, int n) {}\n", R"({"B": [32, 64]})"));
  // The default (B=32) compiles, so the check passes; the other one fails: still 0.
  EXPECT_EQ(run_ktune(compile(spec)).status, 0);
  const std::string none = write_spec(spec_text("#if B > 0\n#error never\n#endif\n__global__ void k(float* x, int n) {}\n"));
  auto run = run_ktune(compile(none, "--no-check"));
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("ktune: error: no configuration compiled: 3 of 3 configurations failed"), std::string::npos) << run.output;
}

TEST_F(CompileChecks, ABrokenEntryOrArgumentListStopsCompileAndSpaceWithExitOne) {
  const std::string templated = write_spec(spec_text(
      "template <typename T> __global__ void k(T* x, int n) {}\n"));
  for (const std::string& command : {compile(templated), std::string("space " + templated)}) {
    auto run = run_ktune(command);
    EXPECT_EQ(run.status, 1) << run.output;
    EXPECT_NE(run.output.find("entry: \"k\" is a function template; name the instance, e.g. \"k<float>\""), std::string::npos)
        << run.output;
    EXPECT_EQ(run.output.find("configurations compiled"), std::string::npos) << run.output;
  }
  const std::string mismatch = write_spec(spec_text("__global__ void k(float* x, long long n) {}\n"));
  auto run = run_ktune("space " + mismatch);
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("args.n: the kernel's parameter 2 is \"long long\", the spec says int32"), std::string::npos) << run.output;
  EXPECT_EQ(run_ktune("space " + mismatch + " --no-check").status, 0);
  auto check = run_ktune("check " + mismatch);
  EXPECT_EQ(check.status, 1) << check.output;
  EXPECT_NE(check.output.find("args.n: the kernel's parameter 2 is \"long long\""), std::string::npos) << check.output;
  // A usage error is 2.
  EXPECT_EQ(run_ktune("compile " + mismatch + " --sample 0").status, 2);
}

TEST_F(CompileChecks, SpaceReportsTheResolvedTemplateInstance) {
  const std::string spec = write_spec(spec_text("template <typename T> __global__ void k(T* x, int n) {}\n"));
  std::string text;
  {
    std::ifstream in(spec);
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  text.replace(text.find("\"entry\": \"k\""), 12, "\"entry\": \"k<float>\"");
  const std::string instance = write_spec(text);
  auto run = run_ktune("space " + instance);
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("entry        k<float> -> _Z1kIfEvPT_i, 2 parameters match args"), std::string::npos) << run.output;
  auto checked = run_ktune("check " + instance);
  EXPECT_EQ(checked.status, 0) << checked.output;
  EXPECT_NE(checked.output.find(": ok, k<float> -> _Z1kIfEvPT_i, 2 parameters match args"), std::string::npos) << checked.output;
  auto compiled = run_ktune(compile(instance));
  EXPECT_EQ(compiled.status, 0) << compiled.output;
  EXPECT_NE(compiled.output.find("3 of 3 configurations compiled"), std::string::npos) << compiled.output;
}

TEST_F(CompileChecks, WarningsAreShownOnRequestAndKeptWithTheCachedCubin) {
  const std::string spec = write_spec(spec_text(
      "__global__ void k(float* x, int n) { int unused_variable = 3; if (threadIdx.x < n) x[threadIdx.x] = B; }\n"));
  auto quiet = run_ktune(compile(spec));
  EXPECT_EQ(quiet.status, 0) << quiet.output;
  EXPECT_EQ(quiet.output.find("warning"), std::string::npos) << quiet.output;
  for (int run = 0; run < 2; ++run) {  // compiled, then from the cache: the log is kept with the cubin
    auto loud = run_ktune(compile(spec, "--warnings"));
    EXPECT_EQ(loud.status, 0) << loud.output;
    EXPECT_NE(loud.output.find("warnings: 1 distinct"), std::string::npos) << loud.output;
    EXPECT_NE(loud.output.find("[3 configurations] "), std::string::npos) << loud.output;
    EXPECT_NE(loud.output.find("unused_variable"), std::string::npos) << loud.output;
  }
}

// The failure lines of a compile run (they name the sampled configurations).
std::set<std::string> failure_lines(const std::string& output) {
  std::set<std::string> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (line.find("compile_error") != std::string::npos && line.rfind("  A=", 0) == 0) lines.insert(line.substr(0, line.find(':')));
  return lines;
}

TEST_F(CompileChecks, SampleCompilesADeterministicRandomSubset) {
  // 200 configurations; every B=1 one fails, so the failure list names what was sampled.
  std::string values;
  for (int a = 0; a < 100; ++a) values += (a ? ", " : "") + std::to_string(a);
  const std::string spec = write_spec(spec_text(
      "#if B == 1\n#error sampled\n#endif\n__global__ void k(float* x, int n) { x[0] = A; }\n",
      R"({"A": [)" + values + R"(], "B": [0, 1]})", R"({"A": 0, "B": 0})"));
  const std::string args = "--sample 12 --seed 7 --no-cache --show-failures 100";
  auto first = run_ktune(compile(spec, args));
  auto again = run_ktune(compile(spec, args));
  auto other = run_ktune(compile(spec, "--sample 12 --seed 8 --no-cache --show-failures 100"));
  EXPECT_NE(first.output.find("compiling 12 sampled (seed 7) of 200 configurations"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("of 12 configurations compiled"), std::string::npos) << first.output;
  EXPECT_FALSE(failure_lines(first.output).empty()) << first.output;
  EXPECT_EQ(failure_lines(first.output), failure_lines(again.output));
  EXPECT_NE(failure_lines(first.output), failure_lines(other.output));
}

TEST(CompileIncludes, CubFromTheToolkitsCcclFolderCompiles) {
  // Block-level CUB (cub/block, cub/warp) is what NVRTC can compile; cub/cub.cuh also pulls in the
  // device-wide algorithms' host launch code, which NVRTC refuses in JIT mode. The parameter is not
  // called B: parameters are macros, and CUB has `template <typename B>`.
  nlohmann::json source = {{"code", R"(
#include <cub/block/block_reduce.cuh>
__global__ void k(float* out, int n) {
  using Reduce = cub::BlockReduce<float, THREADS>;
  __shared__ typename Reduce::TempStorage storage;
  float sum = Reduce(storage).Sum(threadIdx.x < n ? 1.0f : 0.0f);
  if (threadIdx.x == 0) out[blockIdx.x] = sum;
})"}};
  auto spec = KernelSpec::from_json_text(R"({"ktune_spec": 1, "name": "cub", "entry": "k", "source": )" + source.dump() + R"(,
    "sizes": ["N"], "params": {"THREADS": [128]}, "default": {"THREADS": 128}, "launch": {"grid": [1], "block": ["THREADS"]},
    "args": [{"name": "out", "type": "float*", "count": 1, "output": true}, {"name": "n", "type": "int", "value": "N"}]})");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  const auto job = make_compile_job(*spec, spec->default_config, "sm_90");
  EXPECT_NE(std::find(job.options.begin(), job.options.end(), "-I" + toolkit_include_dir() + "/cccl"),
            job.options.end());
  const auto result = workers::compile_with_nvrtc(job);
  EXPECT_TRUE(result.ok()) << result.log.substr(0, 2000);
}

TEST(CompileService, ACompileErrorIsAnsweredFromTheCacheTheSecondTime) {
  ScratchDir scratch{"ktune-failure-cache"};
  auto spec = KernelSpec::from_json_text(spec_text(kSomeFail)).value_or_throw();
  CompileServiceOptions options;
  options.workers = 1;
  options.cubin_cache_dir = scratch / "cubins";
  auto service = CompileService::create(options).value_or_throw();
  auto compile_once = [&] {
    std::promise<CompileOutcome> done;
    auto answer = done.get_future();
    service->compile(spec, {{"B", 64}}, "sm_90", true, [&done](CompileOutcome r) { done.set_value(std::move(r)); });
    return answer.get();
  };
  const CompileOutcome first = compile_once();
  EXPECT_EQ(first.status, "compile_error");
  EXPECT_FALSE(first.from_cache);
  const CompileOutcome second = compile_once();
  EXPECT_EQ(second.status, "compile_error");
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(second.log, first.log);
  const auto stats = service->pool().stats();
  EXPECT_EQ(stats.cache_hits, 1u);
  EXPECT_EQ(stats.failed, 2u);
  EXPECT_EQ(stats.submitted, 2u);
}

}  // namespace
