// Setup kernels (docs/spec.md "Setup kernels"): kernels of the configuration's own program run
// once per loaded configuration before anything is verified or timed. Everything up to the GPU,
// for real: the spec parser and its errors, the kernel key, instantiate (one compile job naming
// the setup kernels after the launched ones, their launches and arguments), the real NVRTC and
// the real compile workers (Engine::binary, whose binaries now describe a pipeline's stages and
// the setup kernels, in C++ and through the C API), the checks against each setup kernel's
// signature and the runner protocol. The GPU side is tests/test_gpu_setup_kernels.cpp.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/engine.hpp"
#include "engine/kernel_check.hpp"
#include "engine/ktune.h"
#include "engine/model/instantiate.hpp"
#include "engine/model/key.hpp"
#include "engine/runner/runner_protocol.hpp"
#include "tests/helpers/engine_on_recording.hpp"
#include "tests/helpers/scratch_dir.hpp"
#include "workers/nvrtc_compiler.hpp"

namespace {

using namespace ktune;
using json = nlohmann::json;
using ktune::testing::kRecordedH100;
using ktune::testing::ScratchDir;

const std::filesystem::path kExamples = std::filesystem::path(KTUNE_SOURCE_DIR) / "examples";

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

KernelSpec example(const std::string& name) { return KernelSpec::from_file(kExamples / (name + ".json")).value_or_throw(); }

// The table_gather example as JSON with its source inline, for tests to break one field at a time.
json gather_json() {
  json spec = json::parse(read_text(kExamples / "table_gather.json"));
  spec["source"] = json{{"code", read_text(kExamples / "table_gather.cu")}};
  return spec;
}

std::string error_of(const json& spec) {
  auto parsed = KernelSpec::from_json_text(spec.dump());
  if (parsed) return "parsed";
  const std::string& message = parsed.error().message;
  return message.starts_with("spec: ") ? message.substr(6) : message;
}

TEST(SetupSpec, ParsesSetupKernelsOnTheSpecsArgumentsByName) {
  const KernelSpec spec = example("table_gather");
  ASSERT_EQ(spec.setup.size(), 1u);
  EXPECT_EQ(spec.setup[0].entry, "build_table");
  EXPECT_EQ(spec.setup[0].args, (std::vector<std::size_t>{1, 4}));  // table, entries
  EXPECT_FALSE(spec.is_pipeline());
  // The launched kernel first, then the setup kernels: one program.
  EXPECT_EQ(spec.name_expressions_for(spec.default_config), (std::vector<std::string>{"gather_table", "build_table"}));
}

TEST(SetupSpec, BadSetupKernelsGetOneLineNamingTheField) {
  const json good = gather_json();
  ASSERT_EQ(error_of(good), "parsed");
  auto broken = [&](auto&& edit) {
    json spec = good;
    edit(spec);
    return error_of(spec);
  };
  // An output may be passed (its address is what a parameter block records, CUTLASS's D).
  EXPECT_EQ(broken([](json& s) { s["setup"][0]["args"][0] = "out"; }), "parsed");
  EXPECT_EQ(broken([](json& s) { s["setup"][0]["args"][0] = "tabel"; }), "setup[0].args[0]: no argument named \"tabel\" in \"args\"");
  EXPECT_EQ(broken([](json& s) { s["setup"] = "build_table"; }), "setup: must be an array of kernels, got a string");
  EXPECT_EQ(broken([](json& s) { s["setup"] = json::array(); }), "setup: lists no kernel (leave \"setup\" out instead)");
  EXPECT_EQ(broken([](json& s) { s["setup"][0]["entry"] = "build_tabel"; }),
            "setup[0].entry: \"build_tabel\" does not appear in the kernel source's code nor in the headers it includes "
            "(comments and strings do not count)");
  EXPECT_EQ(broken([](json& s) { s["setup"][0].erase("launch"); }), "setup[0].launch: missing required field");
  EXPECT_EQ(broken([](json& s) { s["setup"][0].erase("args"); }), "setup[0].args: missing required field");
  EXPECT_EQ(broken([](json& s) { s["setup"][0]["launch"]["grid"] = json::array({"TABLE_BLOCKS"}); }).rfind("setup[0].launch.grid[0]: ", 0),
            0u);
  EXPECT_EQ(broken([](json& s) { s["setup"][0]["once"] = true; }).rfind("setup[0].once: unknown field", 0), 0u);
  json many = good;
  for (int i = 0; i < 20; ++i) many["setup"].push_back(good["setup"][0]);
  EXPECT_EQ(error_of(many), "setup: more than 16 kernels");
}

TEST(SetupSpec, APipelinesArgumentTakenOnlyByASetupKernelIsUsed) {
  // The two-stage reduction with a setup kernel clearing `partial` through an argument no stage takes.
  json spec = json::parse(read_text(kExamples / "reduce_two_stage.json"));
  spec["source"] = json{{"code", read_text(kExamples / "reduce_two_stage.cu") +
                                     "\nextern \"C\" __global__ void clear(float* p, int count) {\n"
                                     "  for (int i = threadIdx.x; i < count; i += blockDim.x) p[i] = 0.0f;\n}\n"}};
  spec["args"].push_back(json{{"name", "partial_count"}, {"type", "int"}, {"value", 4096}});
  EXPECT_EQ(error_of(spec), "args.partial_count: no kernel of the pipeline takes it (list it in a pipeline[i].args)");
  spec["setup"] = json::parse(R"([{"entry": "clear", "launch": {"grid": [1], "block": [256]}, "args": ["partial", "partial_count"]}])");
  auto parsed = KernelSpec::from_json_text(spec.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->name_expressions_for(parsed->default_config),
            (std::vector<std::string>{"reduce_partial", "reduce_final", "clear"}));
  // Each kernel checked against its own arguments, the setup kernel's last.
  auto signatures = check_kernel_signatures(*parsed, "sm_90");
  ASSERT_TRUE(signatures.ok()) << signatures.error().message;
  EXPECT_EQ(signatures->size(), 3u);
  auto problem = make_problem(*parsed, {{"N", 1000}}).value_or_throw();
  ASSERT_EQ(problem.setup_args.size(), 1u);
  ASSERT_EQ(problem.setup_args[0].size(), 2u);
  EXPECT_TRUE(problem.setup_args[0][0].is_buffer);
  EXPECT_EQ(problem.setup_args[0][0].index, 1u);  // partial
  EXPECT_FALSE(problem.setup_args[0][1].is_buffer);
  EXPECT_EQ(problem.setup_args[0][1].index, 2u);  // n, blocks, partial_count
}

TEST(SetupKey, SetupKernelsAreInTheKeyAndFormsWithoutThemHaveNoSetupField) {
  const KernelSpec spec = example("table_gather");
  EXPECT_NE(kernel_canonical_form(spec).find("\"setup\":[{"), std::string::npos);
  json other = gather_json();
  const KernelSpec inline_spec = KernelSpec::from_json_text(other.dump()).value_or_throw();
  other["setup"][0]["launch"]["block"] = json::array({128});
  EXPECT_NE(kernel_key(inline_spec), kernel_key(KernelSpec::from_json_text(other.dump()).value_or_throw()));
  json reargued = gather_json();
  reargued["setup"][0]["args"] = json::array({"table", "n"});
  EXPECT_NE(kernel_key(inline_spec), kernel_key(KernelSpec::from_json_text(reargued.dump()).value_or_throw()));
  json without = gather_json();
  without.erase("setup");
  const KernelSpec plain = KernelSpec::from_json_text(without.dump()).value_or_throw();
  EXPECT_NE(kernel_key(inline_spec), kernel_key(plain));
  EXPECT_EQ(kernel_canonical_form(plain).find("setup"), std::string::npos);
  EXPECT_EQ(kernel_canonical_form(example("sgemm")).find("setup"), std::string::npos);
}

TEST(SetupInstantiate, TheCompileJobNamesTheSetupKernelsAfterTheLaunchedOnes) {
  const KernelSpec spec = example("table_gather");
  const Config config{{"BLOCK", 128}, {"ITEMS", 2}, {"SCALE", 4}};
  auto instance = instantiate(spec, config, {{"N", 1000}}, "sm_90").value_or_throw();
  EXPECT_EQ(instance.compile.name_expressions, (std::vector<std::string>{"gather_table", "build_table"}));
  EXPECT_EQ(instance.launch.shape.grid[0], 4);  // ceil_div(1000, 256)
  ASSERT_EQ(instance.launch.setup_shapes.size(), 1u);
  EXPECT_EQ(instance.launch.setup_shapes[0].grid[0], 4);
  EXPECT_EQ(instance.launch.setup_shapes[0].block[0], 256);
  EXPECT_TRUE(instance.launch.stage_shapes.empty());
  // The reference kernel is its own program: no setup kernels in it.
  auto reference = instantiate_reference(spec, {{"N", 1000}}, "sm_90").value_or_throw();
  EXPECT_EQ(reference.compile.name_expressions, (std::vector<std::string>{"gather_reference"}));
  EXPECT_TRUE(reference.launch.setup_shapes.empty());

  // One cubin with both, under the names the runner looks up.
  auto compiled = workers::compile_with_nvrtc(instance.compile);
  ASSERT_TRUE(compiled.ok()) << compiled.log;
  EXPECT_EQ(compiled.lowered_names, (std::vector<std::string>{"gather_table", "build_table"}));
  EXPECT_NE(compiled.cubin.find("build_table"), std::string::npos);
}

TEST(SetupCheck, ASetupKernelIsCheckedAgainstItsOwnArguments) {
  EXPECT_TRUE(check_kernel_signatures(example("table_gather"), "sm_90").ok());
  json swapped = gather_json();
  swapped["setup"][0]["args"] = json::array({"entries", "table"});
  auto message = check_kernel_signatures(KernelSpec::from_json_text(swapped.dump()).value_or_throw(), "sm_90");
  ASSERT_FALSE(message.ok());
  EXPECT_EQ(message.error().message.rfind("setup[0].args[0] (entries): the kernel's parameter 1 is", 0), 0u) << message.error().message;
  json longer = gather_json();
  longer["setup"][0]["args"] = json::array({"table", "entries", "n"});
  message = check_kernel_signatures(KernelSpec::from_json_text(longer.dump()).value_or_throw(), "sm_90");
  ASSERT_FALSE(message.ok());
  EXPECT_EQ(message.error().message, "setup[0].args: the kernel build_table takes 2 parameters, the spec lists 3");
}

TEST(SetupProtocol, SetupKernelsRoundTripAndHostileOnesAreRefused) {
  runner::RunnerRequest problem;
  problem.op = runner::RunnerOp::problem;
  problem.problem.buffers = {{"t", ElementType::f32, 4, 16, {}, false, {}, 0, 0}, {"y", ElementType::f32, 4, 16, {}, true, {}, 1e-4, 1e-4}};
  problem.problem.args = {{true, 0}, {true, 1}};
  problem.problem.setup_args = {{{true, 0}, {false, 0}}};
  auto decoded = runner::decode_request(runner::encode_request(problem));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->problem.setup_args.size(), 1u);
  EXPECT_EQ(decoded->problem.setup_args[0].size(), 2u);
  EXPECT_FALSE(decoded->problem.setup_args[0][1].is_buffer);
  problem.problem.setup_args[0][0].index = 5;  // no such buffer
  EXPECT_FALSE(runner::decode_request(runner::encode_request(problem)).ok());
  problem.problem.setup_args.assign(runner::kMaxSetupKernels + 1, {{true, 0}});
  EXPECT_FALSE(runner::decode_request(runner::encode_request(problem)).ok());

  runner::RunnerRequest measure;
  measure.op = runner::RunnerOp::measure;
  runner::KernelJob job;
  job.label = "BLOCK=64";
  job.cubin = "\x7f" "ELF";
  job.lowered_name = "gather_table";
  job.setup_lowered_names = {"build_table"};
  job.launch.setup_shapes = {{{4, 1, 1}, {256, 1, 1}, 0}};
  measure.jobs = {job};
  auto measured = runner::decode_request(runner::encode_request(measure));
  ASSERT_TRUE(measured.ok()) << measured.error().message;
  EXPECT_EQ(measured->jobs[0].setup_lowered_names, job.setup_lowered_names);
  ASSERT_EQ(measured->jobs[0].launch.setup_shapes.size(), 1u);
  EXPECT_EQ(measured->jobs[0].launch.setup_shapes[0].grid[0], 4);
  EXPECT_EQ(runner::encode_request(*measured), runner::encode_request(measure));
}

// Engine::binary compiles through the real workers (no GPU: the device is given).
struct SetupBinary : ::testing::Test {
  ScratchDir dir{"ktune-setup-binary"};
  std::unique_ptr<Engine> engine = Engine::create(ktune::testing::recorded_engine_options(dir)).value_or_throw();
};

TEST_F(SetupBinary, ABinaryNamesItsSetupKernelsWithTheirLaunchAndArguments) {
  const KernelSpec spec = example("table_gather");
  auto binary = engine->binary(spec, {{"N", 1000}}, kRecordedH100);
  ASSERT_TRUE(binary.ok()) << binary.error().message;
  EXPECT_EQ(binary->kernel.entry, "gather_table");
  EXPECT_EQ(binary->kernel.lowered_names, (std::vector<std::string>{"gather_table", "build_table"}));
  ASSERT_EQ(binary->stages.size(), 1u);
  EXPECT_EQ(binary->stages[0].entry, "gather_table");
  EXPECT_EQ(binary->stages[0].args, (std::vector<std::string>{"index", "table", "out", "n", "entries"}));
  EXPECT_EQ(binary->stages[0].launch.grid, binary->launch.grid);
  EXPECT_EQ(binary->launch.grid[0], 4);  // ceil_div(1000, 256 * 1)
  ASSERT_EQ(binary->setup.size(), 1u);
  EXPECT_EQ(binary->setup[0].entry, "build_table");
  EXPECT_EQ(binary->setup[0].args, (std::vector<std::string>{"table", "entries"}));
  EXPECT_EQ(binary->setup[0].launch.grid[0], 4);
  EXPECT_EQ(binary->setup[0].launch.block[0], 256);
  EXPECT_NE(binary->kernel.cubin.find("build_table"), std::string::npos);
}

TEST_F(SetupBinary, APipelinesBinaryHasEveryStageInLaunchOrder) {
  const KernelSpec spec = example("reduce_two_stage");
  auto binary = engine->binary(spec, {{"N", 1000000}}, kRecordedH100);
  ASSERT_TRUE(binary.ok()) << binary.error().message;
  ASSERT_EQ(binary->stages.size(), 2u);
  // The lowered (mangled) symbols, as the cubin has them.
  EXPECT_EQ(binary->stages[0].entry, "_Z14reduce_partialPKfPfi");
  EXPECT_EQ(binary->stages[1].entry, "_Z12reduce_finalPKfPfi");
  EXPECT_EQ(binary->stages[0].args, (std::vector<std::string>{"in", "partial", "n"}));
  EXPECT_EQ(binary->stages[1].args, (std::vector<std::string>{"partial", "out", "blocks"}));
  // The default: BLOCKS=1024 blocks of BLOCK=256, then one block of FINAL_BLOCK=256.
  EXPECT_EQ(binary->stages[0].launch.grid[0], 1024);
  EXPECT_EQ(binary->stages[0].launch.block[0], 256);
  EXPECT_EQ(binary->stages[1].launch.grid[0], 1);
  EXPECT_EQ(binary->stages[1].launch.block[0], 256);
  EXPECT_EQ(binary->launch.grid, binary->stages[0].launch.grid);
  EXPECT_TRUE(binary->setup.empty());
  for (const auto& stage : binary->stages) EXPECT_NE(binary->kernel.cubin.find(stage.entry), std::string::npos) << stage.entry;
}

TEST(SetupBinaryCApi, StagesAndSetupKernelsThroughTheCApi) {
  ScratchDir dir("ktune-setup-binary-c");
  const std::string store = (dir / "store.db").string();
  ktune_engine_options options;
  ASSERT_EQ(ktune_engine_options_init(&options), KTUNE_OK);
  options.store_path = store.c_str();
  options.workers = 1;
  ktune_engine* engine = nullptr;
  ASSERT_EQ(ktune_engine_create_with_options(&options, &engine), KTUNE_OK) << ktune_last_error_message();

  ktune_spec* pipeline = nullptr;
  ASSERT_EQ(ktune_spec_load_file((kExamples / "reduce_two_stage.json").c_str(), &pipeline), KTUNE_OK);
  const char* names[] = {"N"};
  const int64_t values[] = {1000000};
  ktune_binary* binary = nullptr;
  ASSERT_EQ(ktune_binary_get(engine, pipeline, names, values, 1, "NVIDIA H100 80GB HBM3", "sm_90", &binary), KTUNE_OK)
      << ktune_last_error_message();
  size_t count = 0;
  ASSERT_EQ(ktune_binary_stage_count(binary, &count), KTUNE_OK);
  EXPECT_EQ(count, 2u);
  const char* entry = nullptr;
  int64_t grid[3], block[3], shared = -1;
  ASSERT_EQ(ktune_binary_stage(binary, 1, &entry, grid, block, &shared), KTUNE_OK);
  EXPECT_STREQ(entry, "_Z12reduce_finalPKfPfi");
  EXPECT_EQ(grid[0], 1);
  EXPECT_EQ(block[0], 256);
  EXPECT_EQ(shared, 0);
  ASSERT_EQ(ktune_binary_stage_arg_count(binary, 1, &count), KTUNE_OK);
  EXPECT_EQ(count, 3u);
  const char* arg = nullptr;
  ASSERT_EQ(ktune_binary_stage_arg(binary, 1, 2, &arg), KTUNE_OK);
  EXPECT_STREQ(arg, "blocks");
  EXPECT_EQ(ktune_binary_stage(binary, 2, &entry, grid, block, &shared), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(ktune_last_error_message(), "ktune_binary_stage: index 2 is out of range (the binary has 2 kernels per run)");
  EXPECT_EQ(ktune_binary_stage_arg(binary, 1, 3, &arg), KTUNE_ERROR_INVALID_ARGUMENT);
  ASSERT_EQ(ktune_binary_setup_count(binary, &count), KTUNE_OK);
  EXPECT_EQ(count, 0u);
  ktune_binary_destroy(binary);

  ktune_spec* gather = nullptr;
  ASSERT_EQ(ktune_spec_load_file((kExamples / "table_gather.json").c_str(), &gather), KTUNE_OK);
  ASSERT_EQ(ktune_binary_get(engine, gather, names, values, 1, "NVIDIA H100 80GB HBM3", "sm_90", &binary), KTUNE_OK)
      << ktune_last_error_message();
  ASSERT_EQ(ktune_binary_stage_count(binary, &count), KTUNE_OK);
  EXPECT_EQ(count, 1u);
  ASSERT_EQ(ktune_binary_setup_count(binary, &count), KTUNE_OK);
  EXPECT_EQ(count, 1u);
  ASSERT_EQ(ktune_binary_setup(binary, 0, &entry, grid, block, &shared), KTUNE_OK);
  EXPECT_STREQ(entry, "build_table");
  EXPECT_EQ(block[0], 256);
  ASSERT_EQ(ktune_binary_setup_arg_count(binary, 0, &count), KTUNE_OK);
  EXPECT_EQ(count, 2u);
  ASSERT_EQ(ktune_binary_setup_arg(binary, 0, 0, &arg), KTUNE_OK);
  EXPECT_STREQ(arg, "table");
  EXPECT_EQ(ktune_binary_setup(nullptr, 0, &entry, grid, block, &shared), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(ktune_binary_setup(binary, 0, nullptr, grid, block, &shared), KTUNE_ERROR_INVALID_ARGUMENT);
  ktune_binary_destroy(binary);

  ktune_spec_destroy(gather);
  ktune_spec_destroy(pipeline);
  ktune_engine_destroy(engine);
}

}  // namespace
