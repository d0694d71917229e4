#include "engine/measurement_ledger.hpp"

namespace ktune {

Result<MeasurementLedger> MeasurementLedger::open(const TuningQuestion& question, store::Store* store) {
  MeasurementLedger ledger(store, question.tuning_record());
  if (!store) return ledger;
  if (auto ok = store->put_kernel(question.kernel_record()); !ok) return ok.error();
  if (auto previous = store->measurements_for(ledger.tuning_.tuning_key); previous)
    for (auto& m : *previous) ledger.known_.insert_or_assign(m.config, std::move(m));
  return ledger;
}

const store::Measurement* MeasurementLedger::find(const Config& config) const {
  auto it = known_.find(config);
  return it == known_.end() ? nullptr : &it->second;
}

void MeasurementLedger::record(store::Measurement measurement) {
  known_.insert_or_assign(measurement.config, measurement);
  if (!store_) return;
  unsaved_.push_back(std::move(measurement));
  retry_unsaved();
}

void MeasurementLedger::retry_unsaved() {
  if (!store_ || unsaved_.empty()) return;
  if (auto ok = store_->record_measurements({tuning_, unsaved_}); !ok) {
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
