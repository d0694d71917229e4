// Tuning sessions on recorded H100 data with a real store: everything is persisted, a repeated
// (or resumed) run evaluates nothing twice, budgets are honoured, the winner lands in the table.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "engine/replay_evaluator.hpp"
#include "engine/tuning_session.hpp"
#include "tuner/strategy.hpp"

namespace {

using namespace ktune;

struct TuningSession : ::testing::Test {
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("ktune-session-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    spec = KernelSpec::from_file(std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json").value_or_throw();
    question = TuningQuestion{&spec, {{"M", 2048}, {"N", 2048}, {"K", 2048}}, {"NVIDIA H100 80GB HBM3", "sm_90"}, {"13.0"}};
    store::StoreOptions read_only;
    read_only.read_only = true;
    recorded.emplace(store::Store::open(std::string(KTUNE_SOURCE_DIR) + "/tests/data/h100-sgemm.db", read_only).value_or_throw());
    evaluator = ReplayEvaluator::from_store(*recorded, question).value_or_throw();
    space.emplace(SearchSpace::build(spec.space, &question.sizes).value_or_throw());
    db.emplace(store::Store::open(dir / "store.db").value_or_throw());
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  TuneReport tune(Strategy& strategy, TuneLimits limits = {}) { return tune_with(*evaluator, strategy, limits); }
  TuneReport tune_with(Evaluator& with, Strategy& strategy, TuneLimits limits = {}) {
    auto ledger = MeasurementLedger::open(question, &*db).value_or_throw();
    auto report = ktune::TuningSession(question, *space, strategy, with, ledger, limits).run();
    EXPECT_TRUE(report.ok()) << report.error().message;
    return report.ok() ? *report : TuneReport{};
  }

  std::filesystem::path dir;
  KernelSpec spec;
  TuningQuestion question;
  std::optional<store::Store> recorded, db;
  std::unique_ptr<ReplayEvaluator> evaluator;
  std::optional<SearchSpace> space;
};

TEST_F(TuningSession, PersistsEveryMeasurementAndTheWinner) {
  auto strategy = make_exhaustive(*space);
  TuneReport report = tune(*strategy);
  EXPECT_EQ(report.evaluated, 228u);
  EXPECT_EQ(report.from_store, 0u);
  EXPECT_EQ(report.by_status["ok"] + report.by_status["pruned"], 228u);
  EXPECT_TRUE(report.default_ns.has_value());
  auto measurements = db->measurements_for(question.tuning_record().tuning_key).value_or_throw();
  EXPECT_EQ(measurements.size(), 228u);
  auto best = db->best(question.tuning_record().tuning_key).value_or_throw();
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->config, report.best);
  EXPECT_EQ(best->strategy, "exhaustive");
  EXPECT_EQ(best->config, evaluator->best_recorded()->first);
}

TEST_F(TuningSession, ARepeatedRunEvaluatesNothingTwice) {
  auto first = make_coordinate_descent(*space, {.start = spec.default_config});
  TuneReport a = tune(*first);
  ASSERT_GT(a.evaluated, 0u);
  // Exhaustive after coordesc: the configurations coordesc measured come from the store.
  auto second = make_exhaustive(*space);
  TuneReport b = tune(*second);
  EXPECT_EQ(b.from_store, a.evaluated);
  EXPECT_EQ(b.evaluated, 228u - a.evaluated);
  EXPECT_EQ(db->measurements_for(question.tuning_record().tuning_key).value_or_throw().size(), 228u);
  // And a third run costs nothing at all.
  auto third = make_exhaustive(*space);
  TuneReport c = tune(*third);
  EXPECT_EQ(c.evaluated, 0u);
  EXPECT_EQ(c.from_store, 228u);
  EXPECT_EQ(c.best, b.best);
}

TEST_F(TuningSession, ABudgetCapsNewEvaluations) {
  auto strategy = make_exhaustive(*space);
  TuneLimits limits;
  limits.max_evaluations = 30;
  TuneReport report = tune(*strategy, limits);
  EXPECT_EQ(report.evaluated, 30u);
  // Resuming with a larger budget continues where the first run stopped.
  auto again = make_exhaustive(*space);
  limits.max_evaluations = 50;
  TuneReport more = tune(*again, limits);
  EXPECT_EQ(more.from_store, 30u);
  EXPECT_EQ(more.evaluated, 50u);
}

// Measures the verification reference (the spec default) while it is set up, as the GPU pipeline
// does, and otherwise replays.
class ReplayWithReference final : public Evaluator {
 public:
  ReplayWithReference(ReplayEvaluator& inner, Config reference) : inner_(inner), reference_(std::move(reference)) {}
  void evaluate(const std::vector<Config>& batch, std::optional<double> best_ns,
                const std::function<void(Evaluation)>& on_result) override {
    inner_.evaluate(batch, best_ns, on_result);
  }
  std::vector<Evaluation> remeasure(const std::vector<Config>&) override { return {}; }
  std::vector<Evaluation> setup_evaluations() const override {
    std::vector<Evaluation> out;
    inner_.evaluate({reference_}, std::nullopt, [&](Evaluation e) { out.push_back(std::move(e)); });
    return out;
  }

 private:
  ReplayEvaluator& inner_;
  Config reference_;
};

TEST_F(TuningSession, AResumedSessionMeasuresTheReferenceAgainButStoresAndCountsItOnce) {
  ReplayWithReference with_reference(*evaluator, spec.default_config);
  auto first = make_exhaustive(*space);
  TuneLimits limits;
  limits.max_evaluations = 10;
  TuneReport a = tune_with(with_reference, *first, limits);
  EXPECT_EQ(a.evaluated, 10u);  // the reference and 9 more
  EXPECT_EQ(a.from_store, 0u) << "the reference measured while setting up is no store answer";
  ASSERT_EQ(db->measurements_for(question.tuning_record().tuning_key).value_or_throw().size(), 10u);
  // Resumed: the reference is measured again (its outputs must come from this session) but is
  // neither stored twice nor counted as answered from the store.
  auto second = make_exhaustive(*space);
  TuneReport b = tune_with(with_reference, *second);
  EXPECT_EQ(b.from_store, 9u);
  EXPECT_EQ(b.evaluated, 228u - 10u);
  EXPECT_EQ(db->measurements_for(question.tuning_record().tuning_key).value_or_throw().size(), 228u);
}

}  // namespace
