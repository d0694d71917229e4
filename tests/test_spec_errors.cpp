// Every mistake a user can make in a spec gets one clear error naming the field. Each file under
// tests/specs/invalid/ is the valid spec tests/specs/valid_scale.json with one mistake.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "engine/model/spec.hpp"
#include "tuner/search_space.hpp"

namespace {

std::string read_valid_scale() {
  std::ifstream in(std::filesystem::path(KTUNE_SOURCE_DIR) / "tests/specs/valid_scale.json");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const std::filesystem::path kInvalid = std::filesystem::path(KTUNE_SOURCE_DIR) / "tests/specs/invalid";

struct Case {
  const char* file;
  const char* expected;  // a substring of the error message: the field and what is wrong
};

const Case kCases[] = {
    {"not_json.json", "not valid JSON at line 5"},
    {"wrong_version.json", "ktune_spec: version 2 is not supported; this ktune reads version 1"},
    {"missing_version.json", "ktune_spec: missing required field"},
    {"unknown_field.json", "paramz: unknown field (did you mean \"params\"?)"},
    {"empty_value_list.json", "params.TB: empty value list"},
    {"unknown_param_in_constraint.json",
     "constraints[0]: in expression \"TB % WARPS == 0\" at position 6: unknown name 'WARPS'"},
    {"default_outside_space.json", "default.TB: 96 is not one of the values listed in params.TB"},
    {"default_violates_constraint.json", "default: TB=128 ITEMS=1 violates constraints[1] \"TB >= 256\""},
    {"unsatisfiable_constraint.json", "constraints[0]: \"TB > 4096\" is not satisfied by any configuration"},
    {"undeclared_size.json", "launch.grid[0]: in expression \"ceil_div(m, TB * ITEMS)\" at position 10: unknown name 'm'"},
    {"value_wrong_type.json", "params.ITEMS[1]: must be an integer, got a string \"2\""},
    {"duplicate_names.json", "params.TB: duplicate name \"TB\" (also used by sizes[1])"},
    {"missing_source_file.json", "source: cannot read"},
    {"entry_not_in_source.json", "entry: \"scal\" does not appear in the kernel source"},
    {"expression_syntax.json", "launch.block[0]: in expression \"TB *\" at position 5: expected a value, found the end"},
    {"unknown_arg_type.json", "args.x.type: unknown type \"flaot*\""},
    {"duplicate_value.json", "params.TB: lists the value 128 twice"},
    {"default_missing_param.json", "default: has no value for parameter ITEMS"},
    {"no_output_buffer.json", "args: no buffer is marked \"output\": true"},
    {"unknown_function.json", "launch.grid[0]: in expression \"ceildiv(n, TB)\" at position 1: unknown function 'ceildiv'"},
    {"template_arg_not_param.json", "template_args[1]: \"WARPS\" is not a parameter"},
    {"arch_in_options.json", "compile.options[0]: the architecture is chosen by ktune"},
    {"define_tuned_param.json",
     "compile.options[0]: \"-DTB=256\" defines TB, a tuned parameter: ktune sets it for each configuration"},
    {"missing_launch.json", "launch: missing required field"},
    {"duplicate_arg_name.json", "args[1].name: duplicate argument name \"x\" (also args[0])"},
    {"constant_constraint.json", "constraints[0]: \"1 + 1\" names no parameter or size"},
    {"buffer_missing_count.json", "args.x.count: missing required field"},
    {"duplicate_json_key.json", "TB: duplicate key in the JSON"},
    {"count_depends_on_param.json", "args.y.count: depends on parameter ITEMS; buffer sizes may depend on sizes only"},
};

TEST(SpecErrors, EachMistakeNamesItsField) {
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.file);
    auto spec = ktune::KernelSpec::from_file(kInvalid / c.file);
    ASSERT_FALSE(spec.ok()) << "accepted an invalid spec";
    EXPECT_EQ(spec.error().code, ktune::Errc::invalid_spec);
    EXPECT_NE(spec.error().message.find(c.expected), std::string::npos)
        << "error was: " << spec.error().message << "\nexpected to contain: " << c.expected;
    // One line, starting with the file it is about.
    EXPECT_EQ(spec.error().message.find('\n'), std::string::npos);
    EXPECT_EQ(spec.error().message.find((kInvalid / c.file).string()), 0u);
  }
}

TEST(SpecErrors, EveryInvalidFileIsCovered) {
  std::set<std::string> listed;
  for (const auto& c : kCases) listed.insert(c.file);
  for (const auto& entry : std::filesystem::directory_iterator(kInvalid))
    EXPECT_TRUE(listed.count(entry.path().filename().string())) << entry.path() << " has no expected error";
  EXPECT_GE(listed.size(), 15u);
}

TEST(SpecErrors, ValidBaseIsAccepted) {
  auto spec = ktune::KernelSpec::from_file(std::filesystem::path(KTUNE_SOURCE_DIR) / "tests/specs/valid_scale.json");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
}

TEST(SpecErrors, MissingFileIsNotFound) {
  auto spec = ktune::KernelSpec::from_file(kInvalid / "does_not_exist.json");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().code, ktune::Errc::not_found);
  EXPECT_NE(spec.error().message.find("no such spec file"), std::string::npos);
}

TEST(SpecErrors, SizesAreCheckedAgainstTheSpec) {
  auto spec = ktune::KernelSpec::from_file(std::filesystem::path(KTUNE_SOURCE_DIR) / "tests/specs/valid_scale.json");
  ASSERT_TRUE(spec.ok());
  auto missing = spec->check_sizes({});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("missing size n"), std::string::npos);
  auto unknown = spec->check_sizes({{"n", 10}, {"m", 3}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown size m"), std::string::npos);
  auto negative = spec->check_sizes({{"n", -1}});
  ASSERT_FALSE(negative.ok());
  EXPECT_TRUE(spec->check_sizes({{"n", 1 << 20}}).ok());
}

TEST(SpecErrors, SizeConstraintUnsatisfiableAtGivenSizes) {
  auto spec = ktune::KernelSpec::from_json_text(R"({
    "ktune_spec": 1, "name": "s", "source": {"code": "extern \"C\" __global__ void k(float* y) {}"},
    "entry": "k", "sizes": ["n"], "params": {"TB": [64, 128]}, "constraints": ["TB <= n"],
    "default": {"TB": 64}, "launch": {"grid": [1], "block": ["TB"]},
    "args": [{"name": "y", "type": "float*", "count": "n", "output": true}]})");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  ktune::Sizes small{{"n", 32}};
  auto space = ktune::SearchSpace::build(spec->space, &small);
  ASSERT_FALSE(space.ok());
  EXPECT_NE(space.error().message.find("\"TB <= n\" is not satisfied by any configuration"), std::string::npos)
      << space.error().message;
  ktune::Sizes large{{"n", 100}};
  auto ok = ktune::SearchSpace::build(spec->space, &large);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->valid_count(), 1u);
}

// A compile option that defines or undefines a tuned parameter would override every
// configuration's value (issue #14, "Stale"): refused at load in each spelling NVRTC accepts.
TEST(SpecErrors, ACompileOptionCannotDefineATunedParameter) {
  const std::string base = read_valid_scale();
  for (const char* option : {"-DTB=256", "-DTB", "-D TB=64", "-D=TB", "--define-macro=ITEMS=2", "--define-macro ITEMS",
                             "-UTB", "--undefine-macro=ITEMS", "-DITEMS(x)=x"}) {
    std::string text = base;
    text.replace(text.rfind('}'), 1, ", \"compile\": {\"options\": [\"" + std::string(option) + "\"]}}");
    auto spec = ktune::KernelSpec::from_json_text(text, kInvalid.parent_path());
    ASSERT_FALSE(spec.ok()) << option << " was accepted";
    EXPECT_NE(spec.error().message.find("compile.options[0]"), std::string::npos) << spec.error().message;
    EXPECT_NE(spec.error().message.find("a tuned parameter"), std::string::npos) << spec.error().message;
  }
  for (const char* option : {"-DTBX=1", "-DUSE_TB=1", "-D_TB", "-std=c++17", "--use_fast_math", "-DN=4"}) {
    std::string text = base;
    text.replace(text.rfind('}'), 1, ", \"compile\": {\"options\": [\"" + std::string(option) + "\"]}}");
    auto spec = ktune::KernelSpec::from_json_text(text, kInvalid.parent_path());
    EXPECT_TRUE(spec.ok()) << option << ": " << spec.error().message;
  }
}

}  // namespace
