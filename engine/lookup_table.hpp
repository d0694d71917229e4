#pragma once
// The read side of ktune (kernel_launcher's Oracle): what the lookup table answers for a kernel at
// some sizes on some device, and which rule matched — exact, nearest tuned size, another device of
// the same architecture, or none (the caller uses the spec's default). Usable without any tuning
// machinery: no GPU, no compile pool, no runner; it never writes.
//
//   auto table = ktune::LookupTable::open(ktune::default_store_path()).value_or_throw();
//   auto answer = table.lookup(spec, {{"M", 4096}, {"N", 4096}, {"K", 4096}}, {"NVIDIA H100 80GB HBM3", "sm_90"});
//   const ktune::Config& config = answer->entry ? answer->entry->config : spec.default_config;
#include <filesystem>
#include <memory>

#include "engine/common/named_values.hpp"
#include "engine/common/result.hpp"
#include "engine/model/key.hpp"
#include "engine/model/spec.hpp"
#include "store/lookup.hpp"

namespace ktune {

namespace store {
class Store;
}

using store::LookupAnswer;
using store::LookupRule;

class LookupTable {
 public:
  // Opens the store at `path` read-only. A file that does not exist is no error: nothing has been
  // tuned there yet, so every answer is `none` (and no file is created).
  static Result<LookupTable> open(const std::filesystem::path& path);
  // The table of a store the caller already has open (the Engine's), shared with it.
  explicit LookupTable(std::shared_ptr<store::Store> store);

  // Sizes in any order (each size once). Errors: sizes that do not fit the spec, a failing database.
  // Every answer is a valid configuration at `sizes`: a stored entry that is not (a constraint
  // over sizes rejects the nearest size's winner) is skipped for the next candidate. On `none`
  // the caller runs the spec's default, which may itself be invalid at these sizes:
  // KernelSpec::why_default_invalid_at says so.
  Result<LookupAnswer> lookup(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device) const;

 private:
  std::shared_ptr<store::Store> store_;  // null: no store file, nothing tuned
};

}  // namespace ktune
