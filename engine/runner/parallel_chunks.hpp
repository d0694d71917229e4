#pragma once
// Splits [0, count) into contiguous chunks of at least `grain` elements and runs them on every
// core with plain threads: the runner fills and compares buffers of tens of millions of elements,
// and must not link oneTBB (its only dependencies are ktune_common, the CUDA layer and the
// process layer). Chunk results are merged in index order.
#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace ktune::runner {

// chunk(begin, end) -> T; merge(T accumulated, const T& next) -> T.
template <class T, class Chunk, class Merge>
T parallel_chunks(std::uint64_t count, std::uint64_t grain, T init, Chunk chunk, Merge merge) {
  const std::uint64_t hardware = std::max(1U, std::thread::hardware_concurrency());
  const std::uint64_t pieces = std::clamp<std::uint64_t>((count + grain - 1) / std::max<std::uint64_t>(grain, 1), 1, hardware);
  if (pieces == 1) return merge(std::move(init), chunk(std::uint64_t{0}, count));
  std::vector<T> results(pieces);
  std::vector<std::thread> threads;
  threads.reserve(pieces - 1);
  auto bounds = [&](std::uint64_t i) { return count * i / pieces; };
  for (std::uint64_t i = 1; i < pieces; ++i)
    threads.emplace_back([&, i] { results[i] = chunk(bounds(i), bounds(i + 1)); });
  results[0] = chunk(bounds(0), bounds(1));
  for (auto& t : threads) t.join();
  T out = std::move(init);
  for (auto& r : results) out = merge(std::move(out), r);
  return out;
}

}  // namespace ktune::runner
