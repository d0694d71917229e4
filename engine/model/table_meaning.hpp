#pragma once
// What an imported lookup table must mean, beyond its format (store::check_table): every entry is
// an answer this ktune could have produced for its kernel. A table is a deployment artefact that
// crosses machines and people; an entry that names parameters the kernel does not have, a value
// outside a list, a configuration the constraints reject at the entry's sizes, or a tuning key
// that is not the hash of the entry's own content would otherwise be served as an exact match.
#include <cstdint>

#include "engine/common/result.hpp"
#include "store/table_format.hpp"

namespace ktune {

// Sizes above this are refused: no real problem is that large, and size distances (store/lookup.hpp)
// are computed in doubles, exact up to 2^53.
inline constexpr std::int64_t kMaxImportedSize = std::int64_t{1} << 53;

// The first problem found, as Errc::corrupt with one line naming the record and field:
//   "entries[3] (kernel sgemm_tiled, tuning_key 84...): field 'config': BM=999999 is not one of 32, 64, 128"
// Checked per kernel: its kernel_json is a kernel form (engine/model/kernel_form.hpp).
// Checked per entry: arch like sm_90 / sm_90a / sm_100f; toolchain like "nvrtc 13.0"; sizes are
// exactly the kernel's size names, each 0 <= value <= kMaxImportedSize; the configuration is
// complete and valid at those sizes (parameters, lists, every constraint); the tuning key is the
// hash of the entry's kernel key, sizes, device, arch and toolchain.
// Run after store::check_table (which guarantees every entry's kernel is in the table).
Status check_table_meaning(const store::LookupTable& table);

// "sm_90", "sm_90a", "sm_100f", "sm_120": what a device or NVRTC calls an architecture.
bool is_arch_name(std::string_view text) noexcept;

}  // namespace ktune
