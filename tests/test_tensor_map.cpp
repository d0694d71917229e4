// The tensor_map argument kind and launch.cluster on the CPU side (issue #19): the spec's fields
// and every mistake in them, the values plan_launch hands the runner at a configuration (and the
// configurations it refuses, naming why), the kernel key, the argument check against a kernel's
// parameter list through real NVRTC, and the driver enums the runner encodes with. The runner's
// encoding and the cluster launch itself need a GPU (test_gpu_tensor_map).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/kernel_check.hpp"
#include "engine/model/instantiate.hpp"
#include "engine/model/key.hpp"
#include "engine/runner/launch_limits.hpp"
#include "engine/runner/tensor_map_encode.hpp"

namespace {

using namespace ktune;
using nlohmann::json;

const char* kSource = R"(
struct alignas(64) CUtensorMap_st { alignas(64) unsigned long long opaque[16]; };
typedef CUtensorMap_st CUtensorMap;
__global__ void copy(const __grid_constant__ CUtensorMap in_map, const float* in, float* out, int n) {
  (void)in_map; out[0] = in[0] + n;
}
__global__ void by_pointer(const CUtensorMap* in_map, const float* in, float* out, int n) { out[0] = in[0] + n; }
)";

json base_spec() {
  return json::parse(R"json({"ktune_spec": 1, "name": "t", "entry": "copy", "sizes": ["W", "H"],
    "params": {"BX": [8, 16, 32], "BY": [4, 8], "SWZ": [0, 64, 128]}, "default": {"BX": 32, "BY": 8, "SWZ": 0},
    "launch": {"grid": ["ceil_div(W, BX)", "ceil_div(H, BY)"], "block": ["BX", "BY"]},
    "args": [
      {"name": "in_map", "type": "tensor_map", "tensor": "in", "dims": ["W", "H"], "box": ["BX", "BY"], "swizzle": "SWZ"},
      {"name": "in", "type": "const float*", "count": "W * H", "init": "random"},
      {"name": "out", "type": "float*", "count": "W * H", "output": true},
      {"name": "n", "type": "int", "value": "W"}]})json");
}

Result<KernelSpec> parse(json spec) {
  spec["source"] = {{"code", kSource}};
  return KernelSpec::from_json_text(spec.dump());
}

std::string error_of(json spec) {
  auto parsed = parse(std::move(spec));
  return parsed ? "(parsed)" : parsed.error().message;
}

std::string plan_error(const KernelSpec& spec, const Config& config, const Sizes& sizes) {
  auto plan = plan_launch(spec, config, sizes);
  return plan ? "(planned)" : plan.error().message;
}

TEST(TensorMapSpec, ParsesWithDefaultsAndTheTensorsElementType) {
  const KernelSpec spec = parse(base_spec()).value_or_throw();
  ASSERT_TRUE(spec.args[0].tensor_map.has_value());
  const TensorMapSpec& map = *spec.args[0].tensor_map;
  EXPECT_EQ(map.tensor, 1u);
  EXPECT_EQ(spec.args[0].type, ElementType::f32);
  EXPECT_FALSE(spec.args[0].is_buffer);
  EXPECT_EQ(map.dims.size(), 2u);
  EXPECT_TRUE(map.strides.empty());
  EXPECT_TRUE(map.element_strides.empty());
  EXPECT_EQ(map.l2_promotion.text(), "256");
  EXPECT_FALSE(map.oob_nan);
}

TEST(TensorMapSpec, EachMistakeNamesItsField) {
  auto with = [](const std::string& key, json value) {
    json spec = base_spec();
    spec["args"][0][key] = std::move(value);
    return error_of(spec);
  };
  EXPECT_NE(with("tensor", "nothing").find("args.in_map.tensor: \"nothing\" is not a buffer argument"), std::string::npos);
  EXPECT_NE(with("tensor", "n").find("args.in_map.tensor: \"n\" is not a buffer argument"), std::string::npos);
  EXPECT_NE(with("dims", json::array()).find("args.in_map.dims: a tensor map has 1 to 5 dimensions, got 0"), std::string::npos);
  EXPECT_NE(with("dims", {1, 2, 3, 4, 5, 6}).find("1 to 5 dimensions, got 6"), std::string::npos);
  EXPECT_NE(with("box", {"BX"}).find("args.in_map.box: has 1 entries; \"dims\" has 2"), std::string::npos);
  EXPECT_NE(with("strides", {"W", "W"}).find("args.in_map.strides: has 2 entries; a tensor of 2 dimensions has 1"),
            std::string::npos);
  EXPECT_NE(with("element_strides", {1}).find("args.in_map.element_strides: has 1 entries"), std::string::npos);
  EXPECT_NE(with("oob_fill", "ones").find("args.in_map.oob_fill: must be \"zeros\" or \"nan\""), std::string::npos);
  EXPECT_NE(with("swizzle", "SWIZ").find("args.in_map.swizzle"), std::string::npos);
  EXPECT_NE(with("boxes", {1}).find("args.in_map.boxes: unknown field (did you mean \"box\"?)"), std::string::npos)
      << with("boxes", {1});
  json missing = base_spec();
  missing["args"][0].erase("box");
  EXPECT_NE(error_of(missing).find("args.in_map.box: missing required field"), std::string::npos) << error_of(missing);
  json integer_nan = base_spec();
  integer_nan["args"][1]["type"] = "const int*";
  integer_nan["args"][0]["oob_fill"] = "nan";
  EXPECT_NE(error_of(integer_nan).find("args.in_map.oob_fill: \"nan\" needs a floating-point tensor; in holds int32"),
            std::string::npos)
      << error_of(integer_nan);
  json cluster = base_spec();
  cluster["launch"]["cluster"] = {1, 2, 3, 4};
  EXPECT_NE(error_of(cluster).find("launch.cluster: must be an array of 1 to 3 expressions"), std::string::npos)
      << error_of(cluster);
}

TEST(TensorMapPlan, TheConfigurationsValuesReachTheRunner) {
  json spec_json = base_spec();
  spec_json["args"][0]["l2_promotion"] = 128;
  spec_json["args"][0]["oob_fill"] = "nan";
  const KernelSpec spec = parse(spec_json).value_or_throw();
  auto plan = plan_launch(spec, {{"BX", 16}, {"BY", 4}, {"SWZ", 64}}, {{"W", 1000}, {"H", 517}});
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_EQ(plan->tensor_maps.size(), 1u);
  const runner::TensorMapPlan& map = plan->tensor_maps[0];
  EXPECT_EQ(map.buffer, 0u);  // "in" is the problem's first buffer
  EXPECT_EQ(map.rank, 2u);
  EXPECT_EQ(map.dims[0], 1000u);
  EXPECT_EQ(map.dims[1], 517u);
  EXPECT_EQ(map.stride_bytes[0], 4000u);  // packed: one row of 1000 floats
  EXPECT_EQ(map.box[0], 16u);
  EXPECT_EQ(map.box[1], 4u);
  EXPECT_EQ(map.element_strides[0], 1u);
  EXPECT_EQ(map.swizzle_bytes, 64u);
  EXPECT_EQ(map.l2_promotion_bytes, 128u);
  EXPECT_TRUE(map.oob_nan);
  EXPECT_EQ(plan->scalars.size(), 1u);  // the map is not a scalar
  EXPECT_EQ(runner::describe_tensor_map(map),
            "dims [1000, 517] strides [4000] bytes box [16, 4] element strides [1, 1] swizzle 64 l2 128 oob nan");

  auto problem = make_problem(spec, {{"W", 1000}, {"H", 517}});
  ASSERT_TRUE(problem.ok()) << problem.error().message;
  ASSERT_EQ(problem->args.size(), 4u);
  EXPECT_TRUE(problem->args[0].is_tensor_map);
  EXPECT_EQ(problem->args[0].index, 0u);
  EXPECT_TRUE(problem->args[1].is_buffer);
  EXPECT_EQ(problem->args[3].index, 0u);  // the first scalar
}

TEST(TensorMapPlan, ConfigurationsTheDriverCannotEncodeAreRefusedNamingTheValue) {
  json spec_json = base_spec();
  spec_json["params"]["SWZ"] = {0, 48, 128};
  const Sizes sizes{{"W", 1000}, {"H", 500}};
  EXPECT_EQ(plan_error(parse(spec_json).value_or_throw(), {{"BX", 32}, {"BY", 8}, {"SWZ", 48}}, sizes),
            "args.in_map.swizzle \"SWZ\" is 48 bytes; must be 0, 32, 64 or 128");
  // 1002 floats = 4008 bytes between rows: not a multiple of 16.
  spec_json["args"][0]["strides"] = {"W + 2"};
  EXPECT_EQ(plan_error(parse(spec_json).value_or_throw(), {{"BX", 32}, {"BY", 8}, {"SWZ", 0}}, sizes),
            "args.in_map: the stride of dims[1] is 1002 elements = 4008 bytes; must be a multiple of 16 below 2^40");
  // A stride that is right in bytes but reaches past the buffer.
  json wide = base_spec();
  wide["args"][0]["strides"] = {"W + 4"};
  EXPECT_EQ(plan_error(parse(wide).value_or_throw(), {{"BX", 32}, {"BY", 8}, {"SWZ", 0}}, sizes),
            "args.in_map: its dims and strides reach 2007984 bytes; in holds 2000000");
  // Box rows of 8 halves are 16 bytes; 4 halves are not.
  json halves = base_spec();
  halves["params"]["BX"] = {4, 8};
  halves["default"]["BX"] = 8;
  halves["args"][1]["type"] = "const half*";
  const KernelSpec half_spec = parse(halves).value_or_throw();
  EXPECT_EQ(plan_error(half_spec, {{"BX", 4}, {"BY", 8}, {"SWZ", 0}}, sizes),
            "args.in_map.box[0] is 4 elements of 2 bytes: 8 bytes, not a multiple of 16");
  EXPECT_EQ(plan_error(half_spec, {{"BX", 8}, {"BY", 8}, {"SWZ", 0}}, sizes), "(planned)");
  json big_box = base_spec();
  big_box["params"]["BY"] = {4, 512};
  big_box["default"]["BY"] = 4;
  EXPECT_EQ(plan_error(parse(big_box).value_or_throw(), {{"BX", 32}, {"BY", 512}, {"SWZ", 0}}, sizes),
            "args.in_map.box[1] \"BY\" is 512; must be 1 to 256");
}

TEST(TensorMapPlan, ClusterDimsAreEvaluatedAndChecked) {
  json spec_json = base_spec();
  spec_json["params"]["CX"] = {0, 1, 2, 3};
  spec_json["default"]["CX"] = 2;
  spec_json["launch"]["cluster"] = {"CX"};
  const KernelSpec spec = parse(spec_json).value_or_throw();
  const Sizes sizes{{"W", 1024}, {"H", 512}};
  auto plan = plan_launch(spec, {{"BX", 32}, {"BY", 8}, {"SWZ", 0}, {"CX", 2}}, sizes);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->shape.cluster, (std::array<std::int64_t, 3>{2, 1, 1}));  // missing dims are 1
  EXPECT_EQ(plan_error(spec, {{"BX", 32}, {"BY", 8}, {"SWZ", 0}, {"CX", 0}}, sizes), "launch.cluster.x is 0; must be at least 1");
  // Without "cluster" there is no attribute (a kernel's own __cluster_dims__ holds).
  auto plain = plan_launch(parse(base_spec()).value_or_throw(), {{"BX", 32}, {"BY", 8}, {"SWZ", 0}}, sizes);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->shape.has_cluster());
  // A grid of 32 blocks in x does not split into clusters of 3: the runner's launch check says so.
  auto three = plan_launch(spec, {{"BX", 32}, {"BY", 8}, {"SWZ", 0}, {"CX", 3}}, sizes);
  ASSERT_TRUE(three.ok());
  auto checked = runner::check_launch(runner::h100_limits(), runner::KernelAttributes{32, 0, 0, 1024}, three->shape);
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().message, "grid.x of 32 is not a multiple of cluster.x 3");
}

TEST(TensorMapKey, TheFieldsAndTheClusterArePartOfTheKernelKeyAndOthersKeysDidNotChange) {
  const KernelSpec spec = parse(base_spec()).value_or_throw();
  const std::string form = kernel_canonical_form(spec);
  EXPECT_NE(form.find(R"({"box":["BX","BY"],"dims":["W","H"],"element_strides":[],"l2_promotion":"256","oob_fill":"zeros",)"
                      R"("strides":[],"swizzle":"SWZ","tensor":"in","type":"tensor_map"})"),
            std::string::npos)
      << form;
  EXPECT_EQ(form.find("cluster"), std::string::npos);
  auto key_with = [](const std::string& key, json value) {
    json changed = base_spec();
    changed["args"][0][key] = std::move(value);
    return kernel_key(parse(changed).value_or_throw());
  };
  const Hash128 base = kernel_key(spec);
  EXPECT_NE(key_with("box", {"BX", "BY * 2"}), base);
  EXPECT_NE(key_with("swizzle", 128), base);
  EXPECT_NE(key_with("l2_promotion", 64), base);
  EXPECT_NE(key_with("oob_fill", "nan"), base);
  EXPECT_EQ(key_with("oob_fill", "zeros"), base);  // the default, written out
  json clustered = base_spec();
  clustered["launch"]["cluster"] = {2, 1};
  const KernelSpec with_cluster = parse(clustered).value_or_throw();
  EXPECT_NE(kernel_key(with_cluster), base);
  EXPECT_NE(kernel_canonical_form(with_cluster).find(R"("cluster":["2","1","1"])"), std::string::npos);
}

TEST(TensorMapCheck, A128ByteParameterByValueIsAcceptedAndAPointerIsNot) {
  const KernelSpec spec = parse(base_spec()).value_or_throw();
  auto signature = check_kernel_signature(spec, "sm_90");
  ASSERT_TRUE(signature.ok()) << signature.error().message;
  EXPECT_EQ(signature->params[0].bytes, 128u);

  json pointer = base_spec();
  pointer["entry"] = "by_pointer";
  auto refused = check_kernel_signature(parse(pointer).value_or_throw(), "sm_90");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("args.in_map: the kernel's parameter 1 is \"CUtensorMap_st const*\", the spec says "
                                         "tensor_map (a 128-byte CUtensorMap by value"),
            std::string::npos)
      << refused.error().message;

  json scalar = base_spec();
  scalar["args"][3] = {{"name", "n"}, {"type", "tensor_map"}, {"tensor", "out"}, {"dims", {"W"}}, {"box", {8}}};
  auto not_a_map = check_kernel_signature(parse(scalar).value_or_throw(), "sm_90");
  ASSERT_FALSE(not_a_map.ok());
  EXPECT_NE(not_a_map.error().message.find("args.n: the kernel's parameter 4 is \"int\", the spec says tensor_map"),
            std::string::npos)
      << not_a_map.error().message;
}

TEST(TensorMapEncode, TheDriversEnumsForEachTypeAndSize) {
  EXPECT_EQ(runner::tensor_map_data_type(ElementType::f16), CU_TENSOR_MAP_DATA_TYPE_FLOAT16);
  EXPECT_EQ(runner::tensor_map_data_type(ElementType::bf16), CU_TENSOR_MAP_DATA_TYPE_BFLOAT16);
  EXPECT_EQ(runner::tensor_map_data_type(ElementType::f32), CU_TENSOR_MAP_DATA_TYPE_FLOAT32);
  EXPECT_EQ(runner::tensor_map_data_type(ElementType::i8), CU_TENSOR_MAP_DATA_TYPE_UINT8);  // bytes are bytes
  EXPECT_EQ(runner::tensor_map_data_type(ElementType::i16), CU_TENSOR_MAP_DATA_TYPE_UINT16);
  EXPECT_EQ(runner::tensor_map_data_type(ElementType::i32), CU_TENSOR_MAP_DATA_TYPE_INT32);
  EXPECT_EQ(runner::tensor_map_data_type(ElementType::u64), CU_TENSOR_MAP_DATA_TYPE_UINT64);
  EXPECT_EQ(runner::tensor_map_swizzle(128), CU_TENSOR_MAP_SWIZZLE_128B);
  EXPECT_EQ(runner::tensor_map_swizzle(0), CU_TENSOR_MAP_SWIZZLE_NONE);
  EXPECT_FALSE(runner::tensor_map_swizzle(16).has_value());
  EXPECT_EQ(runner::tensor_map_l2_promotion(256), CU_TENSOR_MAP_L2_PROMOTION_L2_256B);
  EXPECT_FALSE(runner::tensor_map_l2_promotion(32).has_value());
  EXPECT_EQ(sizeof(CUtensorMap), 128u);
}

TEST(TensorMapExample, TheTmaCopyExampleLoadsAndItsKernelsCompileForSm90a) {
  const auto spec = KernelSpec::from_file(std::filesystem::path(KTUNE_SOURCE_DIR) / "examples" / "tma_copy.json");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_TRUE(spec->arch_specific);
  auto signature = check_kernel_signature(*spec, "sm_90a");
  ASSERT_TRUE(signature.ok()) << signature.error().message;
  auto plan = plan_launch(*spec, {{"BOX_X", 32}, {"BOX_Y", 16}, {"SWIZZLE", 128}}, {{"W", 1000}, {"H", 517}});
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->tensor_maps[0].swizzle_bytes, 128u);
  EXPECT_EQ(plan->tensor_maps[0].box[1], 16u);
}

}  // namespace
