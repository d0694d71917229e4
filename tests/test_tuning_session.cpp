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
    evaluator = ReplayEvaluator::from_store(*recorded, question.tuning_record().tuning_key).value_or_throw();
    space.emplace(SearchSpace::build(spec.space, &question.sizes).value_or_throw());
    db.emplace(store::Store::open(dir / "store.db").value_or_throw());
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  TuneReport tune(Strategy& strategy, TuneLimits limits = {}) {
    auto ledger = MeasurementLedger::open(question, &*db).value_or_throw();
    auto report = ktune::TuningSession(question, *space, strategy, *evaluator, ledger, limits).run();
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

}  // namespace
