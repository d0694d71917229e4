#pragma once
// The lookup questions of one prepared kernel, computed once per (sizes as given, device,
// toolchain): the tuning key hashes the kernel's whole canonical form, so a hot lookup must not
// compute it again. Internal to libktune (PreparedKernel's snapshot holds one).
#include <cstddef>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/common/named_values.hpp"
#include "engine/common/result.hpp"
#include "engine/model/key.hpp"
#include "engine/model/spec.hpp"
#include "store/lookup.hpp"

namespace ktune {

class QuestionCache {
 public:
  // A program that asks for ever new sizes must not grow without bound: past this many questions
  // the cache starts over (answers in use stay alive through their shared_ptr).
  static constexpr std::size_t kMaxQuestions = 4096;

  // What a lookup asks the store, as LookupTable::lookup builds it: the request keyed at the
  // bucket's representative (spec buckets), whether sizes were moved there (an exact hit is then a
  // `bucket` answer), and the filter of answers that can run at the sizes asked for.
  struct Question {
    store::LookupRequest request;
    store::UsableConfig usable;
    bool bucketed = false;
  };

  // The question for `sizes` (in any order, as the caller wrote them) on `device` with
  // `toolchain`. Errors (sizes that do not fit the spec) are not cached: they are rare and cheap.
  // `spec` must outlive the cache (the filter refers to its parameter space).
  Result<std::shared_ptr<const Question>> question(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device,
                                                   const Toolchain& toolchain) const;

 private:
  struct Key {
    Sizes sizes;
    std::string device, arch, nvrtc;
    friend bool operator==(const Key&, const Key&) = default;
  };
  // What a lookup hashes and compares without building a Key (no allocation on a hit).
  struct KeyView {
    const Sizes& sizes;
    std::string_view device, arch, nvrtc;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(const KeyView& k) const noexcept;
    std::size_t operator()(const Key& k) const noexcept { return (*this)(KeyView{k.sizes, k.device, k.arch, k.nvrtc}); }
  };
  struct Equal {
    using is_transparent = void;
    static bool same(const KeyView& a, const KeyView& b) noexcept {
      return a.device == b.device && a.arch == b.arch && a.nvrtc == b.nvrtc && a.sizes == b.sizes;
    }
    bool operator()(const Key& a, const Key& b) const noexcept { return a == b; }
    bool operator()(const KeyView& a, const Key& b) const noexcept { return same(a, KeyView{b.sizes, b.device, b.arch, b.nvrtc}); }
    bool operator()(const Key& a, const KeyView& b) const noexcept { return same(KeyView{a.sizes, a.device, a.arch, a.nvrtc}, b); }
  };

  mutable std::shared_mutex mutex_;
  mutable std::unordered_map<Key, std::shared_ptr<const Question>, Hash, Equal> questions_;
};

}  // namespace ktune
