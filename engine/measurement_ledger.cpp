#include "engine/measurement_ledger.hpp"

namespace ktune {

Result<MeasurementLedger> MeasurementLedger::open(const TuningQuestion& question, store::Store* store) {
  MeasurementLedger ledger(store, question.tuning_record(), question.measurement_key(), question.verification());
  if (!store) return ledger;
  if (auto ok = store->put_kernel(question.kernel_record()); !ok) return ok.error();
  // Rows migrated from a schema-1 store first, so a newer measurement of a configuration wins.
  for (const std::string& key : {question.unrecorded_inputs_measurement_key(), ledger.measurement_key_}) {
    auto previous = store->measurements_of(key);
    if (!previous) continue;  // unreadable history is measured again, as before
    for (auto& m : *previous)
      if (answers(m, ledger.verification_)) ledger.known_.insert_or_assign(m.config, std::move(m));
  }
  return ledger;
}

bool MeasurementLedger::answers(const store::Measurement& stored, std::string_view wanted) {
  if (wanted == store::kNotVerified) return true;
  if (stored.status == MeasurementStatus::compile_error || stored.status == MeasurementStatus::invalid_config)
    return true;
  return stored.verification == wanted || stored.verification == store::kVerifiedUnrecorded;
}

const store::Measurement* MeasurementLedger::find(const Config& config) const {
  auto it = known_.find(config);
  return it == known_.end() ? nullptr : &it->second;
}

void MeasurementLedger::record(store::Measurement measurement) {
  measurement.verification = verification_;
  known_.insert_or_assign(measurement.config, measurement);
  if (!store_) return;
  unsaved_.push_back(std::move(measurement));
  retry_unsaved();
}

void MeasurementLedger::retry_unsaved() {
  if (!store_ || unsaved_.empty()) return;
  if (auto ok = store_->record_measurements({tuning_, unsaved_, measurement_key_}); !ok) {
    last_write_error_ = ok.error().message;
    return;
  }
  unsaved_.clear();
  last_write_error_.reset();
}

Status MeasurementLedger::put_best(store::BestRecord best) {
  if (!store_) return Ok{};
  best.tuning = tuning_;
  return store_->put_best(best);
}

}  // namespace ktune
