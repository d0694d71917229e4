#include "engine/store_file.hpp"

namespace ktune {

Result<StoreFile> StoreFile::open(const std::filesystem::path& path) {
  auto opened = store::Store::open(path);
  if (!opened) return opened.error();
  return StoreFile(std::make_unique<store::Store>(std::move(*opened)));
}

const std::filesystem::path& StoreFile::path() const noexcept { return store_->path(); }
Result<StoreStats> StoreFile::stats() { return store_->stats(); }
Result<std::vector<KernelRecord>> StoreFile::kernels() { return store_->kernels(); }
Result<TableDocument> StoreFile::export_table(const ExportFilter& filter) { return store_->export_table(filter); }
Result<ImportSummary> StoreFile::import_table(const TableDocument& table, const ImportOptions& options) {
  return store_->import_table(table, options);
}

}  // namespace ktune
