// verify.match (a reference per combination of parameter values) and the objective (rank by a
// metric's rate instead of time), issue #16: parsing and its errors, keys, the grouping of
// configurations by their matched values, the reference of each combination (configuration and
// reference kernel), the objective's cost, and a tuning session over a real store ranking by
// flops per second: its winner is the store's best and the lookup's answer, and a time-ranked
// session of the same kernel keeps a row of its own while sharing the measurements. Buffers whose
// element type follows a named choice: parsing, their type per configuration, the implicit match,
// the problem made in each type with that type's tolerances.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/lookup_table.hpp"
#include "engine/results_export.hpp"
#include "engine/model/instantiate.hpp"
#include "engine/model/key.hpp"
#include "engine/model/objective.hpp"
#include "engine/model/spec.hpp"
#include "engine/tuning_session.hpp"
#include "tests/helpers/scratch_dir.hpp"
#include "tuner/strategy.hpp"

namespace {

using namespace ktune;

// TF time steps per launch; flops = TF * N.
std::string stepped_spec(const std::string& verify, const std::string& extra = "") {
  return R"J({"ktune_spec": 1, "name": "stepped",
    "source": {"code": "__global__ void step(float* out, const float* in, int n) {}\n__global__ void step_ref(float* out, const float* in, int n) {}"},
    "entry": "step", "sizes": ["N"],
    "params": {"TF": [1, 2, 4], "B": [32, 64, 128]},
    "default": {"TF": 1, "B": 64},
    "launch": {"grid": ["ceil_div(N, B)"], "block": ["B"]},
    "args": [{"name": "out", "type": "float*", "count": "N", "output": true},
             {"name": "in", "type": "const float*", "count": "N", "init": "random"},
             {"name": "n", "type": "int", "value": "N"}],
    "metrics": {"flops": "TF * N"},
    "verify": )J" + verify + extra + "}";
}

Result<KernelSpec> parse(const std::string& text) { return KernelSpec::from_json_text(text); }

std::string error_of(const std::string& text) {
  auto spec = parse(text);
  return spec.ok() ? std::string("(parsed)") : spec.error().message;
}

Config config_of(const KernelSpec& spec, const std::string& text) { return spec.space.parse(text).value_or_throw(); }

TEST(VerifyMatch, ParsesInParameterOrderAndRefusesMistakes) {
  auto spec = parse(stepped_spec(R"J({"match": ["B", "TF"]})J"));
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->verify.match, (std::vector<std::string>{"TF", "B"}));  // params order, whatever the list's

  EXPECT_NE(error_of(stepped_spec(R"J({"match": ["STEPS"]})J")).find("verify.match[0]: \"STEPS\" is not a parameter"), std::string::npos);
  EXPECT_NE(error_of(stepped_spec(R"J({"match": ["TF", "TF"]})J")).find("verify.match[1]: \"TF\" is listed twice"), std::string::npos);
  EXPECT_NE(error_of(stepped_spec(R"J({"match": []})J")).find("verify.match: lists no parameter"), std::string::npos);
  EXPECT_NE(error_of(stepped_spec(R"J({"match": "TF"})J")).find("verify.match: must be an array of strings"), std::string::npos);
  EXPECT_NE(error_of(stepped_spec(R"J({"match": [3]})J")).find("verify.match[0]: must be a string"), std::string::npos);
  EXPECT_NE(error_of(stepped_spec(R"J({"matches": ["TF"]})J")).find("verify.matches: unknown field"), std::string::npos);
}

TEST(VerifyMatch, GroupsConfigurationsByTheirMatchedValues) {
  const KernelSpec spec = parse(stepped_spec(R"J({"match": ["TF"]})J")).value_or_throw();
  const Config a = config_of(spec, "TF=2 B=32"), b = config_of(spec, "TF=2 B=128"), c = config_of(spec, "TF=4 B=32");
  EXPECT_EQ(spec.match_group(a), spec.match_group(b));
  EXPECT_NE(spec.match_group(a), spec.match_group(c));
  EXPECT_EQ(spec.match_group(a), (Config{{"TF", 2}}));
  // The reference of a combination: the reference configuration (the default) at its values.
  EXPECT_EQ(spec.reference_config_for(c), config_of(spec, "TF=4 B=64"));
  EXPECT_EQ(spec.describe_reference(&c), "configuration TF=4 B=64 of the same kernel");
  EXPECT_EQ(spec.describe_reference(), "configuration TF=1 B=64 of the same kernel, with each configuration's TF");

  // A named reference configuration keeps its other values.
  const KernelSpec named = parse(stepped_spec(R"J({"against": {"TF": 1, "B": 128}, "match": ["TF"]})J")).value_or_throw();
  EXPECT_EQ(named.reference_config_for(c), config_of(named, "TF=4 B=128"));

  // Without match every configuration has the one reference.
  const KernelSpec plain = parse(stepped_spec(R"J({"against": "default"})J")).value_or_throw();
  EXPECT_TRUE(plain.match_group(c).empty());
  EXPECT_EQ(plain.reference_config_for(c), plain.default_config);
}

TEST(VerifyMatch, AReferenceKernelIsCompiledWithEachCombinationsValues) {
  const KernelSpec spec = parse(stepped_spec(R"J({"against": {"kernel": {"entry": "step_ref",
      "launch": {"grid": ["ceil_div(N, 256)"], "block": [256]}}}, "match": ["TF"]})J"))
                              .value_or_throw();
  const Config four = config_of(spec, "TF=4 B=32");
  auto instance = instantiate_reference(spec, {{"N", 1000}}, "sm_90", &four);
  ASSERT_TRUE(instance.ok()) << instance.error().message;
  const auto& defines = instance->compile.defines;
  EXPECT_NE(std::find(defines.begin(), defines.end(), "-DTF=4"), defines.end());
  EXPECT_NE(std::find(defines.begin(), defines.end(), "-DB=64"), defines.end()) << "other parameters at the default's values";
  auto at_default = instantiate_reference(spec, {{"N", 1000}}, "sm_90");
  ASSERT_TRUE(at_default.ok());
  EXPECT_NE(std::find(at_default->compile.defines.begin(), at_default->compile.defines.end(), "-DTF=1"), at_default->compile.defines.end());
  EXPECT_EQ(spec.describe_reference(&four), "reference kernel step_ref compiled with TF=4");
}

TEST(VerifyMatch, TemplateArgumentsReachTheReferenceKernelAsDefines) {
  std::string text = stepped_spec(R"J({"against": {"kernel": {"entry": "step_ref",
      "launch": {"grid": [1], "block": [32]}}}, "match": ["TF"]})J",
                                  R"J(, "pass_params": "template", "template_args": ["TF"])J");
  const std::string plain_entry = "__global__ void step(float* out, const float* in, int n) {}";
  text.replace(text.find(plain_entry), plain_entry.size(), "template <int TF> __global__ void step(float* out, const float* in, int n) {}");
  const KernelSpec spec = parse(text).value_or_throw();
  const Config two = config_of(spec, "TF=2 B=32");
  auto instance = instantiate_reference(spec, {{"N", 64}}, "sm_90", &two);
  ASSERT_TRUE(instance.ok()) << instance.error().message;
  const auto& defines = instance->compile.defines;
  EXPECT_NE(std::find(defines.begin(), defines.end(), "-DTF=2"), defines.end());
}

TEST(VerifyMatch, JoinsTheKernelKeyAndTheVerificationIdentity) {
  const KernelSpec plain = parse(stepped_spec(R"J({"against": "default"})J")).value_or_throw();
  const KernelSpec matched = parse(stepped_spec(R"J({"against": "default", "match": ["TF"]})J")).value_or_throw();
  EXPECT_NE(kernel_key(plain), kernel_key(matched));
  EXPECT_NE(verification_identity(plain), verification_identity(matched));
  EXPECT_NE(kernel_canonical_form(matched).find(R"J("verify":{"match":["TF"]})J"), std::string::npos) << kernel_canonical_form(matched);
  EXPECT_EQ(kernel_canonical_form(plain).find("match"), std::string::npos);
  // The measurement key drops verification (measurements are filtered by their identity).
  const TuningQuestion a{&plain, {{"N", 1 << 20}}, {"GPU", "sm_90"}, {"13.0"}};
  const TuningQuestion b{&matched, {{"N", 1 << 20}}, {"GPU", "sm_90"}, {"13.0"}};
  EXPECT_EQ(a.measurement_key(), b.measurement_key());
}

TEST(Objective, ParsesAndRefusesMistakes) {
  auto spec = parse(stepped_spec("false", R"J(, "objective": {"maximize": "flops"})J"));
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->objective.maximize, "flops");
  ASSERT_NE(spec->objective_metric(), nullptr);
  EXPECT_TRUE(parse(stepped_spec("false", R"J(, "objective": "time")J")).value_or_throw().objective.by_time());

  EXPECT_NE(error_of(stepped_spec("false", R"J(, "objective": "GFLOP/s")J")).find("Kernel Tuner's \"GFLOP/s\" is {\"maximize\": \"flops\"}"),
            std::string::npos);
  EXPECT_NE(error_of(stepped_spec("false", R"J(, "objective": {"maximize": "speed"})J")).find("objective.maximize: must be \"flops\" or \"bytes\""),
            std::string::npos);
  EXPECT_NE(error_of(stepped_spec("false", R"J(, "objective": {"maximize": "bytes"})J")).find("objective.maximize: metrics.bytes is not given"),
            std::string::npos);
  EXPECT_NE(error_of(stepped_spec("false", R"J(, "objective": {"minimize": "flops"})J")).find("objective.minimize: unknown field"),
            std::string::npos);
}

TEST(Objective, JoinsTheKernelKeyButNotTheMeasurementKey) {
  const KernelSpec by_time = parse(stepped_spec("false")).value_or_throw();
  const KernelSpec said_time = parse(stepped_spec("false", R"J(, "objective": "time")J")).value_or_throw();
  const KernelSpec by_flops = parse(stepped_spec("false", R"J(, "objective": {"maximize": "flops"})J")).value_or_throw();
  EXPECT_EQ(kernel_key(by_time), kernel_key(said_time)) << "the default objective keeps every existing key";
  EXPECT_NE(kernel_key(by_time), kernel_key(by_flops));
  EXPECT_NE(kernel_canonical_form(by_flops).find(R"J("objective":{"maximize":"flops","metric":"TF*N"})J"), std::string::npos);
  const TuningQuestion a{&by_time, {{"N", 1 << 20}}, {"GPU", "sm_90"}, {"13.0"}};
  const TuningQuestion b{&by_flops, {{"N", 1 << 20}}, {"GPU", "sm_90"}, {"13.0"}};
  EXPECT_NE(a.tuning_record().tuning_key, b.tuning_record().tuning_key) << "the lookup table never mixes rankings";
  EXPECT_EQ(a.measurement_key(), b.measurement_key()) << "a measured time means the same whatever ranks it";
}

TEST(Objective, CostIsTimeScaledToTheDefaultsWork) {
  const KernelSpec spec = parse(stepped_spec("false", R"J(, "objective": {"maximize": "flops"})J")).value_or_throw();
  const RankingObjective objective(spec, {{"N", 1000}});
  EXPECT_EQ(objective.name(), "flops");
  const Config one = config_of(spec, "TF=1 B=64"), four = config_of(spec, "TF=4 B=64");
  EXPECT_EQ(objective.work(four), 4000.0);
  EXPECT_DOUBLE_EQ(*objective.cost(one, 1000), 1000);  // the default's work: cost = time
  EXPECT_DOUBLE_EQ(*objective.cost(four, 2000), 500);  // four steps in twice the time: half the cost
  EXPECT_DOUBLE_EQ(*objective.time_at_cost(four, 500), 2000);
  EXPECT_LT(*objective.cost(four, 2000), *objective.cost(one, 1000));

  const KernelSpec timed = parse(stepped_spec("false")).value_or_throw();
  const RankingObjective by_time(timed, {{"N", 1000}});
  EXPECT_TRUE(by_time.by_time());
  EXPECT_EQ(by_time.name(), "time");
  EXPECT_DOUBLE_EQ(*by_time.cost(four, 2000), 2000);
  EXPECT_FALSE(by_time.work(four));
}

// Measures every configuration with a fixed model: a launch costs 1000 ns plus 400 ns per step
// (plus B / 8 ns), so one step per launch is the fastest launch and four steps the most flops per
// second.
class ModelEvaluator final : public Evaluator {
 public:
  explicit ModelEvaluator(std::string verification) : verification_(std::move(verification)) {}
  static double time_of(const Config& c) {
    return 1000.0 + 400.0 * static_cast<double>(*find_value(c, "TF")) + static_cast<double>(*find_value(c, "B")) / 8;
  }
  void evaluate(const std::vector<Config>& batch, std::optional<double>, const std::function<void(Evaluation)>& on_result) override {
    for (const auto& c : batch) {
      ++evaluated;
      Evaluation e;
      e.measurement.config = c;
      e.measurement.status = MeasurementStatus::ok;
      const double t = time_of(c);
      e.measurement.timing = store::TimingStats{t, t, t, 0, 10, "cupti"};
      e.measurement.measured_at = 1;
      e.measurement.ktune_version = "test";
      e.measurement.verification = verification_;
      on_result(std::move(e));
    }
  }
  std::vector<Evaluation> remeasure(const std::vector<Config>&) override { return {}; }
  std::size_t evaluated = 0;

 private:
  std::string verification_;
};

TEST(Objective, ATuningRanksByFlopsPerSecondAndTheStoreAndLookupAnswerIt) {
  const ktune::testing::ScratchDir dir("ktune-objective");
  auto db = std::make_shared<store::Store>(store::Store::open(dir.path / "store.db").value_or_throw());
  const KernelSpec by_flops = parse(stepped_spec("false", R"J(, "objective": {"maximize": "flops"})J")).value_or_throw();
  const KernelSpec by_time = parse(stepped_spec("false")).value_or_throw();
  const Sizes sizes{{"N", 1 << 20}};
  const DeviceSignature device{"Model GPU", "sm_90"};

  auto tune = [&](const KernelSpec& spec, std::size_t* evaluated) {
    const TuningQuestion question{&spec, sizes, device, {"13.0"}};
    const SearchSpace space = SearchSpace::build(spec.space, &question.sizes).value_or_throw();
    ModelEvaluator evaluator(question.verification());
    auto ledger = MeasurementLedger::open(question, db.get()).value_or_throw();
    auto strategy = make_exhaustive(space);
    auto report = ktune::TuningSession(question, space, *strategy, evaluator, ledger, {}).run().value_or_throw();
    *evaluated = evaluator.evaluated;
    return report;
  };
  std::size_t evaluated = 0;
  const TuneReport flops = tune(by_flops, &evaluated);
  EXPECT_EQ(evaluated, 9u);
  EXPECT_EQ(flops.objective, "flops");
  EXPECT_EQ(flops.best, config_of(by_flops, "TF=4 B=32"));
  EXPECT_DOUBLE_EQ(flops.best_ns, ModelEvaluator::time_of(flops.best)) << "the report keeps the best's own time";

  // Ranked by time, the same kernel's winner is one step per launch: its own row, and the
  // measurements taken for the flops ranking answer it (nothing runs again).
  const TuneReport timed = tune(by_time, &evaluated);
  EXPECT_EQ(evaluated, 0u);
  EXPECT_EQ(timed.from_store, 9u);
  EXPECT_EQ(timed.objective, "time");
  EXPECT_EQ(timed.best, config_of(by_time, "TF=1 B=32"));

  const LookupTable table(db);
  auto answer_flops = table.lookup(by_flops, sizes, device).value_or_throw();
  auto answer_time = table.lookup(by_time, sizes, device).value_or_throw();
  ASSERT_NE(answer_flops.entry, nullptr);
  ASSERT_NE(answer_time.entry, nullptr);
  EXPECT_EQ(answer_flops.entry->config, config_of(by_flops, "TF=4 B=32"));
  EXPECT_EQ(answer_time.entry->config, config_of(by_time, "TF=1 B=32"));
  EXPECT_DOUBLE_EQ(answer_flops.entry->time_ns, ModelEvaluator::time_of(answer_flops.entry->config));

  // Exports rank and label by the objective too: Kernel Tuner's "GFLOP/s", wisdom best first.
  const TuningQuestion question{&by_flops, sizes, device, {"13.0"}};
  TuningResults results{question.kernel_record(), *answer_flops.entry,
                        db->measurements_for(question.tuning_record().tuning_key).value_or_throw()};
  const auto cache = nlohmann::json::parse(to_kernel_tuner_cache(results).value_or_throw());
  EXPECT_EQ(cache["objective"], "GFLOP/s");
  const auto& best_entry = cache["cache"]["4,32"];
  EXPECT_DOUBLE_EQ(best_entry["GFLOP/s"].get<double>(), 4.0 * (1 << 20) / ModelEvaluator::time_of(config_of(by_flops, "TF=4 B=32")));
  const std::string wisdom = to_wisdom("stepped", {results}).value_or_throw();
  const auto first_line = nlohmann::json::parse(wisdom.substr(wisdom.find('\n') + 1, wisdom.find('\n', wisdom.find('\n') + 1) - wisdom.find('\n') - 1));
  EXPECT_EQ(first_line["config"], nlohmann::json::parse("[4, 32]")) << wisdom;
  const auto t4 = to_t4_results(results);
  ASSERT_TRUE(t4.ok()) << t4.error().message;
  EXPECT_NE(t4->find("GFLOP/s"), std::string::npos);
}

// T is a named choice of element types that two buffers follow.
std::string typed_spec(const std::string& types, const std::string& in_type = "const T*", const std::string& init = R"J("random")J",
                       const std::string& verify = R"J({"against": "default"})J") {
  return R"J({"ktune_spec": 1, "name": "typed",
    "source": {"code": "template <class T, int B> __global__ void scale(T* out, const T* in, int n) {}"},
    "entry": "scale", "sizes": ["N"],
    "params": {"T": )J" + types + R"J(, "B": [64, 128]},
    "default": {"T": "float", "B": 64},
    "pass_params": "template", "template_args": ["T", "B"],
    "launch": {"grid": ["ceil_div(N, B)"], "block": ["B"]},
    "args": [{"name": "out", "type": "T*", "count": "N", "output": true},
             {"name": "in", "type": ")J" + in_type + R"J(", "count": "N", "init": )J" + init + R"J(},
             {"name": "n", "type": "int", "value": "N"}],
    "verify": )J" + verify + "}";
}

TEST(BufferTypes, FollowTheConfigurationsChoice) {
  const KernelSpec spec = parse(typed_spec(R"J(["float", "double", "int"])J")).value_or_throw();
  ASSERT_TRUE(spec.has_typed_buffers());
  EXPECT_EQ(spec.args[0].type_param, "T");
  EXPECT_EQ(spec.args[1].type_param, "T");
  EXPECT_TRUE(spec.args[2].type_param.empty());
  EXPECT_EQ(spec.args[0].type, ElementType::f32) << "the default's type";
  EXPECT_EQ(spec.arg_type(spec.args[0], config_of(spec, "T=double B=64")), ElementType::f64);
  EXPECT_EQ(spec.arg_type(spec.args[1], config_of(spec, "T=int B=128")), ElementType::i32);
  EXPECT_EQ(spec.arg_type(spec.args[2], config_of(spec, "T=double B=64")), ElementType::i32) << "a scalar keeps its type";
  EXPECT_EQ(spec.type_group(config_of(spec, "T=double B=64")), (Config{{"T", *find_value(config_of(spec, "T=double B=64"), "T")}}));
  // Outputs are compared within one type: T is matched without being listed.
  EXPECT_EQ(spec.verify.match, (std::vector<std::string>{"T"}));
  EXPECT_EQ(spec.describe_reference(), "configuration T=float B=64 of the same kernel, with each configuration's T");

  // The problem in each configuration's types, each output with its type's tolerances.
  const Sizes sizes{{"N", 1000}};
  const Config t_double = config_of(spec, "T=double B=64"), t_int = config_of(spec, "T=int B=64");
  auto as_double = make_problem(spec, sizes, &t_double);
  ASSERT_TRUE(as_double.ok()) << as_double.error().message;
  EXPECT_EQ(as_double->buffers[0].type, ElementType::f64);
  EXPECT_EQ(as_double->buffers[1].bytes, 8000u);
  EXPECT_DOUBLE_EQ(as_double->buffers[0].rtol, 1e-8);
  auto as_int = make_problem(spec, sizes, &t_int);
  ASSERT_TRUE(as_int.ok());
  EXPECT_EQ(as_int->buffers[1].type, ElementType::i32);
  EXPECT_DOUBLE_EQ(as_int->buffers[0].rtol, 0);
  auto plain = make_problem(spec, sizes);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->buffers[0].type, ElementType::f32) << "without a configuration: the default's";
  // The same generator in every type (data generated from the same seed and position).
  EXPECT_EQ(as_double->buffers[1].init.seed, plain->buffers[1].init.seed);
}

TEST(BufferTypes, RefuseWhatCannotFollowAType) {
  EXPECT_NE(error_of(typed_spec(R"J(["float", "float2x"])J")).find("args.out.type: follows params.T, whose choice \"float2x\" is not an element type"),
            std::string::npos)
      << error_of(typed_spec(R"J(["float", "float2x"])J"));
  std::string scalar = typed_spec(R"J(["float", "double"])J");
  scalar.replace(scalar.find(R"J("type": "int", "value": "N")J"), std::string(R"J("type": "int", "value": "N")J").size(), R"J("type": "T", "value": "N")J");
  EXPECT_NE(error_of(scalar).find("args.n.type: a scalar's type cannot follow the named choice T"), std::string::npos) << error_of(scalar);
  // An integer range must fit the type the buffers are made in (checked at sizes, per type).
  const KernelSpec narrow = parse(typed_spec(R"J(["float", "int8"])J", "const T*", R"J({"integers": {"min": 0, "max": 1000}})J")).value_or_throw();
  const Config t_int8 = config_of(narrow, "T=int8 B=64");
  auto as_int8 = make_problem(narrow, {{"N", 10}}, &t_int8);
  ASSERT_FALSE(as_int8.ok());
  EXPECT_NE(as_int8.error().message.find("does not fit int8"), std::string::npos) << as_int8.error().message;
  EXPECT_TRUE(make_problem(narrow, {{"N", 10}}, &narrow.default_config).ok());
  EXPECT_NE(error_of(typed_spec(R"J(["float", "double"])J", "const T*", R"J({"npy": "x.npy"})J")).find("args.in.init"), std::string::npos);
}

TEST(BufferTypes, JoinTheKernelKeyByTheParameter) {
  const KernelSpec typed = parse(typed_spec(R"J(["float", "double"])J")).value_or_throw();
  const std::string form = kernel_canonical_form(typed);
  EXPECT_NE(form.find(R"J("type":"choice:T")J"), std::string::npos) << form;
  EXPECT_NE(form.find(R"J("match":["T"])J"), std::string::npos) << form;
  // Without verification nothing is matched, and the buffers still follow T.
  const KernelSpec unverified = parse(typed_spec(R"J(["float", "double"])J", "const T*", R"J("random")J", "false")).value_or_throw();
  EXPECT_TRUE(unverified.verify.match.empty());
  EXPECT_TRUE(unverified.has_typed_buffers());
}

}  // namespace
