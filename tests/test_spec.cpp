// A valid spec parses into what the rest of ktune relies on.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/model/spec.hpp"
#include "tuner/search_space.hpp"

namespace {

const std::filesystem::path kRoot = KTUNE_SOURCE_DIR;

TEST(Spec, ExampleSgemmParses) {
  auto spec = ktune::KernelSpec::from_file(kRoot / "examples/sgemm.json");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->name, "sgemm_tiled");
  EXPECT_EQ(spec->entry, "sgemm");
  EXPECT_EQ(spec->space.size_names, (std::vector<std::string>{"M", "N", "K"}));
  ASSERT_EQ(spec->space.params.size(), 5u);
  EXPECT_EQ(spec->space.params[0].name, "BM");
  EXPECT_EQ(spec->space.params[0].values, (std::vector<std::int64_t>{32, 64, 128}));
  EXPECT_EQ(spec->default_config, (ktune::Config{{"BM", 64}, {"BN", 64}, {"BK", 8}, {"TM", 4}, {"TN", 4}}));
  EXPECT_NE(spec->source.find("__global__"), std::string::npos);
  EXPECT_EQ(spec->source_path, kRoot / "examples/sgemm.cu");
  ASSERT_EQ(spec->args.size(), 6u);
  EXPECT_TRUE(spec->args[0].is_buffer);
  EXPECT_EQ(spec->args[0].type, ktune::ElementType::f32);
  EXPECT_EQ(spec->args[0].init.kind, ktune::BufferInit::Kind::random);
  EXPECT_TRUE(spec->args[2].output);
  EXPECT_FALSE(spec->args[3].is_buffer);
  EXPECT_EQ(spec->args[3].type, ktune::ElementType::i32);
  EXPECT_TRUE(spec->verify.enabled);
  EXPECT_EQ(spec->verify.reference, spec->default_config);
  EXPECT_EQ(spec->defines_for(spec->default_config),
            (std::vector<std::string>{"-DBM=64", "-DBN=64", "-DBK=8", "-DTM=4", "-DTN=4"}));
  EXPECT_EQ(spec->name_expression_for(spec->default_config), "sgemm");
}

// Every caller (Engine, C API, CLI, sweep files, replay) orders sizes through this one function,
// so a size written twice is refused everywhere, not only where a caller remembered to check.
TEST(Spec, OrderedSizesFollowTheSpecAndRejectASizeGivenTwice) {
  auto spec = ktune::KernelSpec::from_file(kRoot / "examples/sgemm.json").value_or_throw();
  auto ordered = spec.ordered_sizes({{"K", 3}, {"M", 1}, {"N", 2}});
  ASSERT_TRUE(ordered.ok()) << ordered.error().message;
  EXPECT_EQ(*ordered, (ktune::Sizes{{"M", 1}, {"N", 2}, {"K", 3}}));

  auto twice = spec.ordered_sizes({{"M", 1}, {"N", 2}, {"K", 3}, {"N", 4}});
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, ktune::Errc::invalid_argument);
  EXPECT_EQ(twice.error().message, "size N is given twice");

  auto missing = spec.ordered_sizes({{"M", 1}, {"N", 2}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("missing size K"), std::string::npos) << missing.error().message;
}

TEST(Spec, LaunchGeometryAndCountsEvaluate) {
  auto spec = ktune::KernelSpec::from_file(kRoot / "examples/sgemm.json").value_or_throw();
  auto slots = spec.slots({{"BM", 128}, {"BN", 64}, {"BK", 8}, {"TM", 8}, {"TN", 4}}, {{"M", 1000}, {"N", 4096}, {"K", 512}});
  ASSERT_TRUE(slots.ok()) << slots.error().message;
  EXPECT_EQ(spec.launch.grid[0].evaluate(*slots).value, 64);    // ceil_div(4096, 64)
  EXPECT_EQ(spec.launch.grid[1].evaluate(*slots).value, 8);     // ceil_div(1000, 128)
  EXPECT_EQ(spec.launch.grid[2].evaluate(*slots).value, 1);
  EXPECT_EQ(spec.launch.block[0].evaluate(*slots).value, 256);  // (128/8) * (64/4)
  EXPECT_EQ(spec.launch.shared_memory_bytes.evaluate(*slots).value, 0);
  EXPECT_EQ(spec.args[0].count->evaluate(*slots).value, 1000 * 512);
  EXPECT_EQ(spec.flops->evaluate(*slots).value, 2LL * 1000 * 4096 * 512);
  auto missing = spec.slots(spec.default_config, {{"M", 1}, {"N", 1}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("missing size K"), std::string::npos);
}

TEST(Spec, TemplatePassingBuildsNameExpressions) {
  auto spec = ktune::KernelSpec::from_json_text(R"json({
    "ktune_spec": 1, "name": "t",
    "source": {"code": "template <int TB, int ITEMS> __global__ void k(float* y, int n) {}"},
    "entry": "k", "sizes": ["n"], "params": {"TB": [64, 128], "ITEMS": [1, 2], "UNROLL": [0, 1]},
    "pass_params": "template", "template_args": ["TB", "ITEMS"],
    "default": {"TB": 64, "ITEMS": 2, "UNROLL": true},
    "launch": {"grid": ["ceil_div(n, TB)"], "block": ["TB"], "shared_memory": "TB * 4"},
    "args": [{"name": "y", "type": "float*", "count": "n", "output": true, "init": {"constant": 1.5}},
             {"name": "n", "type": "int", "value": "n"}],
    "compile": {"options": ["-std=c++17", "--use_fast_math"], "include_dirs": ["include"], "arch_specific": true},
    "verify": false})json",
                                                 "/tmp/specs");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->passing, ktune::ParamPassing::template_);
  ktune::Config config{{"TB", 128}, {"ITEMS", 1}, {"UNROLL", 1}};
  EXPECT_EQ(spec->name_expression_for(config), "k<128, 1>");
  EXPECT_EQ(spec->defines_for(config), (std::vector<std::string>{"-DUNROLL=1"}));
  EXPECT_EQ(spec->default_config[2].second, 1);  // true -> 1
  EXPECT_TRUE(spec->arch_specific);
  EXPECT_EQ(spec->include_dirs, (std::vector<std::filesystem::path>{"/tmp/specs/include"}));
  EXPECT_FALSE(spec->verify.enabled);
  EXPECT_EQ(spec->args[0].init.kind, ktune::BufferInit::Kind::constant);
  EXPECT_EQ(spec->args[0].init.value, 1.5);
}

TEST(Spec, ValuesAreSortedSoNeighboursAreNumeric) {
  auto spec = ktune::KernelSpec::from_json_text(R"json({
    "ktune_spec": 1, "name": "s", "source": {"code": "__global__ void k(float* y) {}"}, "entry": "k",
    "params": {"TB": [256, 64, 128]}, "default": {"TB": 128}, "launch": {"grid": [1], "block": ["TB"]},
    "args": [{"name": "y", "type": "float*", "count": 256, "output": true}]})json");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->space.params[0].values, (std::vector<std::int64_t>{64, 128, 256}));
}

TEST(Spec, OversizedInputIsRefusedBeforeParsing) {
  std::string huge(5u << 20, ' ');
  auto spec = ktune::KernelSpec::from_json_text(huge);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().message.find("larger than 4 MiB"), std::string::npos);
}

}  // namespace
