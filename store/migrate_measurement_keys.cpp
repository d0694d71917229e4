#include "store/migrate_measurement_keys.hpp"

#include <string>
#include <vector>

#include "store/measurement_identity.hpp"
#include "store/records.hpp"

namespace ktune::store {

Status migrate_measurement_keys(const Database& db) {
  struct Tuning {
    std::string tuning_key, kernel_json, sizes, device, arch, toolchain;
  };
  std::vector<Tuning> tunings;
  {
    auto select = db.prepare(
        "SELECT t.tuning_key, k.kernel_json, t.sizes, t.device, t.arch, t.toolchain FROM tunings t "
        "JOIN kernels k ON k.kernel_key = t.kernel_key "
        "WHERE t.tuning_key IN (SELECT DISTINCT tuning_key FROM measurements)");
    if (!select) return select.error();
    for (;;) {
      auto row = select->step();
      if (!row) return row.error();
      if (!*row) break;
      tunings.push_back({select->column_text(0), select->column_text(1), select->column_text(2),
                         select->column_text(3), select->column_text(4), select->column_text(5)});
    }
  }
  auto update = db.prepare("UPDATE measurements SET measurement_key = ?1, verification = ?2 WHERE tuning_key = ?3");
  if (!update) return update.error();
  for (const Tuning& t : tunings) {
    auto sizes = named_from_text(t.sizes);
    if (!sizes) continue;  // unreadable: the rows keep a NULL key (see the header)
    auto key = measurement_key({t.kernel_json, kUnrecordedInputs, &*sizes, t.device, t.arch, t.toolchain});
    auto verifies = kernel_form_verifies(t.kernel_json);
    if (!key || !verifies) continue;
    StatementReset reset(*update);
    KTUNE_TRY(update->bind(1, *key));
    KTUNE_TRY(update->bind(2, *verifies ? kVerifiedUnrecorded : kNotVerified));
    KTUNE_TRY(update->bind(3, t.tuning_key));
    KTUNE_TRY(update->run());
  }
  return Ok{};
}

}  // namespace ktune::store
