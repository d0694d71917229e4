// Pipelines (issue #16 item 6): several kernels launched in order on the spec's buffers and tuned
// together. Everything up to the GPU, for real: the spec parser and its errors, instantiate (one
// compile job naming every kernel, each kernel's launch and arguments), the real NVRTC compiling
// one cubin with both entries, the checks against each kernel's signature, the runner protocol's
// multi-kernel messages, the kernel key (single kernels unchanged), and the store keeping each
// kernel's time. The GPU side is tests/test_gpu_pipeline.cpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/kernel_check.hpp"
#include "engine/model/instantiate.hpp"
#include "engine/model/key.hpp"
#include "engine/runner/runner_protocol.hpp"
#include "store/store.hpp"
#include "workers/nvrtc_compiler.hpp"

namespace {

using namespace ktune;
using json = nlohmann::json;

const std::filesystem::path kExample = std::filesystem::path(KTUNE_SOURCE_DIR) / "examples" / "reduce_two_stage.json";

const char* kSource = R"(
extern "C" __global__ void scale(const float* x, float* tmp, int n, float a) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) tmp[i] = a * x[i];
}
extern "C" __global__ void shift(const float* tmp, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = tmp[i] + 1.0f;
}
)";

// A two-kernel spec (scale, then shift) as JSON, for tests to break one field at a time.
json pipeline_json() {
  return json::parse(R"J({
    "ktune_spec": 1, "name": "scale_shift", "sizes": ["n"],
    "params": {"TB": [64, 128], "TB2": [32, 256]}, "default": {"TB": 64, "TB2": 32},
    "pipeline": [
      {"entry": "scale", "launch": {"grid": ["ceil_div(n, TB)"], "block": ["TB"]}, "args": ["x", "tmp", "n", "a"]},
      {"entry": "shift", "launch": {"grid": ["ceil_div(n, TB2)"], "block": ["TB2"], "shared_memory": "TB2 * 4"},
       "args": ["tmp", "y", "n"]}
    ],
    "args": [
      {"name": "x", "type": "const float*", "count": "n", "init": "random"},
      {"name": "tmp", "type": "float*", "count": "n"},
      {"name": "y", "type": "float*", "count": "n", "output": true},
      {"name": "n", "type": "int", "value": "n"},
      {"name": "a", "type": "float", "value": 2.0}
    ]})J");
}

json with_source(json spec, const std::string& code = kSource) {
  spec["source"] = json{{"code", code}};
  return spec;
}

Result<KernelSpec> parse(const json& spec, const std::filesystem::path& dir = {}) {
  return KernelSpec::from_json_text(spec.dump(), dir);
}

// The parser's message without its "spec: " prefix.
std::string error_of(const json& spec, const std::filesystem::path& dir = {}) {
  auto parsed = parse(spec, dir);
  if (parsed) return "parsed";
  const std::string& message = parsed.error().message;
  return message.starts_with("spec: ") ? message.substr(6) : message;
}

TEST(PipelineSpec, ParsesStagesSharingTheSpecsArgumentsByName) {
  auto spec = parse(with_source(pipeline_json()));
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  ASSERT_TRUE(spec->is_pipeline());
  ASSERT_EQ(spec->pipeline.size(), 2u);
  EXPECT_EQ(spec->pipeline[0].entry, "scale");
  EXPECT_EQ(spec->pipeline[1].entry, "shift");
  EXPECT_EQ(spec->pipeline[0].args, (std::vector<std::size_t>{0, 1, 3, 4}));
  EXPECT_EQ(spec->pipeline[1].args, (std::vector<std::size_t>{1, 2, 3}));
  EXPECT_EQ(spec->entry, "scale");  // "the kernel" of code that shows one is the first
  EXPECT_EQ(spec->name_expressions_for(spec->default_config), (std::vector<std::string>{"scale", "shift"}));
}

TEST(PipelineSpec, BadPipelinesGetOneLineNamingTheField) {
  const json good = with_source(pipeline_json());
  auto broken = [&](auto&& edit) {
    json spec = good;
    edit(spec);
    return error_of(spec);
  };
  EXPECT_EQ(broken([](json& s) { s["entry"] = "scale"; }),
            "entry: a spec with a \"pipeline\" gives each kernel's entry and launch in pipeline[i]");
  EXPECT_EQ(broken([](json& s) { s["launch"] = json{{"grid", {1}}, {"block", {1}}}; }),
            "launch: a spec with a \"pipeline\" gives each kernel's entry and launch in pipeline[i]");
  EXPECT_EQ(broken([](json& s) { s["pipeline"].erase(1); }),
            "pipeline: a pipeline has two or more kernels; one kernel is \"entry\" and \"launch\"");
  EXPECT_EQ(broken([](json& s) { s["pipeline"] = "scale"; }), "pipeline: must be an array of kernels, got a string");
  EXPECT_EQ(broken([](json& s) { s["pipeline"][1]["args"][0] = "tmpp"; }),
            "pipeline[1].args[0]: no argument named \"tmpp\" in \"args\"");
  EXPECT_EQ(broken([](json& s) { s["pipeline"][1]["args"] = json::array({"tmp", "n"}); }),
            "args.y: no kernel of the pipeline takes it (list it in a pipeline[i].args)");
  EXPECT_EQ(broken([](json& s) { s["pipeline"][0]["args"][1] = 3; }),
            "pipeline[0].args[1]: must be the name of an argument in \"args\", got an integer");
  EXPECT_EQ(broken([](json& s) { s["pipeline"][1]["entry"] = "shfit"; }),
            "pipeline[1].entry: \"shfit\" does not appear in the kernel source's code nor in the headers it includes (comments and strings do not count)");
  EXPECT_EQ(broken([](json& s) { s["pipeline"][1].erase("launch"); }), "pipeline[1].launch: missing required field");
  EXPECT_EQ(broken([](json& s) { s["pipeline"][1]["launch"]["grid"] = json::array({"ceil_div(n, TBX)"}); }).rfind(
                "pipeline[1].launch.grid[0]: ", 0),
            0u);
  EXPECT_EQ(broken([](json& s) { s["pipeline"][0]["grids"] = 1; }).rfind("pipeline[0].grids: unknown field", 0), 0u);
}

TEST(PipelineSpec, AStageMayBringItsOwnSourceIntoTheTranslationUnit) {
  const auto dir = std::filesystem::temp_directory_path() / ("ktune-pipeline-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string source(kSource);
  const std::size_t split = source.find("extern \"C\" __global__ void shift");
  std::ofstream(dir / "shift.cu") << source.substr(split);
  json spec = with_source(pipeline_json(), source.substr(0, split));
  spec["pipeline"][1]["source"] = "shift.cu";
  auto parsed = parse(spec, dir);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_NE(parsed->source.find("#line 1 \"shift.cu\""), std::string::npos);
  EXPECT_EQ(parsed->pipeline[1].source_given, "shift.cu");
  // One compile, one cubin with both kernels.
  auto compiled = workers::compile_with_nvrtc(make_compile_job(*parsed, parsed->default_config, "sm_90"));
  EXPECT_TRUE(compiled.ok()) << compiled.log;
  EXPECT_EQ(compiled.lowered_names, (std::vector<std::string>{"scale", "shift"}));
  spec["pipeline"][1]["source"] = "missing.cu";
  EXPECT_EQ(error_of(spec, dir).rfind("pipeline[1].source: ", 0), 0u) << error_of(spec, dir);
  std::filesystem::remove_all(dir);
}

TEST(PipelineInstantiate, OneCompileJobNamesEveryKernelAndEachKernelHasItsLaunchAndArguments) {
  auto spec = parse(with_source(pipeline_json())).value_or_throw();
  const Config config{{"TB", 128}, {"TB2", 256}};
  auto instance = instantiate(spec, config, {{"n", 1000}}, "sm_90").value_or_throw();
  EXPECT_EQ(instance.compile.name_expressions, (std::vector<std::string>{"scale", "shift"}));
  EXPECT_EQ(instance.launch.shape.grid[0], 8);  // ceil_div(1000, 128)
  EXPECT_EQ(instance.launch.shape.block[0], 128);
  ASSERT_EQ(instance.launch.stage_shapes.size(), 1u);
  EXPECT_EQ(instance.launch.stage_shapes[0].grid[0], 4);  // ceil_div(1000, 256)
  EXPECT_EQ(instance.launch.stage_shapes[0].block[0], 256);
  EXPECT_EQ(instance.launch.stage_shapes[0].dynamic_shared_bytes, 1024);
  ASSERT_EQ(instance.launch.scalars.size(), 2u);  // n and a, shared by both kernels
  EXPECT_EQ(instance.launch.scalars[0].integer, 1000);
  EXPECT_EQ(instance.launch.scalars[1].floating, 2.0);

  auto problem = make_problem(spec, {{"n", 1000}}).value_or_throw();
  ASSERT_EQ(problem.buffers.size(), 3u);  // x, tmp, y: allocated once, shared
  auto slots = [](const std::vector<runner::ArgSlot>& args) {
    std::vector<std::pair<bool, std::size_t>> out;
    for (const auto& a : args) out.emplace_back(a.is_buffer, a.index);
    return out;
  };
  using Slots = std::vector<std::pair<bool, std::size_t>>;
  EXPECT_EQ(slots(problem.args), (Slots{{true, 0}, {true, 1}, {false, 0}, {false, 1}}));  // x tmp n a
  ASSERT_EQ(problem.stage_args.size(), 1u);
  EXPECT_EQ(slots(problem.stage_args[0]), (Slots{{true, 1}, {true, 2}, {false, 0}}));  // tmp y n

  // An expression a kernel's launch cannot evaluate names that kernel.
  json bad = with_source(pipeline_json());
  bad["pipeline"][1]["launch"]["grid"] = json::array({"n / (TB - 64)"});
  auto broken = parse(bad).value_or_throw();
  auto refused = instantiate(broken, {{"TB", 64}, {"TB2", 32}}, {{"n", 1000}}, "sm_90");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message.rfind("pipeline[1].launch.grid.x \"n / (TB - 64)\" cannot be evaluated", 0), 0u)
      << refused.error().message;
}

TEST(PipelineInstantiate, AReferenceKernelTakesEveryDeclaredArgumentInOrder) {
  json spec = with_source(pipeline_json(), std::string(kSource) + R"(
extern "C" __global__ void naive(const float* x, float* tmp, float* y, int n, float a) {
  for (int i = threadIdx.x; i < n; i += blockDim.x) y[i] = a * x[i] + 1.0f;
}
)");
  spec["verify"] = json::parse(R"({"against": {"kernel": {"entry": "naive", "launch": {"grid": [1], "block": [256]}}}})");
  auto parsed = parse(spec).value_or_throw();
  auto reference = instantiate_reference(parsed, {{"n", 1000}}, "sm_90").value_or_throw();
  EXPECT_EQ(reference.compile.name_expressions, (std::vector<std::string>{"naive"}));
  EXPECT_TRUE(reference.launch.stage_shapes.empty());
  ASSERT_TRUE(reference.own_args.has_value());
  ASSERT_EQ(reference.own_args->size(), 5u);
  EXPECT_TRUE((*reference.own_args)[2].is_buffer);
  EXPECT_EQ((*reference.own_args)[2].index, 2u);  // y
  EXPECT_FALSE((*reference.own_args)[4].is_buffer);
  EXPECT_EQ((*reference.own_args)[4].index, 1u);  // a
}

TEST(PipelineCompile, TheExampleCompilesToOneCubinWithBothEntries) {
  auto spec = KernelSpec::from_file(kExample).value_or_throw();
  ASSERT_EQ(spec.pipeline.size(), 2u);
  auto job = make_compile_job(spec, spec.default_config, "sm_90");
  ASSERT_EQ(job.name_expressions, (std::vector<std::string>{"reduce_partial", "reduce_final"}));
  auto compiled = workers::compile_with_nvrtc(job);
  ASSERT_TRUE(compiled.ok()) << compiled.log;
  ASSERT_EQ(compiled.lowered_names.size(), 2u);
  EXPECT_EQ(compiled.cubin.compare(0, 4, "\x7f" "ELF"), 0);
  // Both kernels are in the one cubin, under the names the runner will look up.
  for (const auto& lowered : compiled.lowered_names) {
    EXPECT_NE(lowered.find(lowered == compiled.lowered_names[0] ? "reduce_partial" : "reduce_final"), std::string::npos);
    EXPECT_NE(compiled.cubin.find(lowered), std::string::npos) << lowered;
  }
}

TEST(PipelineCheck, EveryKernelIsResolvedAndCheckedAgainstItsOwnArguments) {
  auto example = KernelSpec::from_file(kExample).value_or_throw();
  auto signatures = check_kernel_signatures(example, "sm_90");
  ASSERT_TRUE(signatures.ok()) << signatures.error().message;
  ASSERT_EQ(signatures->size(), 2u);
  EXPECT_EQ((*signatures)[0].params.size(), 3u);
  EXPECT_EQ((*signatures)[1].params.size(), 3u);

  // The second kernel's arguments in the wrong order: blamed on that kernel and that argument.
  json swapped = with_source(pipeline_json());
  swapped["pipeline"][1]["args"] = json::array({"n", "tmp", "y"});
  auto message = check_kernel_signature(parse(swapped).value_or_throw(), "sm_90");
  ASSERT_FALSE(message.ok());
  EXPECT_EQ(message.error().message.rfind("pipeline[1].args[0] (n): the kernel's parameter 1 is", 0), 0u) << message.error().message;

  json short_list = with_source(pipeline_json());
  short_list["pipeline"][1]["args"] = json::array({"tmp", "y", "n", "a"});
  message = check_kernel_signature(parse(short_list).value_or_throw(), "sm_90");
  ASSERT_FALSE(message.ok());
  EXPECT_EQ(message.error().message, "pipeline[1].args: the kernel shift takes 3 parameters, the spec lists 4");

  // A template named without its arguments is blamed on its own stage (NVRTC resolves each).
  json templated = with_source(pipeline_json(), std::string(kSource) + "template <int K> __global__ void shift2(float* y) {}\n");
  templated["pipeline"][1]["entry"] = "shift2";
  message = check_kernel_signature(parse(templated).value_or_throw(), "sm_90");
  ASSERT_FALSE(message.ok());
  EXPECT_EQ(message.error().message.rfind("pipeline[1].entry: ", 0), 0u) << message.error().message;
}

TEST(PipelineKey, APipelinesKernelsAreInItsKeyAndSingleKernelFormsHaveNoPipelineField) {
  auto spec = parse(with_source(pipeline_json())).value_or_throw();
  EXPECT_NE(kernel_canonical_form(spec).find("\"pipeline\":[{"), std::string::npos);
  json other = with_source(pipeline_json());
  other["pipeline"][1]["launch"]["block"] = json::array({"TB2 * 2"});
  EXPECT_NE(kernel_key(spec), kernel_key(parse(other).value_or_throw()));
  json reordered = with_source(pipeline_json());
  reordered["pipeline"][1]["args"] = json::array({"tmp", "y", "n"});
  EXPECT_EQ(kernel_key(spec), kernel_key(parse(reordered).value_or_throw()));
  // Single-kernel keys are pinned by test_key.cpp's goldens; their forms carry no pipeline.
  auto single = KernelSpec::from_file(std::filesystem::path(KTUNE_SOURCE_DIR) / "examples" / "sgemm.json").value_or_throw();
  EXPECT_EQ(kernel_canonical_form(single).find("pipeline"), std::string::npos);
}

TEST(PipelineProtocol, MultiKernelProblemsJobsAndResultsRoundTrip) {
  runner::RunnerRequest problem;
  problem.op = runner::RunnerOp::problem;
  problem.problem.buffers = {{"x", ElementType::f32, 4, 16, {}, false, {}, 0, 0}, {"y", ElementType::f32, 4, 16, {}, true, {}, 1e-4, 1e-4}};
  problem.problem.args = {{true, 0}, {true, 1}};
  problem.problem.stage_args = {{{true, 1}, {false, 0}}, {{true, 0}}};
  auto decoded = runner::decode_request(runner::encode_request(problem));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->problem.stage_args.size(), 2u);
  EXPECT_EQ(decoded->problem.stage_args[0].size(), 2u);
  EXPECT_TRUE(decoded->problem.stage_args[0][0].is_buffer);
  EXPECT_EQ(decoded->problem.stage_args[0][0].index, 1u);
  EXPECT_FALSE(decoded->problem.stage_args[0][1].is_buffer);
  // A later kernel's argument naming a buffer the problem does not have is refused.
  problem.problem.stage_args[1][0].index = 2;
  EXPECT_FALSE(runner::decode_request(runner::encode_request(problem)).ok());

  runner::RunnerRequest measure;
  measure.op = runner::RunnerOp::measure;
  runner::KernelJob job;
  job.label = "TB=64";
  job.cubin = "\x7f" "ELF";
  job.lowered_name = "scale";
  job.launch.shape = {{16, 1, 1}, {64, 1, 1}, 0};
  job.stage_lowered_names = {"shift", "third"};
  job.launch.stage_shapes = {{{4, 1, 1}, {256, 1, 1}, 1024}, {{1, 1, 1}, {32, 1, 1}, 0}};
  runner::KernelJob reference = job;
  reference.stage_lowered_names.clear();
  reference.launch.stage_shapes.clear();
  reference.own_args = std::vector<runner::ArgSlot>{{true, 0}, {true, 1}, {false, 0}};
  measure.jobs = {job, reference};
  auto measured = runner::decode_request(runner::encode_request(measure));
  ASSERT_TRUE(measured.ok()) << measured.error().message;
  ASSERT_EQ(measured->jobs.size(), 2u);
  EXPECT_EQ(measured->jobs[0].stage_lowered_names, job.stage_lowered_names);
  ASSERT_EQ(measured->jobs[0].launch.stage_shapes.size(), 2u);
  EXPECT_EQ(measured->jobs[0].launch.stage_shapes[0].grid[0], 4);
  EXPECT_EQ(measured->jobs[0].launch.stage_shapes[0].dynamic_shared_bytes, 1024);
  EXPECT_FALSE(measured->jobs[0].own_args.has_value());
  ASSERT_TRUE(measured->jobs[1].own_args.has_value());
  EXPECT_EQ(measured->jobs[1].own_args->size(), 3u);
  EXPECT_EQ(runner::encode_request(*measured), runner::encode_request(measure));

  runner::RunnerResponse response;
  response.ok = true;
  runner::KernelMeasurement m;
  m.stats.median_ns = 10000;
  m.stats.samples = 20;
  m.stage_stats = {runner::SampleStats{7000, 6900, 7050, 40, 0.01, 5, 20}, runner::SampleStats{2500, 2400, 2550, 30, 0.01, 4, 20}};
  response.results = {m};
  auto answered = runner::decode_response(runner::encode_response(response));
  ASSERT_TRUE(answered.ok()) << answered.error().message;
  ASSERT_EQ(answered->results[0].stage_stats.size(), 2u);
  EXPECT_EQ(answered->results[0].stage_stats[0].median_ns, 7000);
  EXPECT_EQ(answered->results[0].stage_stats[1].min_ns, 2400);
  EXPECT_EQ(answered->results[0].stage_stats[1].samples, 20u);
}

TEST(PipelineStore, EachKernelsTimeIsKeptWithTheMeasurement) {
  const auto dir = std::filesystem::temp_directory_path() / ("ktune-pipeline-store-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto spec = parse(with_source(pipeline_json())).value_or_throw();
  {
    auto db = store::Store::open((dir / "store.db").string()).value_or_throw();
    store::KernelRecord kernel{kernel_key(spec).hex(), spec.name, kernel_canonical_form(spec)};
    ASSERT_TRUE(db.put_kernel(kernel).ok());
    store::MeasurementBatch batch;
    batch.tuning = store::TuningRecord{std::string(32, 'a'), kernel.kernel_key, {{"n", 1000}}, "GPU", "sm_90", "nvrtc 13.0"};
    store::Measurement pipelined;
    pipelined.config = {{"TB", 64}, {"TB2", 32}};
    pipelined.timing = store::TimingStats{10000, 9000, 10100, 50, 20, "cupti"};
    pipelined.stage_median_ns = {7000.5, 2500};
    store::Measurement single = pipelined;
    single.config = {{"TB", 128}, {"TB2", 32}};
    single.stage_median_ns.clear();
    batch.measurements = {pipelined, single};
    ASSERT_TRUE(db.record_measurements(batch).ok());
    auto read = db.measurements_for(batch.tuning.tuning_key).value_or_throw();
    ASSERT_EQ(read.size(), 2u);
    EXPECT_EQ(read[0].stage_median_ns, (std::vector<double>{7000.5, 2500}));
    EXPECT_TRUE(read[1].stage_median_ns.empty());
    // A kernel time that is no time is refused before anything is written.
    store::MeasurementBatch bad = batch;
    bad.measurements = {pipelined};
    bad.measurements[0].stage_median_ns = {-1.0};
    EXPECT_FALSE(db.record_measurements(bad).ok());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
