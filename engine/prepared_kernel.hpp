#pragma once
// A kernel spec prepared for hot lookups: an immutable snapshot of the spec with its keys computed
// once. A compiler asks the same kernel again and again (every time it emits it); computing the
// kernel key means canonicalising the whole source and spec (tens of microseconds), so a
// PreparedKernel computes it on first use and remembers the lookup question per
// (sizes, device, toolchain) it has been asked.
//
//   auto kernel = ktune::PreparedKernel::from(spec);          // copies the spec
//   auto answer = engine->lookup(kernel, {{"M", 4096}, {"N", 4096}, {"K", 4096}});
//
// Why a snapshot rather than a cache keyed by the caller's KernelSpec: a KernelSpec is a plain,
// mutable struct, so a cache keyed by its address would answer for a spec that has since changed,
// and a fingerprint good enough to notice any change costs as much as the key itself. The
// snapshot cannot change, so its cached keys cannot go stale; a changed spec is prepared again.
// Copies of a PreparedKernel share the snapshot and its cache (cheap to copy, thread-safe).
#include <memory>

#include "engine/model/spec.hpp"

namespace ktune {

class PreparedKernel {
 public:
  static PreparedKernel from(KernelSpec spec);

  const KernelSpec& spec() const noexcept;

  struct Snapshot;  // the spec, its keys and the question cache (engine/prepared_kernel.cpp)
  const Snapshot& snapshot() const noexcept { return *snapshot_; }

 private:
  explicit PreparedKernel(std::shared_ptr<const Snapshot> snapshot) : snapshot_(std::move(snapshot)) {}
  std::shared_ptr<const Snapshot> snapshot_;
};

}  // namespace ktune
