#pragma once
// A store opened for what `ktune show`, `ktune export` and `ktune import` do — list the lookup
// table, write it as JSON, merge an exported table in — and for a deployment pipeline doing the
// same from code. No tuning machinery. The record and table types are the store's own, named here
// so callers need no store/ header (docs/lookup-table.md describes the JSON format).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/common/result.hpp"
#include "store/store.hpp"
#include "store/store_path.hpp"  // default_store_path, default_cache_dir
#include "store/table_format.hpp"

namespace ktune {

using store::BestRecord;
using store::ConflictPolicy;
using store::ExportFilter;
using store::ImportOptions;
using store::ImportSummary;
using store::KernelRecord;
using store::MeasuredTarget;
using store::StoreStats;
using store::format_utc;
using store::parse_conflict_policy;
using store::table_from_json;
using store::table_to_json;
using store::kTableFormatName;  // the "format" field every exported table starts with
using TableDocument = store::LookupTable;  // the exported lookup table: kernels and their best entries

class StoreFile {
 public:
  // Creates the file (and its folder) when missing, like the Engine.
  static Result<StoreFile> open(const std::filesystem::path& path);
  // For commands that only read (show, export): never creates, migrates, switches to WAL or
  // writes a byte; a store on read-only media opens as immutable. Errc::not_found when missing.
  static Result<StoreFile> open_read_only(const std::filesystem::path& path);
  // A store thrown away after use (an MPI rank's own): created like open's, its commits not synced
  // to disk (store::StoreOptions::durable).
  static Result<StoreFile> open_scratch(const std::filesystem::path& path);

  const std::filesystem::path& path() const noexcept;
  Result<StoreStats> stats();
  // The full check of every page (`ktune doctor --store`): the problems found, empty when intact.
  Result<std::vector<std::string>> check_integrity();
  Result<std::vector<KernelRecord>> kernels();
  // Every measurement a tuning recorded, in recording order (for `ktune export --format`).
  Result<std::vector<store::Measurement>> measurements_for(const std::string& tuning_key);
  // The lookup table (entries and the kernels they refer to), in canonical order.
  Result<TableDocument> export_table(const ExportFilter& filter = {});
  // All or nothing: every kernel and entry is checked — its format, and its meaning against its
  // kernel (engine/model/table_meaning.hpp) — and every conflict under `fail`, before anything is
  // written; the error names the first problem.
  Result<ImportSummary> import_table(const TableDocument& table, const ImportOptions& options = {});
  // `ktune merge`: everything the store at `source` holds — its kernels, every measurement (rows
  // already here are not added twice) and its lookup table, the table checked and its conflicts
  // settled exactly as import_table does — in one transaction: on error nothing of `source` is
  // written. `source` is opened read-only and never changed. Refuses this store's own file.
  Result<ImportSummary> merge_from(const std::filesystem::path& source, const ImportOptions& options = {});
  // merge_from for several stores at once, in one transaction: one commit (and its fsyncs) however
  // many there are — how rank 0 of an MPI sweep keeps up with the runs of many ranks. The sources
  // must not overlap: a tuning key with an entry in two of them is an error (Errc::corrupt, nothing
  // written); merge such sources one at a time, each under the conflict policy.
  Result<ImportSummary> merge_from(const std::vector<std::filesystem::path>& sources, const ImportOptions& options = {});
  // Writes what this store holds about these tuning keys — their lookup-table entries, the
  // measurements taken under them, and their kernels — into the store at `into` (created; records
  // already there are kept as merge_from keeps them). How an MPI rank sends one finished run's
  // records to rank 0, which merges them: a store file is the one format for moving records.
  Status extract(const std::vector<std::string>& tuning_keys, const std::filesystem::path& into);
  // What the store's measurements were taken on (a recording: the device to replay it as).
  Result<std::vector<MeasuredTarget>> measured_targets();

 private:
  explicit StoreFile(std::unique_ptr<store::Store> store) : store_(std::move(store)) {}
  std::unique_ptr<store::Store> store_;
};

}  // namespace ktune
