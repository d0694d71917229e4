// Fuzz target: the sweep file parser (engine/sweep.hpp, docs/sweep.md). The input is the sweep's
// JSON text; relative spec paths resolve against examples/sweeps, so "../sgemm.json" is the real
// example spec (read and parsed from disk, as `ktune sweep` does).
//
// Checked beyond "no crash, no UB, no huge allocation, no exception escaping":
//   - an error is Errc::invalid_argument and names the origin ("sweep: ...");
//   - a plan that parses has items, each with size sets that are complete for its spec and in the
//     spec's size order, a canonical strategy name, and run_count() counting them all.
#include <filesystem>
#include <string>

#include "engine/sweep.hpp"
#include "tuner/strategy.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace ktune;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path base_dir = KTUNE_FUZZ_SWEEP_DIR;
  auto plan = parse_sweep(fuzz::as_text(data, size), base_dir, "sweep");
  if (!plan) {
    ktune::fuzz::note(plan.error().message);
    KTUNE_FUZZ_CHECK(plan.error().code == Errc::invalid_argument);
    KTUNE_FUZZ_CHECK(plan.error().message.rfind("sweep: ", 0) == 0);
    return 0;
  }
  KTUNE_FUZZ_CHECK(!plan->items.empty());
  std::size_t runs = 0;
  for (const auto& item : plan->items) {
    KTUNE_FUZZ_CHECK(canonical_strategy_name(item.strategy) == item.strategy);  // a known name, canonical
    KTUNE_FUZZ_CHECK(!item.sizes.empty());
    for (const auto& sizes : item.sizes) {
      KTUNE_FUZZ_CHECK(item.spec.check_sizes(sizes).ok());
      KTUNE_FUZZ_CHECK(sizes.size() == item.spec.space.size_names.size());
      for (std::size_t s = 0; s < sizes.size(); ++s) KTUNE_FUZZ_CHECK(sizes[s].first == item.spec.space.size_names[s]);
    }
    runs += item.sizes.size();
  }
  KTUNE_FUZZ_CHECK(plan->run_count() == runs);
  return 0;
}
