// How fast the search space filters configurations (the Foundation issue's benchmark).
// A 10^7-configuration product with a GEMM-like constraint set, timed over several runs.
#include <chrono>
#include <cstdio>
#include <thread>

#include "tuner/search_space.hpp"

int main() {
  ktune::ParamSpace space;
  const std::vector<std::int64_t> pow2 = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
  for (const char* name : {"BM", "BN", "BK", "TM", "TN", "WM", "WN"}) space.params.push_back({name, pow2});
  for (const char* text : {"BM % TM == 0", "BN % TN == 0", "(BM / TM) * (BN / TN) <= 1024",
                           "(BM + BN) * BK * 4 <= 49152", "WM <= BM && WN <= BN", "BM % WM == 0 && BN % WN == 0"}) {
    auto expr = ktune::Expr::parse(text, space.resolver()).value_or_throw();
    space.constraints.push_back({std::move(expr), false});
  }
  double best = 1e9;
  std::uint64_t valid = 0;
  for (int run = 0; run < 5; ++run) {
    auto start = std::chrono::steady_clock::now();
    auto built = ktune::SearchSpace::build(space).value_or_throw();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::min(best, seconds);
    valid = built.valid_count();
  }
  std::printf("search space filter: %llu configurations (%llu valid, 6 constraints), %u hardware threads\n",
              static_cast<unsigned long long>(space.product()), static_cast<unsigned long long>(valid),
              std::thread::hardware_concurrency());
  std::printf("best of 5: %.3f s = %.1f M configurations/s\n", best, static_cast<double>(space.product()) / best / 1e6);
  return 0;
}
