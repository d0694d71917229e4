// The third-party kernels ported to specs (examples/ported.txt, issue #16: benchmark_hub, cuda-samples, Kernel
// Tuner's expdist): each spec passes `ktune space` at its problem sizes (which compiles the default to PTX and checks
// the entry and args against the kernel) and verifies against a reference kernel; its default and its reference
// kernel compile to sm_90 cubins with the real NVRTC, and so does a sample (`ktune compile --sample N --strict`, N from
// ported.txt). No GPU: tools/gpu/tune_ported_examples.sh tunes them on one.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/model/instantiate.hpp"
#include "engine/model/spec.hpp"
#include "helpers/run_ktune.hpp"
#include "helpers/scratch_dir.hpp"
#include "workers/nvrtc_compiler.hpp"

namespace {

const std::filesystem::path kExamples = std::filesystem::path(KTUNE_SOURCE_DIR) / "examples";

struct Ported {
  std::string spec;   // relative to examples/
  std::string sizes;  // "W=4096,H=4096"
  int ci_sample = 2;  // sampled configurations `ktune compile` builds here (0: the default only)
};

// Test names and ctest lines show the spec, not the struct's bytes.
void PrintTo(const Ported& p, std::ostream* os) { *os << p.spec << " " << p.sizes; }

std::vector<Ported> ported_examples() {
  std::vector<Ported> out;
  std::ifstream list(kExamples / "ported.txt");
  std::string line;
  while (std::getline(list, line)) {
    std::istringstream words(line);
    Ported p;
    if (!(words >> p.spec) || p.spec[0] == '#') continue;
    words >> p.sizes;
    if (int n = 0; words >> n) p.ci_sample = n;
    out.push_back(p);
  }
  return out;
}

ktune::Sizes parse_sizes(const std::string& text) {
  ktune::Sizes sizes;
  std::istringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    const auto eq = item.find('=');
    sizes.emplace_back(item.substr(0, eq), std::stoll(item.substr(eq + 1)));
  }
  return sizes;
}

std::string test_name(const std::string& spec) {
  std::string name = std::filesystem::path(spec).stem().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

class PortedExample : public ::testing::TestWithParam<Ported> {
 protected:
  std::string spec_path() const { return (kExamples / GetParam().spec).string(); }
};

TEST(PortedExamples, TheIssueSixteenSetIsListedAndDocumented) {
  const auto list = ported_examples();
  ASSERT_GE(list.size(), 8u) << "examples/ported.txt";
  std::ifstream readme(kExamples / "README.md");
  std::stringstream text;
  text << readme.rdbuf();
  for (const auto& p : list) {
    EXPECT_TRUE(std::filesystem::exists(kExamples / p.spec)) << p.spec;
    EXPECT_FALSE(p.sizes.empty()) << p.spec << ": no sizes in examples/ported.txt";
    EXPECT_NE(text.str().find(p.spec), std::string::npos) << "examples/README.md has no line for " << p.spec;
  }
  for (const char* licence : {"benchmark_hub/LICENSE", "cuda_samples/LICENSE", "kernel_tuner/LICENSE", "THIRD_PARTY.md"})
    EXPECT_TRUE(std::filesystem::exists(kExamples / licence)) << licence;
}

TEST_P(PortedExample, SpaceAtItsSizesChecksEntryAndArgs) {
  const auto run = ktune::testing::run_ktune("space " + spec_path() + " --size " + GetParam().sizes);
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("parameters match args"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("verify       against reference kernel"), std::string::npos)
      << "every port verifies against a reference, not a configuration of itself:\n"
      << run.output;
  EXPECT_EQ(run.output.find("valid        0 "), std::string::npos) << run.output;
}

TEST_P(PortedExample, DefaultSampleAndReferenceCompileToCubins) {
  auto spec = ktune::KernelSpec::from_file(spec_path());
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  const auto arch = ktune::choose_arch("sm_90", "", *spec).value_or_throw();
  const auto sizes = parse_sizes(GetParam().sizes);

  // The default, exactly as `ktune compile` and the engine build it.
  const auto job = ktune::make_compile_job(*spec, spec->default_config, arch);
  const auto compiled = ktune::workers::compile_with_nvrtc(job);
  ASSERT_EQ(compiled.status, ktune::workers::CompileStatus::ok) << "default configuration:\n" << compiled.log;
  EXPECT_GT(compiled.cubin.size(), 4u);

  ASSERT_TRUE(spec->verify.enabled);
  ASSERT_TRUE(spec->verify.kernel) << "a reference kernel";
  auto reference = ktune::instantiate_reference(*spec, sizes, arch);
  ASSERT_TRUE(reference.ok()) << reference.error().message;
  const auto reference_compiled = ktune::workers::compile_with_nvrtc(reference->compile);
  ASSERT_EQ(reference_compiled.status, ktune::workers::CompileStatus::ok) << "reference kernel:\n" << reference_compiled.log;

  // A sample through the command line: every sampled configuration compiles (--strict).
  if (GetParam().ci_sample == 0) return;
  const ktune::testing::ScratchDir cache("ktune-ported");
  const auto run = ktune::testing::run_ktune("compile " + spec_path() + " --sample " + std::to_string(GetParam().ci_sample) +
                                             " --strict -j 2 --arch sm_90 --cache-dir " + cache.path.string());
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("configurations compiled for sm_90"), std::string::npos) << run.output;
}

INSTANTIATE_TEST_SUITE_P(Ported, PortedExample, ::testing::ValuesIn(ported_examples()),
                         [](const ::testing::TestParamInfo<Ported>& param_info) { return test_name(param_info.param.spec); });

}  // namespace
