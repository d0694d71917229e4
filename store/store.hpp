#pragma once
// ktune's memory: one SQLite file holding kernels, every measurement, and the lookup table (the
// best configuration per tuning key), with an in-memory tier in front for microsecond lookups.
//
//   auto store = ktune::store::Store::open(ktune::default_store_path(db_option)).value_or_throw();
//   ktune::store::LookupRequest request{tuning_key.hex(), kernel_key.hex(), sizes,
//                                       device.name, device.arch, "nvrtc " + toolchain.nvrtc_version};
//   auto answer = store.lookup(request).value_or_throw();
//   switch (answer.rule) {
//     case LookupRule::exact:        // answer.entry->config was tuned for exactly this question
//     case LookupRule::nearest_size: // tuned on this device for answer.entry->tuning.sizes
//     case LookupRule::same_arch:    // tuned on answer.entry->tuning.device (same arch)
//       use(answer.entry->config); break;
//     case LookupRule::none:         // nothing stored: run the spec's default configuration
//       use(spec.default_config); break;
//   }
//
// Guarantees: WAL mode and a busy timeout, so many processes may read and write one store at
// once without "database is locked" reaching the caller; every write is one transaction
// (a batch of measurements is all there or not at all, even if the writer is killed); only
// prepared statements with bound values; synchronous=FULL. A file that is not a ktune store, or
// from a newer schema, is refused without being modified.
//
// Thread safety: every member may be called from any number of threads at once. lookup() answers
// from the in-memory tier without taking the database lock once an answer is cached.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/result.hpp"
#include "store/lookup.hpp"
#include "store/records.hpp"
#include "store/table_format.hpp"

namespace ktune::store {

// What import does when an entry's tuning key already has a different best entry in the store.
enum class ConflictPolicy : std::uint8_t {
  keep_faster,  // keep whichever has the smaller time_ns (the store's on a tie)
  keep_newer,   // keep whichever has the later tuned_at (the store's on a tie)
  replace,      // the imported entry wins
  fail,         // reject the whole import, naming the entry
};
std::string_view to_string(ConflictPolicy policy) noexcept;
std::optional<ConflictPolicy> parse_conflict_policy(std::string_view text) noexcept;  // "keep-faster", ...

struct ExportFilter {
  std::string kernel_name;  // empty: every kernel
  std::string device;       // empty: every device
};

struct ImportOptions {
  ConflictPolicy on_conflict = ConflictPolicy::keep_faster;
};

struct ImportSummary {
  std::size_t kernels_added = 0;
  std::size_t entries_added = 0;
  std::size_t entries_replaced = 0;   // conflicts the imported entry won
  std::size_t entries_kept = 0;       // conflicts the store's entry won
  std::size_t entries_unchanged = 0;  // identical entries already present
  // Store::import_records only (a table carries no measurements):
  std::size_t measurements_added = 0;
  std::size_t measurements_present = 0;  // identical rows already stored (merged before)
};

// A device, architecture and toolchain ("nvrtc 13.0") that measurements were taken on.
struct MeasuredTarget {
  std::string device, arch, toolchain;
  friend bool operator==(const MeasuredTarget&, const MeasuredTarget&) = default;
};

// Everything a store knows about tunings: what `ktune merge` moves from one store into another.
struct StoreRecords {
  // The lookup table; its kernels are every kernel the store holds, also those whose tunings have
  // measurements but no entry yet (a run killed half-way).
  LookupTable table;
  // Every measurement, one batch per (tuning, measurement key), each in the order recorded.
  std::vector<MeasurementBatch> measurements;
};

struct StoreStats {
  std::int64_t kernels = 0;
  std::int64_t tunings = 0;
  std::int64_t measurements = 0;
  std::int64_t best_entries = 0;
};

struct StoreOptions {
  bool read_only = false;
  // How long a write waits for another process's transaction before failing.
  std::chrono::milliseconds busy_timeout{60'000};
  // lookup() notices writes by other connections (PRAGMA data_version) at most this often; until
  // then it may answer from the in-memory tier. Writes through this Store are seen at once.
  std::chrono::milliseconds staleness{100};
  // false: commits are not synced to disk (SQLite's synchronous=OFF), for a scratch store that is
  // thrown away after use — an MPI rank's own store, whose records reach DB by message. A crash may
  // lose its last commits (never corrupt it: WAL), which costs nothing there; every fsync saved is
  // one less stall for the disk that DB and the other ranks on the host share.
  bool durable = true;
  // Fault injection for tests: called inside record_measurements' transaction, after every row is
  // written and before COMMIT.
  std::function<void()> before_commit;
};

class Store {
 public:
  // Creates the file (and its folder) if missing. A store of an older schema is migrated in one
  // transaction (store/schema.hpp); opened read-only, an in-memory copy of it is, and the file
  // is never written. Errors: Errc::corrupt for a file that is not a
  // ktune store, Errc::unsupported for a newer schema, Errc::io for a file that cannot be opened.
  static Result<Store> open(const std::filesystem::path& path, StoreOptions options = {});

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  const std::filesystem::path& path() const noexcept;

  // Idempotent; Errc::invalid_argument if kernel_key is not the hash of kernel_json, Errc::conflict if the key is stored with a different name or kernel_json.
  Status put_kernel(const KernelRecord& kernel);
  Result<std::optional<KernelRecord>> kernel(const std::string& kernel_key);
  Result<std::vector<KernelRecord>> kernels();

  // One transaction for the whole batch. The kernel must have been put first (Errc::not_found).
  // Errc::conflict if the tuning key is already stored with different parts.
  Status record_measurements(const MeasurementBatch& batch);
  // In the order recorded (history is kept: a re-measured configuration appears again).
  // By the question that measured them:
  Result<std::vector<Measurement>> measurements_for(const std::string& tuning_key);
  // By what they are measurements of (MeasurementBatch::measurement_key), whichever question
  // measured them: how a question finds what a question over another space already measured.
  Result<std::vector<Measurement>> measurements_of(const std::string& measurement_key);

  // Sets (or replaces) the lookup-table entry of best.tuning.tuning_key.
  Status put_best(const BestRecord& best);
  Result<std::optional<BestRecord>> best(const std::string& tuning_key);

  // The fallback chain of store/lookup.hpp. Errors only when the database fails; "nothing
  // stored" is LookupRule::none. Entries `usable` refuses are skipped, the exact one included; the
  // in-memory tier keeps answers by tuning key, so every caller asking one question must pass the
  // same judgement (the engine derives it from the spec and the sizes, which the key covers).
  Result<LookupAnswer> lookup(const LookupRequest& request, const UsableConfig& usable = {});

  // The lookup table (entries and the kernels they refer to), in canonical order.
  Result<LookupTable> export_table(const ExportFilter& filter = {});
  // Validates every kernel and entry (and every conflict under `fail`) before writing anything,
  // then writes all of it in one transaction. On error the store is unchanged.
  Result<ImportSummary> import_table(const LookupTable& table, const ImportOptions& options = {});
  // Everything, read in one snapshot.
  Result<StoreRecords> export_records();
  // import_table's checks and conflict policy for the table, and every measurement not already
  // stored (a row identical in what was measured, when and how is not added twice, so merging the
  // same records again changes nothing) — all in one transaction: on error the store is unchanged.
  Result<ImportSummary> import_records(const StoreRecords& records, const ImportOptions& options = {});

  Result<StoreStats> stats();
  // What the store's measurements were taken on (a recording's device, for replaying it), sorted.
  Result<std::vector<MeasuredTarget>> measured_targets();
  // Every page and index of the file (PRAGMA integrity_check; slow: ~1 s per 60 MB). The problems
  // found, empty when the store is intact. (Store::open checks the header cheaply on every open.)
  Result<std::vector<std::string>> check_integrity();
  std::size_t cached_answers() const;  // entries in the in-memory tier

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ktune::store
