#pragma once
// Everything known about one tuning question's configurations, and the promise behind resuming:
// every finished measurement is committed, in its own small transaction, before anyone hears of it
// (strategy, hooks, progress). A session killed at any moment has in the store every evaluation it
// finished, and a rerun answers all of them from there. A write that fails (a full disk) keeps its
// rows and retries them with the next commit, so a disk that frees up in time loses nothing, and
// one that does not is reported when the session ends.
//
// Cost: one WAL commit (synchronous=FULL: an fsync) took 0.16-0.2 ms on the H100 machine's disk
// (1 ms on a slow VM disk), against ~16 ms of GPU time per evaluation of the example SGEMM at 1024^3
// (store/bench/bench_store_commit.cpp).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/common/result.hpp"
#include "engine/model/tuning_question.hpp"
#include "store/store.hpp"

namespace ktune {

// What is known is found by the question's measurement key (engine/model/key.hpp), not its tuning
// key: a question over another space of the same kernel (one more value in a list) re-uses every
// measurement of the configurations both spaces hold. A stored measurement answers only if its
// verification suits the question (answers()).
class MeasurementLedger {
 public:
  // Reads what the store already knows about the question. Without a store (replay) the ledger
  // only remembers this session's results.
  static Result<MeasurementLedger> open(const TuningQuestion& question, store::Store* store);

  const store::Measurement* find(const Config& config) const;
  // Remembers and commits; a failed commit is kept for the next one (see unsaved()).
  void record(store::Measurement measurement);
  // Commits what an earlier failure left unsaved.
  void retry_unsaved();
  std::size_t unsaved() const noexcept { return unsaved_.size(); }
  // Why the latest commit failed, while something is unsaved.
  const std::optional<std::string>& last_write_error() const noexcept { return last_write_error_; }
  // The lookup table's row for this question; the tuning record is filled in here.
  Status put_best(store::BestRecord best);

  // Whether a stored measurement may answer a question whose verification is `wanted`
  // (store::Measurement::verification). A question without verification takes any: verifying
  // only adds knowledge (a wrong_result is a wrong kernel either way). One with verification takes
  // a measurement verified against the same reference with the same tolerances, a schema-1 row
  // that was verified (the trust the old store gave it), or a configuration that never ran
  // (compile_error, invalid_config: no output to check).
  static bool answers(const store::Measurement& stored, std::string_view wanted);

 private:
  MeasurementLedger(store::Store* store, store::TuningRecord tuning, std::string measurement_key,
                    std::string verification)
      : store_(store),
        tuning_(std::move(tuning)),
        measurement_key_(std::move(measurement_key)),
        verification_(std::move(verification)) {}

  store::Store* store_ = nullptr;
  store::TuningRecord tuning_;
  std::string measurement_key_;
  std::string verification_;  // stamped on every measurement this ledger records
  std::map<Config, store::Measurement> known_;
  std::vector<store::Measurement> unsaved_;
  std::optional<std::string> last_write_error_;
};

}  // namespace ktune
