// The entry chosen by a parameter ("entry": "k_block{BLOCK}", engine/model/entry_pattern.hpp,
// docs/spec.md) and the checks before any launch at sizes for specs with sizes_to_preprocessor
// (engine/kernel_check.hpp, `ktune check/space --size`). Real NVRTC, real worker processes, no GPU.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/kernel_check.hpp"
#include "engine/model/entry_pattern.hpp"
#include "engine/model/instantiate.hpp"
#include "engine/model/key.hpp"
#include "helpers/run_ktune.hpp"
#include "helpers/scratch_dir.hpp"
#include "helpers/spec_from_text.hpp"
#include "workers/nvrtc_compiler.hpp"

namespace {

using namespace ktune;

// Two extern "C" wrappers of one template, as cuda-samples' matrixMul_nvrtc has them.
const std::string kBlockVariants = R"(
template <int BLOCK_SIZE> __device__ void scale_tile(float* x, int n) {
  int i = blockIdx.x * BLOCK_SIZE + threadIdx.x;
  if (i < n) x[i] *= 2.0f;
}
extern "C" __global__ void scale_block64(float* x, int n) { scale_tile<64>(x, n); }
extern "C" __global__ void scale_block128(float* x, int n) { scale_tile<128>(x, n); }
)";
const std::string kArgs = R"([{"name": "x", "type": "float*", "count": "N", "output": true}, {"name": "n", "type": "int", "value": "N"}])";

std::string spec_text(const std::string& code, const std::string& entry, const std::string& params,
                      const std::string& default_config, const std::string& extra = "") {
  const nlohmann::json source = {{"code", code}};
  return R"({"ktune_spec": 1, "name": "t", "entry": )" + nlohmann::json(entry).dump() + R"(, "source": )" + source.dump() +
         R"(, "sizes": ["N"], "params": )" + params + R"(, "default": )" + default_config +
         R"js(, "launch": {"grid": ["ceil_div(N, BLOCK)"], "block": ["BLOCK"]}, "args": )js" + kArgs + extra + "}";
}

KernelSpec parse(const std::string& text) { return ktune::testing::parse_spec(text); }
std::string error_of(const std::string& text) { return ktune::testing::spec_error(text); }

KernelSpec block_variants(const std::string& blocks = "[64, 128]", const std::string& extra = "") {
  return parse(spec_text(kBlockVariants, "scale_block{BLOCK}", R"({"BLOCK": )" + blocks + "}", R"({"BLOCK": 64})", extra));
}

Config block(std::int64_t value) { return {{"BLOCK", value}}; }

TEST(EntryPattern, EachConfigurationCompilesTheEntryItsValuesName) {
  const KernelSpec spec = block_variants();
  EXPECT_EQ(spec.entry, "scale_block{BLOCK}");  // the spec keeps the pattern
  EXPECT_EQ(spec.name_expressions_for(block(64)), std::vector<std::string>{"scale_block64"});
  EXPECT_EQ(spec.name_expressions_for(block(128)), std::vector<std::string>{"scale_block128"});
  const auto job = make_compile_job(spec, block(128), "sm_90");
  ASSERT_EQ(job.name_expressions, std::vector<std::string>{"scale_block128"});
  const auto compiled = workers::compile_with_nvrtc(job);
  ASSERT_TRUE(compiled.ok()) << compiled.log;
  EXPECT_EQ(compiled.lowered_names, std::vector<std::string>{"scale_block128"});  // extern "C": the name itself
  // instantiate, which every tune goes through, names the same kernel.
  const auto instance = instantiate(spec, block(64), {{"N", 4096}}, "sm_90").value_or_throw();
  EXPECT_EQ(instance.compile.name_expressions, std::vector<std::string>{"scale_block64"});
}

TEST(EntryPattern, ANamedChoiceAndTemplateArgumentsResolveToo) {
  const std::string code = R"(
template <typename T, int BLOCK> __global__ void fill_fast(T* x, int n) { x[0] = 1; }
template <typename T, int BLOCK> __global__ void fill_safe(T* x, int n) { x[0] = 2; }
)";
  const nlohmann::json source = {{"code", code}};
  const KernelSpec spec = parse(R"({"ktune_spec": 1, "name": "t", "entry": "fill_{VARIANT}<float>", "source": )" + source.dump() +
                                R"(, "sizes": ["N"], "params": {"VARIANT": ["fast", "safe"], "BLOCK": [32, 64]},
    "pass_params": "template", "template_args": ["BLOCK"], "default": {"VARIANT": "safe", "BLOCK": 32},
    "launch": {"grid": [1], "block": ["BLOCK"]}, "args": )" + kArgs + "}");
  Config config = spec.default_config;
  EXPECT_EQ(spec.name_expressions_for(config), std::vector<std::string>{"fill_safe<float, 32>"});
  EXPECT_EQ(spec.resolved_entries_for(config), std::vector<std::string>{"fill_safe<float>"});
  config = spec.space.parse("VARIANT=fast,BLOCK=64").value_or_throw();
  EXPECT_EQ(spec.name_expressions_for(config), std::vector<std::string>{"fill_fast<float, 64>"});
  // Checked once per distinct kernel, not per template instance: fill_safe and fill_fast.
  auto signatures = check_kernel_signatures(spec, "sm_90");
  ASSERT_TRUE(signatures.ok()) << signatures.error().message;
  ASSERT_EQ(signatures->size(), 2u);
  EXPECT_EQ(signatures->at(0).name_expression, "fill_safe<float, 32>");  // the default's first
  EXPECT_NE(signatures->at(1).name_expression.find("fill_fast<float, "), std::string::npos);
}

TEST(EntryPattern, MistakesAreNamedWhenTheSpecLoads) {
  const std::string unknown =
      error_of(spec_text(kBlockVariants, "scale_block{BLCK}", R"({"BLOCK": [64, 128]})", R"({"BLOCK": 64})"));
  EXPECT_NE(unknown.find("entry: \"scale_block{BLCK}\": {BLCK} names no parameter (the parameters are BLOCK)"), std::string::npos)
      << unknown;
  const std::string unclosed =
      error_of(spec_text(kBlockVariants, "scale_block{BLOCK", R"({"BLOCK": [64, 128]})", R"({"BLOCK": 64})"));
  EXPECT_NE(unclosed.find("entry: \"scale_block{BLOCK\": \"{\" at position 11 is not closed by \"}\""), std::string::npos)
      << unclosed;
  const std::string empty = error_of(spec_text(kBlockVariants, "scale_block{}", R"({"BLOCK": [64, 128]})", R"({"BLOCK": 64})"));
  EXPECT_NE(empty.find("{} is not a parameter name"), std::string::npos) << empty;
  // A value that makes no function name: said at load, naming the value.
  const std::string spaced = error_of(
      spec_text(kBlockVariants, "scale_{T}", R"({"BLOCK": [64], "T": ["block64", "unsigned int"]})", R"({"BLOCK": 64, "T": "block64"})"));
  EXPECT_NE(spaced.find("entry: \"scale_{T}\" at T=unsigned int is \"scale_unsigned int\", not a function name"), std::string::npos)
      << spaced;
  // The default's kernel must be in the code, as a plain entry must.
  const std::string absent = error_of(spec_text(kBlockVariants, "scale_block{BLOCK}", R"({"BLOCK": [64, 256]})", R"({"BLOCK": 256})"));
  EXPECT_NE(absent.find("entry: \"scale_block256\" does not appear in the kernel source's code"), std::string::npos) << absent;
}

TEST(EntryPattern, APipelineStageMayNameParametersAndIsBlamedByIndex) {
  const std::string code = kBlockVariants + "extern \"C\" __global__ void finish(float* x, int n) { x[0] += 1.0f; }\n";
  const nlohmann::json source = {{"code", code}};
  auto text = [&](const std::string& first_entry) {
    return R"({"ktune_spec": 1, "name": "t", "source": )" + source.dump() + R"(, "sizes": ["N"], "params": {"BLOCK": [64, 128, 256]},
      "default": {"BLOCK": 64}, "pipeline": [
        {"entry": "finish", "launch": {"grid": [1], "block": [1]}, "args": ["x", "n"]},
        {"entry": )" + nlohmann::json(first_entry).dump() + R"js(, "launch": {"grid": ["ceil_div(N, BLOCK)"], "block": ["BLOCK"]},
         "args": ["x", "n"]}],
      "args": )js" + kArgs + "}";
  };
  const std::string unknown = error_of(text("scale_block{B}"));
  EXPECT_NE(unknown.find("pipeline[1].entry: \"scale_block{B}\": {B} names no parameter"), std::string::npos) << unknown;
  const KernelSpec spec = parse(text("scale_block{BLOCK}"));
  EXPECT_EQ(spec.name_expressions_for(block(128)), (std::vector<std::string>{"finish", "scale_block128"}));
  // BLOCK=256 resolves to a kernel the source does not have: NVRTC's check names it, its stage and the values.
  const auto checked = check_kernel_signatures(spec, "sm_90");
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message.find("pipeline[1].entry: NVRTC cannot resolve \"scale_block256\""), std::string::npos)
      << checked.error().message;
  EXPECT_NE(checked.error().message.find("(entry \"scale_block{BLOCK}\" at BLOCK=256)"), std::string::npos) << checked.error().message;
}

TEST(EntryPattern, EveryDistinctResolvedEntryIsCheckedByNvrtc) {
  const KernelSpec spec = block_variants();
  auto signatures = check_kernel_signatures(spec, "sm_90");
  ASSERT_TRUE(signatures.ok()) << signatures.error().message;
  ASSERT_EQ(signatures->size(), 2u);
  EXPECT_EQ(signatures->at(0).lowered_name, "scale_block64");  // the default's first
  EXPECT_EQ(signatures->at(1).lowered_name, "scale_block128");
}

TEST(EntryPattern, AResolvedEntryNvrtcCannotFindIsNamedWithItsValues) {
  // scale_block256 is in no code: the default (64) loads, the check of BLOCK=256 fails.
  const KernelSpec spec = block_variants("[64, 128, 256]");
  const auto checked = check_kernel_signatures(spec, "sm_90");
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().code, Errc::invalid_spec);
  EXPECT_NE(checked.error().message.find("entry: NVRTC cannot resolve \"scale_block256\" to a kernel"), std::string::npos)
      << checked.error().message;
  EXPECT_NE(checked.error().message.find("(entry \"scale_block{BLOCK}\" at BLOCK=256)"), std::string::npos) << checked.error().message;
  // Only valid configurations' entries are checked: a constraint that leaves 256 out (at the
  // sizes asked, for one over sizes) leaves its missing kernel out.
  EXPECT_TRUE(check_kernel_signatures(block_variants("[64, 128, 256]", R"(, "constraints": ["BLOCK < 256"])"), "sm_90").ok());
  const KernelSpec by_size = block_variants("[64, 128, 256]", R"(, "constraints": ["BLOCK <= N"])");
  const Sizes small{{"N", 128}};
  EXPECT_TRUE(check_kernel_signatures(by_size, "sm_90", nullptr, &small).ok());
  EXPECT_FALSE(check_kernel_signatures(by_size, "sm_90").ok());  // without sizes, 256 is valid
}

TEST(EntryPattern, AnArgsMismatchNamesTheEntryItWasFoundIn) {
  const std::string code = R"(
extern "C" __global__ void scale_block64(float* x, int n) {}
extern "C" __global__ void scale_block128(float* x, double n) {}
)";
  const KernelSpec spec = parse(spec_text(code, "scale_block{BLOCK}", R"({"BLOCK": [64, 128]})", R"({"BLOCK": 64})"));
  const auto checked = check_kernel_signatures(spec, "sm_90");
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message.find("args.n: the kernel's parameter 2 is .f64"), std::string::npos) << checked.error().message;
  EXPECT_NE(checked.error().message.find("at BLOCK=128"), std::string::npos) << checked.error().message;
}

TEST(EntryPattern, TheKernelKeyHoldsThePattern) {
  const KernelSpec pattern = block_variants();
  const KernelSpec plain = parse(spec_text(kBlockVariants, "scale_block64", R"({"BLOCK": [64, 128]})", R"({"BLOCK": 64})"));
  EXPECT_EQ(kernel_canonical_form(pattern).find("\"entry_pattern\":\"scale_block{BLOCK}\"") != std::string::npos, true)
      << kernel_canonical_form(pattern);
  EXPECT_EQ(kernel_canonical_form(plain).find("entry_pattern"), std::string::npos);  // other keys are unchanged
  EXPECT_NE(kernel_key(pattern), kernel_key(plain));
  EXPECT_EQ(kernel_key(pattern), kernel_key(block_variants()));
}

TEST(EntryPattern, ResolveEntryLeavesAPlainEntryAlone) {
  const KernelSpec spec = block_variants();
  EXPECT_FALSE(is_entry_pattern("vector_add<float>"));
  EXPECT_TRUE(is_entry_pattern("k{B}"));
  EXPECT_EQ(resolve_entry("vector_add<float>", spec.space, block(64)), "vector_add<float>");
  EXPECT_EQ(resolve_entry("a{BLOCK}_b{BLOCK}", spec.space, block(128)), "a128_b128");
  EXPECT_EQ(entry_pattern_params("a{BLOCK}_b{BLOCK}", spec.space).value_or_throw(), std::vector<std::string>{"BLOCK"});
}

// ---- The checks at sizes for sources that need their sizes (sizes_to_preprocessor) ----

// A kernel that compiles only with N defined (a shared array of N elements).
const std::string kNeedsSizes = R"(
__global__ void tile_copy(float* x, int n) {
  __shared__ float tile[N];
  tile[threadIdx.x % N] = x[threadIdx.x];
  __syncthreads();
  x[threadIdx.x] = tile[(threadIdx.x + 1) % N];
}
)";

KernelSpec needs_sizes(const std::string& args = kArgs) {
  const nlohmann::json source = {{"code", kNeedsSizes}};
  return parse(R"({"ktune_spec": 1, "name": "t", "entry": "tile_copy", "source": )" + source.dump() +
               R"(, "sizes": ["N"], "sizes_to_preprocessor": true, "params": {"BLOCK": [32, 64]}, "default": {"BLOCK": 32},
    "launch": {"grid": [1], "block": ["BLOCK"]}, "args": )" + args + "}");
}

TEST(ChecksAtSizes, ASpecWithSizesInThePreprocessorIsCheckedAtTheSizesGiven) {
  const KernelSpec spec = needs_sizes();
  const Sizes sizes{{"N", 256}};
  auto signatures = check_kernel_signatures(spec, "sm_90", nullptr, &sizes);
  ASSERT_TRUE(signatures.ok()) << signatures.error().message;
  EXPECT_EQ(signatures->front().params.size(), 2u);
  // And it is a real check: a wrong argument is found at sizes.
  const KernelSpec wrong = needs_sizes(R"([{"name": "x", "type": "float*", "count": "N", "output": true}, {"name": "n", "type": "int64", "value": "N"}])");
  const auto mismatch = check_kernel_signatures(wrong, "sm_90", nullptr, &sizes);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("args.n: the kernel's parameter 2 is \"int\", the spec says int64"), std::string::npos)
      << mismatch.error().message;
}

TEST(ChecksAtSizes, WithoutSizesTheCheckSaysItNeedsThem) {
  const auto checked = check_kernel_signatures(needs_sizes(), "sm_90");
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().code, Errc::invalid_argument);
  EXPECT_NE(checked.error().message.find("the entry and args check needs sizes"), std::string::npos) << checked.error().message;
  EXPECT_NE(checked.error().message.find("--size N=..."), std::string::npos) << checked.error().message;
}

TEST(ChecksAtSizes, KtuneCheckAndSpaceTakeSizes) {
  const ktune::testing::ScratchDir dir("ktune-entry-pattern");
  const nlohmann::json source = {{"code", kNeedsSizes}};
  const std::string path = (dir.path / "needs_sizes.json").string();
  std::ofstream(path) << R"({"ktune_spec": 1, "name": "t", "entry": "tile_copy", "source": )" + source.dump() +
                             R"(, "sizes": ["N"], "sizes_to_preprocessor": true, "params": {"BLOCK": [32, 64]}, "default": {"BLOCK": 32},
    "launch": {"grid": [1], "block": ["BLOCK"]}, "args": )" + kArgs + "}";

  const auto checked = ktune::testing::run_ktune("check " + path + " --size N=256");
  EXPECT_EQ(checked.status, 0) << checked.output;
  EXPECT_NE(checked.output.find("tile_copy -> _Z9tile_copyPfi, 2 parameters match args"), std::string::npos) << checked.output;
  // `check` is asked whether the spec matches its kernel: without sizes it cannot say (a usage error, exit 2).
  const auto no_sizes = ktune::testing::run_ktune("check " + path);
  EXPECT_EQ(no_sizes.status, 2) << no_sizes.output;
  EXPECT_NE(no_sizes.output.find("the entry and args check needs sizes"), std::string::npos) << no_sizes.output;

  const auto space = ktune::testing::run_ktune("space " + path + " --size N=256");
  EXPECT_EQ(space.status, 0) << space.output;
  EXPECT_NE(space.output.find("entry        tile_copy -> _Z9tile_copyPfi, 2 parameters match args"), std::string::npos) << space.output;
  // `space` still shows the space, and says (on its entry line and on stderr) that the check was not made.
  const auto space_no_sizes = ktune::testing::run_ktune("space " + path);
  EXPECT_EQ(space_no_sizes.status, 0) << space_no_sizes.output;
  EXPECT_NE(space_no_sizes.output.find("entry        not checked: the entry and args check needs sizes"), std::string::npos)
      << space_no_sizes.output;
  EXPECT_NE(space_no_sizes.output.find("ktune: warning:"), std::string::npos) << space_no_sizes.output;
}

TEST(EntryPattern, KtuneCheckListsEveryResolvedEntry) {
  const ktune::testing::ScratchDir dir("ktune-entry-pattern");
  const std::string path = (dir.path / "variants.json").string();
  std::ofstream(path) << spec_text(kBlockVariants, "scale_block{BLOCK}", R"({"BLOCK": [64, 128]})", R"({"BLOCK": 64})");
  const auto run = ktune::testing::run_ktune("check " + path);
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("scale_block64 -> scale_block64, 2 parameters match args; scale_block128 -> scale_block128, 2 parameters "
                            "match args"),
            std::string::npos)
      << run.output;
}

}  // namespace
