#include "engine/question_cache.hpp"

#include <functional>
#include <mutex>

#include "engine/model/tuning_question.hpp"

namespace ktune {

namespace {
void mix(std::size_t& seed, std::size_t value) noexcept { seed ^= value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2); }
}  // namespace

std::size_t QuestionCache::Hash::operator()(const KeyView& k) const noexcept {
  std::size_t seed = 0;
  for (const auto& [name, value] : k.sizes) {
    mix(seed, std::hash<std::string_view>{}(name));
    mix(seed, std::hash<std::int64_t>{}(value));
  }
  mix(seed, std::hash<std::string_view>{}(k.device));
  mix(seed, std::hash<std::string_view>{}(k.arch));
  mix(seed, std::hash<std::string_view>{}(k.nvrtc));
  return seed;
}

Result<std::shared_ptr<const QuestionCache::Question>> QuestionCache::question(const KernelSpec& spec, const Sizes& sizes,
                                                                             const DeviceSignature& device,
                                                                             const Toolchain& toolchain) const {
  const KeyView view{sizes, device.name, device.arch, toolchain.nvrtc_version};
  {
    std::shared_lock lock(mutex_);
    if (auto found = questions_.find(view); found != questions_.end()) return found->second;
  }
  auto ordered = spec.ordered_sizes(sizes);
  if (!ordered) return ordered.error();
  Sizes bucketed = spec.bucketed_sizes(*ordered);
  const bool moved = bucketed != *ordered;
  TuningQuestion asked{&spec, std::move(*ordered), device, toolchain};
  TuningQuestion keyed{&spec, std::move(bucketed), device, toolchain};
  auto request = std::make_shared<const Question>(Question{keyed.lookup_request(), asked.usable_config(), moved});
  std::unique_lock lock(mutex_);
  if (questions_.size() >= kMaxQuestions) questions_.clear();
  questions_.emplace(Key{sizes, device.name, device.arch, toolchain.nvrtc_version}, request);
  return request;
}

}  // namespace ktune
