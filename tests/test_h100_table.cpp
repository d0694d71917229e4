// The lookup table exported from a real H100 sweep of examples/sgemm.json (2026-11-22): it
// round-trips through a store byte for byte, and its keys are the ones the current spec produces,
// so shipping it answers lookups exactly on another machine.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/model/tuning_question.hpp"
#include "store/store.hpp"
#include "store/table_format.hpp"

namespace {

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct H100Table : ::testing::Test {
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("ktune-h100-table-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    text = read(std::filesystem::path(KTUNE_SOURCE_DIR) / "tests/data/h100-sgemm-table.json");
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  std::string text;
};

TEST_F(H100Table, RoundTripsThroughAnEmptyStore) {
  auto table = ktune::store::table_from_json(text);
  ASSERT_TRUE(table.ok()) << table.error().message;
  auto store = ktune::store::Store::open(dir / "a.db").value_or_throw();
  auto summary = store.import_table(*table);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->entries_added, 4u);
  auto exported = store.export_table().value_or_throw();
  EXPECT_EQ(ktune::store::table_to_json(exported), text);
}

TEST_F(H100Table, AnswersTheExampleSpecExactly) {
  auto store = ktune::store::Store::open(dir / "b.db").value_or_throw();
  ASSERT_TRUE(store.import_table(ktune::store::table_from_json(text).value_or_throw()).ok());
  auto spec = ktune::KernelSpec::from_file(std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json").value_or_throw();
  ktune::TuningQuestion question{&spec, {{"M", 4096}, {"N", 4096}, {"K", 4096}}, {"NVIDIA H100 80GB HBM3", "sm_90"}, {"13.0"}};
  auto answer = store.lookup(question.lookup_request()).value_or_throw();
  ASSERT_EQ(answer.rule, ktune::store::LookupRule::exact)
      << "the example spec changed since the table was recorded: re-record it (tools/bench/record_sweeps.sh)";
  EXPECT_EQ(answer.entry->config, (ktune::Config{{"BM", 128}, {"BN", 128}, {"BK", 16}, {"TM", 8}, {"TN", 8}}));
  EXPECT_GT(*answer.entry->default_time_ns / answer.entry->time_ns, 1.3);  // the point of tuning
}

}  // namespace
