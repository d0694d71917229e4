#include "engine/store_file.hpp"

#include "engine/model/table_meaning.hpp"

#include <iterator>
#include <set>

namespace ktune {

Result<StoreFile> StoreFile::open(const std::filesystem::path& path) {
  auto opened = store::Store::open(path);
  if (!opened) return opened.error();
  return StoreFile(std::make_unique<store::Store>(std::move(*opened)));
}

Result<StoreFile> StoreFile::open_read_only(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return make_error(Errc::not_found, "no store at '" + path.string() + "' (nothing has been tuned or imported there yet)");
  store::StoreOptions options;
  options.read_only = true;
  auto opened = store::Store::open(path, options);
  if (!opened) return opened.error();
  return StoreFile(std::make_unique<store::Store>(std::move(*opened)));
}

Result<StoreFile> StoreFile::open_scratch(const std::filesystem::path& path) {
  store::StoreOptions options;
  options.durable = false;
  auto opened = store::Store::open(path, options);
  if (!opened) return opened.error();
  return StoreFile(std::make_unique<store::Store>(std::move(*opened)));
}

const std::filesystem::path& StoreFile::path() const noexcept { return store_->path(); }
Result<StoreStats> StoreFile::stats() { return store_->stats(); }
Result<std::vector<std::string>> StoreFile::check_integrity() { return store_->check_integrity(); }
Result<std::vector<KernelRecord>> StoreFile::kernels() { return store_->kernels(); }
Result<std::vector<store::Measurement>> StoreFile::measurements_for(const std::string& tuning_key) {
  return store_->measurements_for(tuning_key);
}
Result<TableDocument> StoreFile::export_table(const ExportFilter& filter) { return store_->export_table(filter); }
Result<ImportSummary> StoreFile::import_table(const TableDocument& table, const ImportOptions& options) {
  // The store checks the format; what the entries mean is checked against their kernels here,
  // before anything is written, so a poisoned table leaves the store as it was.
  if (auto ok = store::check_table(table); !ok) return ok.error();
  if (auto ok = check_table_meaning(table); !ok) return ok.error();
  return store_->import_table(table, options);
}

Result<ImportSummary> StoreFile::merge_from(const std::filesystem::path& source, const ImportOptions& options) {
  return merge_from(std::vector<std::filesystem::path>{source}, options);
}

Result<ImportSummary> StoreFile::merge_from(const std::vector<std::filesystem::path>& sources, const ImportOptions& options) {
  store::StoreRecords all;
  std::set<std::string, std::less<>> kernels;
  for (const auto& source : sources) {
    std::error_code ec;
    if (std::filesystem::equivalent(source, path(), ec))
      return make_error(Errc::invalid_argument, "'" + source.string() + "' is the store being merged into");
    auto from = open_read_only(source);
    if (!from) return from.error();
    auto records = from->store_->export_records();
    if (!records) return records.error();
    // A kernel's record is the same in every store (its key is a hash of what it is): kept once.
    for (auto& kernel : records->table.kernels)
      if (kernels.insert(kernel.kernel_key).second) all.table.kernels.push_back(std::move(kernel));
    std::move(records->table.entries.begin(), records->table.entries.end(), std::back_inserter(all.table.entries));
    std::move(records->measurements.begin(), records->measurements.end(), std::back_inserter(all.measurements));
  }
  // The checks an imported table gets (a store file crosses machines like an exported table), on
  // all the sources together: which also finds a tuning key in two of them.
  if (auto ok = store::check_table(all.table); !ok) return ok.error();
  if (auto ok = check_table_meaning(all.table); !ok) return ok.error();
  return store_->import_records(all, options);
}

Status StoreFile::extract(const std::vector<std::string>& tuning_keys, const std::filesystem::path& into) {
  auto records = store_->export_records();
  if (!records) return records.error();
  const std::set<std::string, std::less<>> wanted(tuning_keys.begin(), tuning_keys.end());
  std::erase_if(records->table.entries, [&](const BestRecord& e) { return !wanted.contains(e.tuning.tuning_key); });
  std::erase_if(records->measurements, [&](const store::MeasurementBatch& b) { return !wanted.contains(b.tuning.tuning_key); });
  std::set<std::string, std::less<>> kernels;
  for (const auto& e : records->table.entries) kernels.insert(e.tuning.kernel_key);
  for (const auto& b : records->measurements) kernels.insert(b.tuning.kernel_key);
  std::erase_if(records->table.kernels, [&](const KernelRecord& k) { return !kernels.contains(k.kernel_key); });
  auto out = store::Store::open(into);
  if (!out) return out.error();
  auto imported = out->import_records(*records);
  if (!imported) return imported.error();
  return Ok{};
}

Result<std::vector<MeasuredTarget>> StoreFile::measured_targets() { return store_->measured_targets(); }

}  // namespace ktune
