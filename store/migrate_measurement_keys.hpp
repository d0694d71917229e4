#pragma once
// Schema version 2's data step: every stored measurement gets the measurement key its kernel's
// stored form gives (store/measurement_identity.hpp) and says whether it was verified.
//
// The forms of version 1 do not record each buffer's init, so the key is computed with
// kUnrecordedInputs: such a row answers any request whose kernel (without its space), sizes,
// device and toolchain match — the trust a version-1 store gave it through its tuning key. Its
// verification is kNotVerified when its kernel form says "verify": false, otherwise
// kVerifiedUnrecorded. A row whose kernel form cannot be read keeps a NULL measurement key: it
// stays in the store (history, counts, replay by tuning key) and never answers a request.
#include "engine/common/result.hpp"
#include "store/sqlite_handle.hpp"

namespace ktune::store {

// Runs inside the migration's transaction.
Status migrate_measurement_keys(const Database& db);

}  // namespace ktune::store
