// The user-facing example kernels (examples/*.json + *.cu): each spec parses, has a real space at
// a typical size and at a ragged one, is documented in examples/README.md, and its default plus a
// few sampled configurations compile with real NVRTC into sm_90 CUBINs. No GPU needed; whether
// the configurations agree with each other is checked by ktune's verification on a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/model/instantiate.hpp"
#include "engine/model/spec.hpp"
#include "tuner/search_space.hpp"
#include "workers/nvrtc_compiler.hpp"

namespace {

const std::filesystem::path kExamples = std::filesystem::path(KTUNE_SOURCE_DIR) / "examples";

std::vector<std::string> example_specs() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kExamples))
    if (entry.is_regular_file() && entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

ktune::Sizes sizes_of(const ktune::KernelSpec& spec, std::int64_t value) {
  ktune::Sizes sizes;
  for (const auto& name : spec.space.size_names) sizes.emplace_back(name, value);
  return sizes;
}

std::string describe(const ktune::Config& config) {
  std::string text;
  for (const auto& [name, value] : config) text += (text.empty() ? "" : " ") + name + "=" + std::to_string(value);
  return text;
}

// Exactly what `ktune compile` and the engine build for one configuration.
ktune::workers::CompileJob job_for(const ktune::KernelSpec& spec, const ktune::Config& config) {
  return ktune::make_compile_job(spec, config, ktune::choose_arch("sm_90", "", spec).value_or_throw());
}

bool is_elf(const std::string& bytes) {
  return bytes.size() > 4 && bytes.compare(0, 4,
                                           "\x7f"
                                           "ELF") == 0;
}

class Example : public ::testing::TestWithParam<std::string> {
 protected:
  ktune::KernelSpec load() const {
    auto spec = ktune::KernelSpec::from_file(kExamples / (GetParam() + ".json"));
    if (!spec.ok()) ADD_FAILURE() << spec.error().message;
    return std::move(spec).value_or_throw();
  }
};

TEST(Examples, TheIssueSixSetIsPresent) {
  const auto names = example_specs();
  for (const char* want : {"sgemm", "hgemm_mma", "reduce_rows", "softmax_rows", "stencil2d", "transpose"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << "examples/" << want << ".json is missing";
}

TEST_P(Example, SpecIsCompleteAndDocumented) {
  const auto spec = load();
  EXPECT_EQ(spec.source_path.parent_path(), kExamples) << "sources live next to their spec";
  EXPECT_FALSE(spec.space.size_names.empty()) << "sizes are runtime arguments";
  EXPECT_FALSE(spec.space.constraints.empty());
  EXPECT_TRUE(spec.verify.enabled);
  EXPECT_TRUE(spec.flops || spec.bytes) << "metrics.flops and/or metrics.bytes";
  EXPECT_TRUE(std::any_of(spec.args.begin(), spec.args.end(), [](const auto& a) { return a.is_buffer && a.output; }));

  std::ifstream readme(kExamples / "README.md");
  ASSERT_TRUE(readme) << "examples/README.md";
  std::stringstream text;
  text << readme.rdbuf();
  EXPECT_NE(text.str().find(GetParam() + ".json"), std::string::npos) << "README.md has no line for " << GetParam();
}

TEST_P(Example, SpaceIsRealAtATypicalAndARaggedSize) {
  const auto spec = load();
  for (const std::int64_t size : {4096, 1000}) {  // 1000: no tile divides it, tails everywhere
    const auto sizes = sizes_of(spec, size);
    auto space = ktune::SearchSpace::build(spec.space, &sizes);
    ASSERT_TRUE(space.ok()) << space.error().message;
    EXPECT_TRUE(space->sizes_applied());
    EXPECT_GE(space->valid_count(), 8u) << "at size " << size;
    EXPECT_LE(space->valid_count(), 1000u) << "at size " << size << ": keep example spaces moderate";
    EXPECT_TRUE(space->is_valid(spec.default_config))
        << "default at size " << size << ": " << space->why_invalid(spec.default_config).value_or("");
  }
}

TEST_P(Example, DefaultAndSampledConfigsCompileToSm90Cubins) {
  const auto spec = load();
  const auto sizes = sizes_of(spec, 4096);
  auto space = ktune::SearchSpace::build(spec.space, &sizes);
  ASSERT_TRUE(space.ok()) << space.error().message;

  std::vector<ktune::Config> configs{spec.default_config};
  for (auto& config : space->sample(4, 6)) {
    if (config != spec.default_config && configs.size() < 4) configs.push_back(std::move(config));
  }
  ASSERT_EQ(configs.size(), 4u);
  for (const auto& config : configs) {
    const auto job = job_for(spec, config);
    const auto result = ktune::workers::compile_with_nvrtc(job);
    ASSERT_EQ(result.status, ktune::workers::CompileStatus::ok)
        << GetParam() << " " << describe(config) << " (" << job.name_expressions[0] << "):\n"
        << result.log;
    EXPECT_TRUE(is_elf(result.cubin)) << describe(config);
    ASSERT_EQ(result.lowered_names.size(), job.name_expressions.size());  // a pipeline: one per kernel
    EXPECT_FALSE(result.lowered_names[0].empty()) << describe(config);
  }
  // A reference kernel compiles too (its own entry, the default configuration's defines).
  if (spec.verify.kernel) {
    auto reference = ktune::instantiate_reference(spec, sizes, ktune::choose_arch("sm_90", "", spec).value_or_throw());
    ASSERT_TRUE(reference.ok()) << reference.error().message;
    const auto result = ktune::workers::compile_with_nvrtc(reference->compile);
    ASSERT_EQ(result.status, ktune::workers::CompileStatus::ok) << GetParam() << " reference kernel:\n" << result.log;
    EXPECT_TRUE(is_elf(result.cubin));
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, Example, ::testing::ValuesIn(example_specs()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

}  // namespace
