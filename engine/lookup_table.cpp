#include "engine/lookup_table.hpp"

#include <system_error>

#include "engine/model/toolchain.hpp"
#include "engine/model/tuning_question.hpp"
#include "store/store.hpp"

namespace ktune {

Result<LookupTable> LookupTable::open(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return LookupTable(nullptr);
  store::StoreOptions options;
  options.read_only = true;
  auto opened = store::Store::open(path, options);
  if (!opened) return opened.error();
  return LookupTable(std::make_shared<store::Store>(std::move(*opened)));
}

LookupTable::LookupTable(std::shared_ptr<store::Store> store) : store_(std::move(store)) {}

Result<LookupAnswer> LookupTable::lookup(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device) const {
  auto ordered = spec.ordered_sizes(sizes);
  if (!ordered) return ordered.error();
  if (!store_) return LookupAnswer{};
  // Keyed by the bucket's representative, as tune stores it; an exact hit there is a bucket answer
  // unless the request was the representative itself.
  // Whether an answer can run is judged at the sizes asked for: a bucket's winner was tuned at its
  // representative, and a constraint over sizes may reject it here.
  Sizes bucketed = spec.bucketed_sizes(*ordered);
  const bool moved = bucketed != *ordered;
  TuningQuestion asked{&spec, std::move(*ordered), device, current_toolchain()};
  TuningQuestion question{&spec, std::move(bucketed), device, current_toolchain()};
  auto answer = store_->lookup(question.lookup_request(), asked.usable_config());
  if (answer && moved && answer->rule == LookupRule::exact) answer->rule = LookupRule::bucket;
  return answer;
}

}  // namespace ktune
