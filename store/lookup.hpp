#pragma once
// The lookup question and its answer, and the fallback chain of DESIGN.md decision 8:
//
//   1. exact         the tuning key itself has a best entry.
//      bucket        (LookupTable only) the same, where the spec's buckets mapped the requested
//                    sizes to their bucket's representative (engine/model/size_buckets.hpp).
//   2. nearest_size  same kernel key, same device name, the closest tuned sizes (any toolchain).
//   3. same_arch     same kernel key, another device of the same arch (closest sizes again).
//   4. none          nothing usable: the caller runs the spec's default configuration.
//
// Distance between two size vectors with the same size names:
//   d(a, b) = sum over sizes of |log2(max(a_i, 1)) - log2(max(b_i, 1))|
// i.e. how many factors of two apart they are, summed: M=4096 vs M=2048 is 1; M=4096,N=1024 vs
// M=2048,N=2048 is 2. Tuned entries whose size names differ from the request's are never used.
// Ties go to an entry with the request's toolchain, then the more recently tuned, then the smaller
// tuning key, so the answer is deterministic.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/common/named_values.hpp"
#include "store/records.hpp"

namespace ktune::store {

struct LookupRequest {
  std::string tuning_key;  // the exact question (hash of the four parts below + kernel key)
  std::string kernel_key;
  Sizes sizes;             // spec order
  std::string device;      // device name, e.g. "NVIDIA H100 80GB HBM3"
  std::string arch;        // e.g. "sm_90"
  std::string toolchain;   // e.g. "nvrtc 13.0"
};

// Whether a tuned configuration can run at the request's sizes. The store does not read kernels,
// so the engine judges (a constraint such as BLOCK * ITEMS <= N makes the nearest size's winner
// invalid at a smaller N); an entry it refuses is skipped and the next candidate is tried. An
// empty function accepts every entry.
using UsableConfig = std::function<bool(const Config& config)>;

enum class LookupRule : std::uint8_t { exact, nearest_size, same_arch, none, bucket };
std::string_view to_string(LookupRule rule) noexcept;

struct LookupAnswer {
  LookupRule rule = LookupRule::none;
  // The entry the rule matched (its own sizes and device say what was tuned); null for `none`.
  // Shared and immutable, so a hot lookup costs a reference count, not a copy.
  std::shared_ptr<const BestRecord> entry;
  double distance = 0;  // size distance (above) between the request and the entry; 0 when exact
};

// Returns a negative value when the size names differ (not comparable).
double size_distance(const Sizes& request, const Sizes& tuned) noexcept;

}  // namespace ktune::store
