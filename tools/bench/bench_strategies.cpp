// Strategy benchmark (issue #15): every strategy x every recorded space x budgets x seeds, replayed
// on recorded measurements (no GPU) → the mean fraction of the optimum. The spaces are
// tools/bench/recorded_spaces.hpp: three Kernel Tuner sweeps by others and four H100 SGEMM sweeps.
//
//   bench_strategies [--strategies a,b] [--budgets 25,50,100,200,400,0] [--seeds 10] [--space TEXT]
//                    [--markdown] [--csv FILE]
// Budget 0 is "unlimited": the strategy runs until it stops by itself. Also reported: the budget of
// the goal, max(2 % of the valid space, 400), and the mean evaluations of unlimited runs.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tools/bench/recorded_spaces.hpp"
#include "tools/bench/comma_list.hpp"
#include "tuner/strategy_factory.hpp"

int main(int argc, char** argv) {
  using namespace ktune;
  std::vector<std::string> strategies = bench::split_comma_list(std::string(all_strategy_names()));
  std::vector<std::size_t> budgets{25, 50, 100, 200, 400, 0};
  std::size_t seeds = 10;
  std::string filter, csv_path;
  bool markdown = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_strategies: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--strategies") strategies = bench::split_comma_list(next());
    else if (a == "--budgets") {
      budgets.clear();
      for (const auto& b : bench::split_comma_list(next())) budgets.push_back(std::stoul(b));
    } else if (a == "--seeds") seeds = std::stoul(next());
    else if (a == "--space") filter = next();
    else if (a == "--markdown") markdown = true;
    else if (a == "--csv") csv_path = next();
    else {
      std::fprintf(stderr, "bench_strategies: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  auto set = bench::open_recorded_spaces(KTUNE_SOURCE_DIR, std::filesystem::temp_directory_path() / "ktune-bench-strategies");
  if (!set) {
    std::fprintf(stderr, "bench_strategies: %s\n", set.error().message.c_str());
    return 1;
  }
  std::ofstream csv;
  if (!csv_path.empty()) {
    csv.open(csv_path);
    csv << "space,valid,strategy,budget,mean_quality,min_quality,max_quality,mean_evaluations\n";
  }
  const auto t0 = std::chrono::steady_clock::now();
  if (markdown) {
    std::printf("| space (valid) | strategy |");
    for (auto b : budgets) std::printf(" %s |", b ? std::to_string(b).c_str() : "unlimited (evals)");
    std::printf(" goal budget: mean (min) |\n|---|---|");
    for (std::size_t i = 0; i <= budgets.size(); ++i) std::printf("---|");
    std::printf("\n");
  }
  for (const auto& entry : set->spaces) {
    if (!filter.empty() && entry.label.find(filter) == std::string::npos) continue;
    const std::size_t valid = entry.space->space().valid_count();
    const std::size_t goal = std::max<std::size_t>(400, valid / 50);
    for (const auto& strategy : strategies) {
      std::string line = markdown ? "| " + entry.label + " (" + std::to_string(valid) + ") | " + strategy + " |"
                                  : entry.label + "  " + strategy + ":";
      auto cell = [&](std::size_t budget, bool with_min) {
        TuneOptions options;
        options.strategy = strategy;
        options.limits.max_evaluations = budget;
        auto study = entry.space->study(options, seeds);
        if (!study) {
          std::fprintf(stderr, "bench_strategies: %s %s: %s\n", entry.label.c_str(), strategy.c_str(), study.error().message.c_str());
          std::exit(1);
        }
        if (csv.is_open())
          csv << '"' << entry.label << "\"," << valid << ',' << strategy << ',' << budget << ',' << study->mean_quality() << ','
              << study->min_quality() << ',' << study->max_quality() << ',' << study->mean_evaluated() << '\n';
        char buffer[64];
        if (with_min) std::snprintf(buffer, sizeof buffer, " %.3f (%.3f) |", study->mean_quality(), study->min_quality());
        else if (budget == 0) std::snprintf(buffer, sizeof buffer, " %.3f (%.0f) |", study->mean_quality(), study->mean_evaluated());
        else std::snprintf(buffer, sizeof buffer, " %.3f |", study->mean_quality());
        line += buffer;
      };
      for (auto b : budgets) cell(b, false);
      cell(goal, true);
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    }
  }
  std::fprintf(stderr, "bench_strategies: %.1f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}
