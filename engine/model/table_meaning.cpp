#include "engine/model/table_meaning.hpp"

#include <map>
#include <optional>
#include <string>

#include "engine/common/hash.hpp"
#include "engine/model/kernel_form.hpp"
#include "engine/model/key.hpp"

namespace ktune {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "nvrtc 13.0" -> "13.0" (TuningQuestion::toolchain_text writes it).
std::optional<std::string> nvrtc_version_of(std::string_view toolchain) {
  constexpr std::string_view prefix = "nvrtc ";
  if (toolchain.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view version = toolchain.substr(prefix.size());
  const auto dot = version.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == version.size() || version.size() > 12) return std::nullopt;
  for (std::size_t i = 0; i < version.size(); ++i)
    if (i != dot && !is_digit(version[i])) return std::nullopt;
  return std::string(version);
}

}  // namespace

bool is_arch_name(std::string_view text) noexcept {
  if (text.substr(0, 3) != "sm_") return false;
  std::string_view rest = text.substr(3);
  if (!rest.empty() && (rest.back() == 'a' || rest.back() == 'f')) rest.remove_suffix(1);
  if (rest.size() < 2 || rest.size() > 3 || rest[0] == '0') return false;
  for (char c : rest)
    if (!is_digit(c)) return false;
  return true;
}

Status check_table_meaning(const store::LookupTable& table) {
  struct Kernel {
    std::string name;
    ParamSpace space;
  };
  std::map<std::string, Kernel, std::less<>> kernels;
  for (std::size_t i = 0; i < table.kernels.size(); ++i) {
    const store::KernelRecord& k = table.kernels[i];
    auto space = space_from_kernel_form(k.kernel_json);
    if (!space)
      return make_error(Errc::corrupt, "kernels[" + std::to_string(i) + "] (" + k.name + "): field 'kernel_json': " +
                                           space.error().message);
    kernels.insert_or_assign(k.kernel_key, Kernel{k.name, std::move(*space)});
  }
  for (std::size_t i = 0; i < table.entries.size(); ++i) {
    const store::BestRecord& e = table.entries[i];
    const auto found = kernels.find(e.tuning.kernel_key);
    const std::string kernel_name = found == kernels.end() ? std::string("?") : found->second.name;
    const std::string where =
        "entries[" + std::to_string(i) + "] (kernel " + kernel_name + ", tuning_key " + e.tuning.tuning_key + ")";
    auto fail = [&](const std::string& field, const std::string& what) {
      return make_error(Errc::corrupt, where + ": field '" + field + "': " + what);
    };
    if (found == kernels.end()) return fail("kernel_key", "not among the table's kernels");
    const ParamSpace& space = found->second.space;

    if (!is_arch_name(e.tuning.arch))
      return fail("arch", "'" + e.tuning.arch + "' is not an architecture like sm_90, sm_90a or sm_100f");
    const auto nvrtc = nvrtc_version_of(e.tuning.toolchain);
    if (!nvrtc) return fail("toolchain", "'" + e.tuning.toolchain + "' is not like \"nvrtc 13.0\"");

    if (e.tuning.sizes.size() != space.size_names.size())
      return fail("sizes", "has " + std::to_string(e.tuning.sizes.size()) + " sizes; the kernel has " +
                               std::to_string(space.size_names.size()));
    for (std::size_t s = 0; s < space.size_names.size(); ++s) {
      const auto& [name, value] = e.tuning.sizes[s];
      if (name != space.size_names[s])
        return fail("sizes", "size " + std::to_string(s) + " is " + name + "; the kernel's is " + space.size_names[s]);
      if (value < 0) return fail("sizes", name + "=" + std::to_string(value) + " is negative");
      if (value > kMaxImportedSize)
        return fail("sizes", name + "=" + std::to_string(value) + " is larger than 2^53");
    }
    if (auto why = why_invalid_at(space, e.config, e.tuning.sizes))
      return fail("config", format_named(e.config) + " is not a valid configuration at " +
                                format_named(e.tuning.sizes) + ": " + *why);

    const std::string expected = xxh3_128(tuning_canonical_form(e.tuning.kernel_key, space.size_names,
                                                                e.tuning.sizes, {e.tuning.device, e.tuning.arch},
                                                                Toolchain{*nvrtc}))
                                     .hex();
    if (expected != e.tuning.tuning_key)
      return fail("tuning_key", "does not match the entry's kernel, sizes, device, arch and toolchain (they hash to " +
                                    expected + ")");
  }
  return Ok{};
}

}  // namespace ktune
