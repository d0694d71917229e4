#include "engine/compile_service.hpp"

#include <algorithm>

#include "engine/model/instantiate.hpp"
#include "store/store_path.hpp"
#include "workers/compile_pool.hpp"
#include "workers/cubin_cache.hpp"

namespace ktune {

struct CompileService::Parts {
  // Declared before the pool: the pool holds a pointer to the cache, so the cache goes last.
  std::unique_ptr<workers::CubinCache> cache;
  std::unique_ptr<workers::CompilePool> pool;
  std::chrono::milliseconds startup_timeout{0};
};

Result<std::unique_ptr<CompileService>> CompileService::create(const CompileServiceOptions& options) {
  auto parts = std::make_unique<Parts>();
  workers::CompilePoolOptions pool_options;
  pool_options.workers = options.workers;
  pool_options.worker_path = options.worker_executable;
  pool_options.job_timeout = options.job_timeout;
  pool_options.idle_timeout = options.worker_idle_timeout;
  pool_options.startup_timeout = std::min(options.startup_timeout, options.job_timeout);
  if (options.use_cubin_cache) {
    std::filesystem::path dir = options.cubin_cache_dir;
    if (dir.empty()) {
      auto cache_dir = find_cache_dir();  // never a shared folder: another account's cubins would be loaded
      if (!cache_dir) return cache_dir.error();
      dir = *cache_dir / "cubins";
    }
    auto opened = workers::CubinCache::open({dir});
    if (!opened) return opened.error();
    parts->cache = std::move(*opened);
    pool_options.cache = parts->cache.get();
  }
  if (options.use_pch) {
    pool_options.pch_dir = options.pch_dir;
    if (pool_options.pch_dir.empty())
      if (auto cache_dir = find_cache_dir()) pool_options.pch_dir = *cache_dir / "pch";  // none: compiles without
  }
  auto created = workers::CompilePool::create(pool_options);
  if (!created) return created.error();
  parts->pool = std::move(*created);
  parts->startup_timeout = pool_options.startup_timeout;
  return std::unique_ptr<CompileService>(new CompileService(std::move(parts)));
}

CompileService::CompileService(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
CompileService::~CompileService() = default;

void CompileService::compile(const KernelSpec& spec, const Config& config, const std::string& arch, bool use_nvrtc_cache,
                             std::function<void(CompileOutcome)> on_done) {
  parts_->pool->submit(make_compile_job(spec, config, arch, use_nvrtc_cache),
                       [on_done = std::move(on_done)](workers::CompileResult r) {
                         CompileOutcome outcome;
                         outcome.ok = r.ok();
                         outcome.status = workers::compile_status_name(r.status);
                         outcome.log = std::move(r.log);
                         outcome.compile_seconds = r.compile_seconds;
                         outcome.from_cache = r.from_cache;
                         on_done(std::move(outcome));
                       });
}

void CompileService::warm() { parts_->pool->warm(); }
Status CompileService::wait_ready() {
  // Workers start in parallel; the margin covers spawning them on a loaded machine.
  return parts_->pool->wait_ready(parts_->startup_timeout + std::chrono::seconds(10));
}
void CompileService::shutdown() { parts_->pool->shutdown(); }
std::size_t CompileService::workers() const noexcept { return parts_->pool->size(); }
const std::string& CompileService::nvrtc_version() const noexcept { return parts_->pool->nvrtc_version(); }
bool CompileService::caches_cubins() const noexcept { return parts_->cache != nullptr; }
workers::CompilePool& CompileService::pool() noexcept { return *parts_->pool; }
std::size_t CompileService::default_worker_count() { return workers::default_worker_count(); }

}  // namespace ktune
