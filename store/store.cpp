#include "store/store.hpp"

#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include "store/lookup_tier.hpp"
#include "store/schema.hpp"
#include "store/sqlite_handle.hpp"
#include "store/store_integrity.hpp"

namespace ktune::store {

namespace {

// Ends a read transaction (BEGIN ... reads) however the function leaves: a read has nothing to
// roll back, so COMMIT either way.
struct EndRead {
  const Database& db;
  ~EndRead() { (void)db.exec("COMMIT"); }
};

// The columns every best-entry query selects, in the order read_best() reads them.
#define KTUNE_BEST_COLUMNS                                                                             \
  "t.tuning_key, t.kernel_key, t.sizes, t.device, t.arch, t.toolchain, b.config, b.time_ns, "          \
  "b.default_time_ns, b.strategy, b.evaluations, b.wall_seconds, b.tuned_at, b.ktune_version"

// The columns every measurement query selects, in the order read_measurement() reads them.
#define KTUNE_MEASUREMENT_COLUMNS_OF(t)                                                                   \
  t "config, " t "status, " t "median_ns, " t "min_ns, " t "mean_ns, " t "stddev_ns, " t "samples, " t "timer, " \
  t "registers, " t "shared_bytes, " t "compile_seconds, " t "message, " t "measured_at, " t "ktune_version, "   \
  t "verification, " t "stage_median_ns"
#define KTUNE_MEASUREMENT_COLUMNS KTUNE_MEASUREMENT_COLUMNS_OF("")

// A pipeline's kernel times as stored: a JSON array of numbers ("[1200.5,830]").
std::string stage_times_text(const std::vector<double>& times) {
  return nlohmann::json(times).dump();
}

Result<std::vector<double>> stage_times_from_text(const std::string& text) {
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_array()) return make_error(Errc::corrupt, "stage_median_ns is not a JSON array: '" + text + "'");
  std::vector<double> times;
  for (const auto& t : parsed) {
    if (!t.is_number()) return make_error(Errc::corrupt, "stage_median_ns holds a non-number: '" + text + "'");
    times.push_back(t.get<double>());
  }
  return times;
}

// The columns of KTUNE_MEASUREMENT_COLUMNS, from column `c` on.
Result<Measurement> read_measurement(const Statement& s, int c = 0) {
  Measurement m;
  KTUNE_ASSIGN_OR_RETURN(m.config, named_from_text(s.column_text(c + 0)));
  auto status = parse_measurement_status(s.column_text(c + 1));
  if (!status) return make_error(Errc::corrupt, "unknown measurement status '" + s.column_text(c + 1) + "'");
  m.status = *status;
  if (!s.is_null(c + 2))
    m.timing = TimingStats{s.column_double(c + 2), s.column_double(c + 3), s.column_double(c + 4),
                           s.column_double(c + 5), s.column_int(c + 6),    s.column_text(c + 7)};
  m.registers = s.column_opt_int(c + 8);
  m.shared_bytes = s.column_opt_int(c + 9);
  m.compile_seconds = s.column_opt_double(c + 10);
  m.message = s.column_text(c + 11);
  m.measured_at = s.column_int(c + 12);
  m.ktune_version = s.column_text(c + 13);
  m.verification = s.column_text(c + 14);
  if (!s.is_null(c + 15)) KTUNE_ASSIGN_OR_RETURN(m.stage_median_ns, stage_times_from_text(s.column_text(c + 15)));
  return m;
}

Result<std::vector<Measurement>> read_measurements(Statement& s, const std::string& key) {
  StatementReset reset(s);
  KTUNE_TRY(s.bind(1, key));
  std::vector<Measurement> out;
  for (;;) {
    auto row = s.step();
    if (!row) return row.error();
    if (!*row) return out;
    auto m = read_measurement(s);
    if (!m) return m.error();
    out.push_back(std::move(*m));
  }
}

Result<BestRecord> read_best(const Statement& s) {
  BestRecord b;
  b.tuning.tuning_key = s.column_text(0);
  b.tuning.kernel_key = s.column_text(1);
  KTUNE_ASSIGN_OR_RETURN(b.tuning.sizes, named_from_text(s.column_text(2)));
  b.tuning.device = s.column_text(3);
  b.tuning.arch = s.column_text(4);
  b.tuning.toolchain = s.column_text(5);
  KTUNE_ASSIGN_OR_RETURN(b.config, named_from_text(s.column_text(6)));
  b.time_ns = s.column_double(7);
  b.default_time_ns = s.column_opt_double(8);
  b.strategy = s.column_text(9);
  b.evaluations = s.column_int(10);
  b.wall_seconds = s.column_double(11);
  b.tuned_at = s.column_int(12);
  b.ktune_version = s.column_text(13);
  return b;
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string describe(const TuningRecord& t) {
  return "(" + format_named(t.sizes) + " on " + t.device + " [" + t.arch + "], " + t.toolchain + ")";
}

}  // namespace

std::string_view to_string(ConflictPolicy policy) noexcept {
  switch (policy) {
    case ConflictPolicy::keep_faster: return "keep-faster";
    case ConflictPolicy::keep_newer: return "keep-newer";
    case ConflictPolicy::replace: return "replace";
    case ConflictPolicy::fail: return "fail";
  }
  return "unknown";
}

std::optional<ConflictPolicy> parse_conflict_policy(std::string_view text) noexcept {
  for (auto policy : {ConflictPolicy::keep_faster, ConflictPolicy::keep_newer, ConflictPolicy::replace,
                      ConflictPolicy::fail})
    if (to_string(policy) == text) return policy;
  return std::nullopt;
}

struct Store::Impl {
  std::filesystem::path path;
  StoreOptions options;
  Database db;

  // Guards the connection, its statements, data_version and every tier insert/invalidate, so an
  // answer computed from the database can never be cached after a newer invalidation.
  mutable std::mutex mutex;
  struct Statements {
    Statement insert_kernel, select_kernel, select_kernels, insert_tuning, select_tuning, insert_measurement,
        select_measurements, select_measurements_by_key, select_same_measurement, upsert_best, select_best, select_best_for_kernel, select_export, data_version, stats;
  } sql;

  LookupTier tier;
  std::atomic<std::int64_t> next_version_check_ns{0};
  std::int64_t data_version = 0;

  Status prepare_statements() {
    auto p = [&](Statement& target, const char* text) -> Status {
      auto stmt = db.prepare(text);
      if (!stmt) return stmt.error();
      target = std::move(*stmt);
      return Ok{};
    };
    KTUNE_TRY(p(sql.insert_kernel,
                "INSERT INTO kernels(kernel_key, name, kernel_json) VALUES (?1, ?2, ?3) "
                "ON CONFLICT(kernel_key) DO NOTHING"));
    KTUNE_TRY(p(sql.select_kernel, "SELECT name, kernel_json FROM kernels WHERE kernel_key = ?1"));
    KTUNE_TRY(p(sql.select_kernels, "SELECT kernel_key, name, kernel_json FROM kernels ORDER BY name, kernel_key"));
    KTUNE_TRY(p(sql.insert_tuning,
                "INSERT INTO tunings(tuning_key, kernel_key, sizes, device, arch, toolchain) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(tuning_key) DO NOTHING"));
    KTUNE_TRY(p(sql.select_tuning,
                "SELECT kernel_key, sizes, device, arch, toolchain FROM tunings WHERE tuning_key = ?1"));
    KTUNE_TRY(p(sql.insert_measurement,
                "INSERT INTO measurements(tuning_key, config, status, median_ns, min_ns, mean_ns, stddev_ns, "
                "samples, timer, registers, shared_bytes, compile_seconds, message, measured_at, ktune_version, "
                "measurement_key, verification, stage_median_ns) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"));
    KTUNE_TRY(p(sql.select_measurements, "SELECT " KTUNE_MEASUREMENT_COLUMNS " FROM measurements WHERE tuning_key = ?1 ORDER BY id"));
    KTUNE_TRY(p(sql.select_measurements_by_key,
                "SELECT " KTUNE_MEASUREMENT_COLUMNS " FROM measurements WHERE measurement_key = ?1 ORDER BY id"));
    KTUNE_TRY(p(sql.select_same_measurement,
                "SELECT 1 FROM measurements WHERE tuning_key = ?1 AND config = ?2 AND status = ?3 AND measured_at = ?4 "
                "AND median_ns IS ?5 AND message = ?6 AND verification = ?7 AND measurement_key IS ?8 "
                "AND ktune_version = ?9 LIMIT 1"));
    KTUNE_TRY(p(sql.upsert_best,
                "INSERT INTO best(tuning_key, config, time_ns, default_time_ns, strategy, evaluations, "
                "wall_seconds, tuned_at, ktune_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                "ON CONFLICT(tuning_key) DO UPDATE SET config = excluded.config, time_ns = excluded.time_ns, "
                "default_time_ns = excluded.default_time_ns, strategy = excluded.strategy, "
                "evaluations = excluded.evaluations, wall_seconds = excluded.wall_seconds, "
                "tuned_at = excluded.tuned_at, ktune_version = excluded.ktune_version"));
    KTUNE_TRY(p(sql.select_best, "SELECT " KTUNE_BEST_COLUMNS
                                 " FROM best b JOIN tunings t ON t.tuning_key = b.tuning_key"
                                 " WHERE b.tuning_key = ?1"));
    KTUNE_TRY(p(sql.select_best_for_kernel, "SELECT " KTUNE_BEST_COLUMNS
                                            " FROM tunings t JOIN best b ON b.tuning_key = t.tuning_key"
                                            " WHERE t.kernel_key = ?1"));
    KTUNE_TRY(p(sql.select_export, "SELECT " KTUNE_BEST_COLUMNS
                                   " FROM best b JOIN tunings t ON t.tuning_key = b.tuning_key"
                                   " JOIN kernels k ON k.kernel_key = t.kernel_key"
                                   " WHERE (?1 IS NULL OR k.name = ?1) AND (?2 IS NULL OR t.device = ?2)"));
    KTUNE_TRY(p(sql.data_version, "PRAGMA data_version"));
    KTUNE_TRY(p(sql.stats,
                "SELECT (SELECT count(*) FROM kernels), (SELECT count(*) FROM tunings), "
                "(SELECT count(*) FROM measurements), (SELECT count(*) FROM best)"));
    return Ok{};
  }

  // ---- everything below runs with `mutex` held ----

  Result<std::int64_t> read_data_version() {
    StatementReset reset(sql.data_version);
    auto row = sql.data_version.step();
    if (!row) return row.error();
    return sql.data_version.column_int(0);
  }

  Result<std::optional<KernelRecord>> find_kernel(const std::string& key) {
    Statement& s = sql.select_kernel;
    StatementReset reset(s);
    KTUNE_TRY(s.bind(1, key));
    auto row = s.step();
    if (!row) return row.error();
    if (!*row) return std::optional<KernelRecord>{};
    return std::optional<KernelRecord>(KernelRecord{key, s.column_text(0), s.column_text(1)});
  }

  Result<std::optional<TuningRecord>> find_tuning(const std::string& key) {
    Statement& s = sql.select_tuning;
    StatementReset reset(s);
    KTUNE_TRY(s.bind(1, key));
    auto row = s.step();
    if (!row) return row.error();
    if (!*row) return std::optional<TuningRecord>{};
    TuningRecord t;
    t.tuning_key = key;
    t.kernel_key = s.column_text(0);
    KTUNE_ASSIGN_OR_RETURN(t.sizes, named_from_text(s.column_text(1)));
    t.device = s.column_text(2);
    t.arch = s.column_text(3);
    t.toolchain = s.column_text(4);
    return std::optional<TuningRecord>(std::move(t));
  }

  Result<std::optional<BestRecord>> find_best(const std::string& key) {
    Statement& s = sql.select_best;
    StatementReset reset(s);
    KTUNE_TRY(s.bind(1, key));
    auto row = s.step();
    if (!row) return row.error();
    if (!*row) return std::optional<BestRecord>{};
    auto best = read_best(s);
    if (!best) return best.error();
    return std::optional<BestRecord>(std::move(*best));
  }

  Status check_kernel_matches(const KernelRecord& wanted, const KernelRecord& stored) {
    if (wanted == stored) return Ok{};
    return make_error(Errc::conflict, "kernel key " + wanted.kernel_key + " is already stored as '" + stored.name +
                                          "' with a different kernel_json; refusing to overwrite it");
  }

  Status insert_kernel(const KernelRecord& k) {
    Statement& s = sql.insert_kernel;
    StatementReset reset(s);
    KTUNE_TRY(s.bind(1, k.kernel_key));
    KTUNE_TRY(s.bind(2, k.name));
    KTUNE_TRY(s.bind(3, k.kernel_json));
    KTUNE_TRY(s.run());
    if (db.changes() > 0) return Ok{};
    auto stored = find_kernel(k.kernel_key);
    if (!stored) return stored.error();
    if (!*stored) return make_error(Errc::internal, "kernel " + k.kernel_key + " vanished during put_kernel");
    return check_kernel_matches(k, **stored);
  }

  Status check_tuning_matches(const TuningRecord& wanted, const TuningRecord& stored) {
    if (wanted == stored) return Ok{};
    return make_error(Errc::conflict, "tuning key " + wanted.tuning_key + " is stored for " + describe(stored) +
                                          ", not " + describe(wanted));
  }

  // Inserts the tuning row, or checks that the stored one describes the same question.
  Status ensure_tuning(const TuningRecord& t) {
    auto kernel = find_kernel(t.kernel_key);
    if (!kernel) return kernel.error();
    if (!*kernel)
      return make_error(Errc::not_found, "kernel " + t.kernel_key + " is not in the store (put_kernel first)");
    Statement& s = sql.insert_tuning;
    StatementReset reset(s);
    KTUNE_TRY(s.bind(1, t.tuning_key));
    KTUNE_TRY(s.bind(2, t.kernel_key));
    KTUNE_TRY(s.bind(3, named_to_text(t.sizes)));
    KTUNE_TRY(s.bind(4, t.device));
    KTUNE_TRY(s.bind(5, t.arch));
    KTUNE_TRY(s.bind(6, t.toolchain));
    KTUNE_TRY(s.run());
    if (db.changes() > 0) return Ok{};
    auto stored = find_tuning(t.tuning_key);
    if (!stored) return stored.error();
    if (!*stored) return make_error(Errc::internal, "tuning " + t.tuning_key + " vanished");
    return check_tuning_matches(t, **stored);
  }

  Status write_best(const BestRecord& b) {
    KTUNE_TRY(ensure_tuning(b.tuning));
    Statement& s = sql.upsert_best;
    StatementReset reset(s);
    KTUNE_TRY(s.bind(1, b.tuning.tuning_key));
    KTUNE_TRY(s.bind(2, named_to_text(b.config)));
    KTUNE_TRY(s.bind(3, b.time_ns));
    KTUNE_TRY(s.bind(4, b.default_time_ns));
    KTUNE_TRY(s.bind(5, b.strategy));
    KTUNE_TRY(s.bind(6, b.evaluations));
    KTUNE_TRY(s.bind(7, b.wall_seconds));
    KTUNE_TRY(s.bind(8, b.tuned_at));
    KTUNE_TRY(s.bind(9, b.ktune_version));
    return s.run();
  }

  // import_table's work, inside the caller's transaction (the write lock is taken before the
  // checks against the store, so nothing changes between deciding and writing).
  Result<ImportSummary> import_table_in_transaction(const LookupTable& table, const ImportOptions& import) {
    auto entry_name = [&](std::size_t i) {
      return "entries[" + std::to_string(i) + "] (tuning_key " + table.entries[i].tuning.tuning_key + ")";
    };
    ImportSummary summary;
    std::vector<const KernelRecord*> new_kernels;
    for (std::size_t i = 0; i < table.kernels.size(); ++i) {
      auto stored = find_kernel(table.kernels[i].kernel_key);
      if (!stored) return stored.error();
      if (!*stored) {
        new_kernels.push_back(&table.kernels[i]);
      } else if (auto ok = check_kernel_matches(table.kernels[i], **stored); !ok) {
        return make_error(Errc::conflict, "kernels[" + std::to_string(i) + "] (" + table.kernels[i].name +
                                              "): " + ok.error().message);
      }
    }
    std::vector<const BestRecord*> to_write;
    for (std::size_t i = 0; i < table.entries.size(); ++i) {
      const BestRecord& incoming = table.entries[i];
      auto tuning = find_tuning(incoming.tuning.tuning_key);
      if (!tuning) return tuning.error();
      if (*tuning)
        if (auto ok = check_tuning_matches(incoming.tuning, **tuning); !ok)
          return make_error(Errc::conflict, entry_name(i) + ": " + ok.error().message);
      auto stored = find_best(incoming.tuning.tuning_key);
      if (!stored) return stored.error();
      if (!*stored) {
        ++summary.entries_added;
        to_write.push_back(&incoming);
        continue;
      }
      const BestRecord& existing = **stored;
      if (existing == incoming) {
        ++summary.entries_unchanged;
        continue;
      }
      bool take = false;
      switch (import.on_conflict) {
        case ConflictPolicy::keep_faster: take = incoming.time_ns < existing.time_ns; break;
        case ConflictPolicy::keep_newer: take = incoming.tuned_at > existing.tuned_at; break;
        case ConflictPolicy::replace: take = true; break;
        case ConflictPolicy::fail:
          return make_error(Errc::conflict, entry_name(i) + " " + describe(incoming.tuning) +
                                                ": the store already holds a different entry (" +
                                                format_named(existing.config) + ", " +
                                                std::to_string(existing.time_ns) + " ns); nothing was imported");
      }
      if (take) {
        ++summary.entries_replaced;
        to_write.push_back(&incoming);
      } else {
        ++summary.entries_kept;
      }
    }

    for (const KernelRecord* k : new_kernels) KTUNE_TRY(insert_kernel(*k));
    summary.kernels_added = new_kernels.size();
    for (const BestRecord* b : to_write) KTUNE_TRY(write_best(*b));
    return summary;
  }

  // A row equal in what was measured, when and how: merged before.
  Result<bool> has_measurement(const MeasurementBatch& batch, const Measurement& m) {
    Statement& s = sql.select_same_measurement;
    StatementReset reset(s);
    KTUNE_TRY(s.bind(1, batch.tuning.tuning_key));
    KTUNE_TRY(s.bind(2, named_to_text(m.config)));
    KTUNE_TRY(s.bind(3, to_string(m.status)));
    KTUNE_TRY(s.bind(4, m.measured_at));
    KTUNE_TRY(s.bind(5, m.timing ? std::optional<double>(m.timing->median_ns) : std::nullopt));
    KTUNE_TRY(s.bind(6, m.message));
    KTUNE_TRY(s.bind(7, m.verification));
    if (!batch.measurement_key.empty()) KTUNE_TRY(s.bind(8, batch.measurement_key));
    KTUNE_TRY(s.bind(9, m.ktune_version));
    return s.step();
  }

  Status insert_measurement(const MeasurementBatch& batch, const Measurement& m) {
    Statement& s = sql.insert_measurement;
    StatementReset reset(s);
    KTUNE_TRY(s.bind(1, batch.tuning.tuning_key));
    KTUNE_TRY(s.bind(2, named_to_text(m.config)));
    KTUNE_TRY(s.bind(3, to_string(m.status)));
    if (m.timing) {
      KTUNE_TRY(s.bind(4, m.timing->median_ns));
      KTUNE_TRY(s.bind(5, m.timing->min_ns));
      KTUNE_TRY(s.bind(6, m.timing->mean_ns));
      KTUNE_TRY(s.bind(7, m.timing->stddev_ns));
      KTUNE_TRY(s.bind(8, m.timing->samples));
      KTUNE_TRY(s.bind(9, m.timing->timer));
    }  // else: bindings were cleared to NULL by the reset
    KTUNE_TRY(s.bind(10, m.registers));
    KTUNE_TRY(s.bind(11, m.shared_bytes));
    KTUNE_TRY(s.bind(12, m.compile_seconds));
    KTUNE_TRY(s.bind(13, m.message));
    KTUNE_TRY(s.bind(14, m.measured_at));
    KTUNE_TRY(s.bind(15, m.ktune_version));
    if (!batch.measurement_key.empty()) KTUNE_TRY(s.bind(16, batch.measurement_key));
    KTUNE_TRY(s.bind(17, m.verification));
    if (!m.stage_median_ns.empty()) KTUNE_TRY(s.bind(18, stage_times_text(m.stage_median_ns)));
    return s.run();
  }

  Result<LookupAnswer> answer_from_database(const LookupRequest& r, const UsableConfig& usable) {
    auto exact = find_best(r.tuning_key);
    if (!exact) return exact.error();
    if (*exact && (!usable || usable((*exact)->config))) return LookupAnswer{LookupRule::exact, std::make_shared<const BestRecord>(std::move(**exact)), 0.0};

    // Rules 2 and 3 rank the same candidates (this kernel's tuned entries) by the same order;
    // rule 2 only looks at the request's device, rule 3 at other devices of its arch.
    using Rank = std::tuple<double, bool, std::int64_t, std::string>;  // distance, other toolchain, -tuned_at, key
    std::optional<std::pair<Rank, BestRecord>> same_device, same_arch;
    Statement& s = sql.select_best_for_kernel;
    StatementReset reset(s);
    KTUNE_TRY(s.bind(1, r.kernel_key));
    for (;;) {
      auto row = s.step();
      if (!row) return row.error();
      if (!*row) break;
      auto candidate = read_best(s);
      if (!candidate) return candidate.error();
      const bool on_device = candidate->tuning.device == r.device;
      if (!on_device && (r.arch.empty() || candidate->tuning.arch != r.arch)) continue;
      const double distance = size_distance(r.sizes, candidate->tuning.sizes);
      if (distance < 0) continue;
      if (usable && !usable(candidate->config)) continue;
      Rank rank{distance, candidate->tuning.toolchain != r.toolchain, -candidate->tuned_at,
                candidate->tuning.tuning_key};
      auto& slot = on_device ? same_device : same_arch;
      if (!slot || rank < slot->first) slot.emplace(std::move(rank), std::move(*candidate));
    }
    for (auto [slot, rule] : {std::pair{&same_device, LookupRule::nearest_size}, {&same_arch, LookupRule::same_arch}})
      if (*slot)
        return LookupAnswer{rule, std::make_shared<const BestRecord>(std::move((*slot)->second)),
                            std::get<0>((*slot)->first)};
    return LookupAnswer{};
  }

  // Lets lookup() notice commits by other connections, at most once per `staleness`. Skipped
  // (not waited for) while another thread holds the database: the hot path never blocks on it.
  void notice_external_writes() {
    const std::int64_t now = steady_ns();
    if (now < next_version_check_ns.load(std::memory_order_relaxed)) return;
    std::unique_lock lock(mutex, std::try_to_lock);
    if (!lock.owns_lock()) return;
    next_version_check_ns.store(now + std::chrono::nanoseconds(options.staleness).count(), std::memory_order_relaxed);
    auto version = read_data_version();
    if (version && *version != data_version) {
      data_version = *version;
      tier.invalidate();
    }
  }
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

const std::filesystem::path& Store::path() const noexcept { return impl_->path; }

Result<Store> Store::open(const std::filesystem::path& path, StoreOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = std::move(options);
  const bool read_only = impl->options.read_only;
  if (!read_only && path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return make_error(Errc::io, "cannot create the store's folder '" + path.parent_path().string() + "': " + ec.message());
  }
  // Where nothing may be written (read-only media, a folder of another account), SQLite cannot
  // create the lock files a shared read needs; the file is opened as immutable instead.
  KTUNE_TRY(check_store_header(path));
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : ".";
  const bool immutable = read_only && (::access(path.c_str(), W_OK) != 0 || ::access(folder.c_str(), W_OK) != 0);
  auto db = Database::open(path.string(), /*create=*/!read_only, read_only, immutable);
  if (!db) return db.error();
  impl->db = std::move(*db);
  sqlite3* raw = impl->db.get();
  KTUNE_SQLITE(raw, sqlite3_busy_timeout(raw, static_cast<int>(impl->options.busy_timeout.count())));
  KTUNE_TRY(prepare_schema(impl->db, path.string(), read_only));
  KTUNE_TRY(check_root_pages(impl->db, path));
  if (read_only) {
    auto version = schema_version(impl->db);
    if (!version) return version.error();
    if (*version < kSchemaVersion) {
      auto copy = migrate_copy_in_memory(impl->db, path.string());
      if (!copy) return copy.error();
      impl->db = std::move(*copy);
    }
  }
  // Per-connection settings: enforce references, and make a committed batch durable (unless the
  // store is scratch: StoreOptions::durable).
  if (!read_only)
    KTUNE_TRY(impl->db.exec(impl->options.durable ? "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL"
                                                  : "PRAGMA foreign_keys = ON; PRAGMA synchronous = OFF"));
  KTUNE_TRY(impl->prepare_statements());
  auto version = impl->read_data_version();
  if (!version) return version.error();
  impl->data_version = *version;
  impl->next_version_check_ns = steady_ns() + std::chrono::nanoseconds(impl->options.staleness).count();
  return Store(std::move(impl));
}

Status Store::put_kernel(const KernelRecord& kernel) {
  KTUNE_TRY(validate(kernel));
  std::lock_guard lock(impl_->mutex);
  return impl_->insert_kernel(kernel);
}

Result<std::optional<KernelRecord>> Store::kernel(const std::string& kernel_key) {
  std::lock_guard lock(impl_->mutex);
  return impl_->find_kernel(kernel_key);
}

Result<std::vector<KernelRecord>> Store::kernels() {
  std::lock_guard lock(impl_->mutex);
  Statement& s = impl_->sql.select_kernels;
  StatementReset reset(s);
  std::vector<KernelRecord> out;
  for (;;) {
    auto row = s.step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back(KernelRecord{s.column_text(0), s.column_text(1), s.column_text(2)});
  }
}

Status Store::record_measurements(const MeasurementBatch& batch) {
  KTUNE_TRY(validate(batch.tuning));
  if (!batch.measurement_key.empty() && !is_key(batch.measurement_key))
    return make_error(Errc::invalid_argument, "measurement key '" + batch.measurement_key + "' is not 32 lowercase hex digits");
  for (const Measurement& m : batch.measurements) KTUNE_TRY(validate(m));
  std::lock_guard lock(impl_->mutex);
  auto txn = Transaction::begin(impl_->db);
  if (!txn) return txn.error();
  KTUNE_TRY(impl_->ensure_tuning(batch.tuning));
  for (const Measurement& m : batch.measurements) KTUNE_TRY(impl_->insert_measurement(batch, m));
  if (impl_->options.before_commit) impl_->options.before_commit();
  return txn->commit();
}

Result<std::vector<Measurement>> Store::measurements_for(const std::string& tuning_key) {
  std::lock_guard lock(impl_->mutex);
  return read_measurements(impl_->sql.select_measurements, tuning_key);
}

Result<std::vector<Measurement>> Store::measurements_of(const std::string& measurement_key) {
  std::lock_guard lock(impl_->mutex);
  return read_measurements(impl_->sql.select_measurements_by_key, measurement_key);
}

Status Store::put_best(const BestRecord& best) {
  KTUNE_TRY(validate(best));
  std::lock_guard lock(impl_->mutex);
  auto txn = Transaction::begin(impl_->db);
  if (!txn) return txn.error();
  KTUNE_TRY(impl_->write_best(best));
  KTUNE_TRY(txn->commit());
  impl_->tier.invalidate();
  return Ok{};
}

Result<std::optional<BestRecord>> Store::best(const std::string& tuning_key) {
  std::lock_guard lock(impl_->mutex);
  return impl_->find_best(tuning_key);
}

Result<LookupAnswer> Store::lookup(const LookupRequest& request, const UsableConfig& usable) {
  impl_->notice_external_writes();
  if (auto cached = impl_->tier.find(request.tuning_key)) return std::move(*cached);
  std::lock_guard lock(impl_->mutex);
  auto answer = impl_->answer_from_database(request, usable);
  if (!answer) return answer.error();
  impl_->tier.insert(request.tuning_key, *answer);
  return answer;
}

Result<LookupTable> Store::export_table(const ExportFilter& filter) {
  std::lock_guard lock(impl_->mutex);
  // One read transaction, so the entries and their kernels come from the same snapshot.
  KTUNE_TRY(impl_->db.exec("BEGIN"));
  EndRead end_read{impl_->db};
  LookupTable table;
  {
    Statement& s = impl_->sql.select_export;
    StatementReset reset(s);
    if (!filter.kernel_name.empty()) KTUNE_TRY(s.bind(1, filter.kernel_name));
    if (!filter.device.empty()) KTUNE_TRY(s.bind(2, filter.device));
    for (;;) {
      auto row = s.step();
      if (!row) return row.error();
      if (!*row) break;
      auto entry = read_best(s);
      if (!entry) return entry.error();
      table.entries.push_back(std::move(*entry));
    }
  }
  std::set<std::string, std::less<>> keys;
  for (const auto& e : table.entries) keys.insert(e.tuning.kernel_key);
  for (const auto& key : keys) {
    auto kernel = impl_->find_kernel(key);
    if (!kernel) return kernel.error();
    if (!*kernel) return make_error(Errc::corrupt, "store entry refers to missing kernel " + key);
    table.kernels.push_back(std::move(**kernel));
  }
  sort_canonical(table);
  return table;
}

Result<ImportSummary> Store::import_table(const LookupTable& table, const ImportOptions& options) {
  // Everything that can be checked without the store, first: a programmatic table gets the same
  // checks as one parsed from a file.
  if (auto ok = check_table(table); !ok) return ok.error();
  std::lock_guard lock(impl_->mutex);
  auto txn = Transaction::begin(impl_->db);
  if (!txn) return txn.error();
  auto summary = impl_->import_table_in_transaction(table, options);
  if (!summary) return summary.error();
  KTUNE_TRY(txn->commit());
  impl_->tier.invalidate();
  return summary;
}

Result<StoreRecords> Store::export_records() {
  StoreRecords records;
  {
    KTUNE_ASSIGN_OR_RETURN(records.table, export_table());
    KTUNE_ASSIGN_OR_RETURN(records.table.kernels, kernels());
  }
  std::lock_guard lock(impl_->mutex);
  // One read transaction: the tunings and their measurements from one snapshot. Kernels are
  // never deleted, so the table read above names every kernel these tunings refer to.
  KTUNE_TRY(impl_->db.exec("BEGIN"));
  EndRead end_read{impl_->db};
  auto s = impl_->db.prepare("SELECT t.tuning_key, t.kernel_key, t.sizes, t.device, t.arch, t.toolchain, "
                             "ifnull(m.measurement_key, ''), " KTUNE_MEASUREMENT_COLUMNS_OF("m.")
                             " FROM measurements m JOIN tunings t ON t.tuning_key = m.tuning_key ORDER BY m.id");
  if (!s) return s.error();
  std::map<std::pair<std::string, std::string>, std::size_t> batch_of;  // (tuning, measurement key) -> index
  for (;;) {
    auto row = s->step();
    if (!row) return row.error();
    if (!*row) break;
    const std::pair<std::string, std::string> id{s->column_text(0), s->column_text(6)};
    auto [it, added] = batch_of.try_emplace(id, records.measurements.size());
    if (added) {
      MeasurementBatch batch;
      batch.tuning.tuning_key = id.first;
      batch.tuning.kernel_key = s->column_text(1);
      KTUNE_ASSIGN_OR_RETURN(batch.tuning.sizes, named_from_text(s->column_text(2)));
      batch.tuning.device = s->column_text(3);
      batch.tuning.arch = s->column_text(4);
      batch.tuning.toolchain = s->column_text(5);
      batch.measurement_key = id.second;
      records.measurements.push_back(std::move(batch));
    }
    auto m = read_measurement(*s, 7);
    if (!m) return m.error();
    records.measurements[it->second].measurements.push_back(std::move(*m));
  }
  return records;
}

Result<ImportSummary> Store::import_records(const StoreRecords& records, const ImportOptions& options) {
  if (auto ok = check_table(records.table); !ok) return ok.error();
  std::set<std::string, std::less<>> kernel_keys;
  for (const KernelRecord& k : records.table.kernels) kernel_keys.insert(k.kernel_key);
  for (std::size_t b = 0; b < records.measurements.size(); ++b) {
    const MeasurementBatch& batch = records.measurements[b];
    const std::string where = "measurements of tuning " + batch.tuning.tuning_key;
    if (auto ok = validate(batch.tuning); !ok) return make_error(Errc::corrupt, where + ": " + ok.error().message);
    if (!kernel_keys.contains(batch.tuning.kernel_key))
      return make_error(Errc::corrupt, where + ": kernel_key " + batch.tuning.kernel_key + " is not among the kernels");
    if (!batch.measurement_key.empty() && !is_key(batch.measurement_key))
      return make_error(Errc::corrupt, where + ": measurement key '" + batch.measurement_key + "' is not 32 lowercase hex digits");
    for (const Measurement& m : batch.measurements)
      if (auto ok = validate(m); !ok) return make_error(Errc::corrupt, where + ": " + ok.error().message);
  }
  std::lock_guard lock(impl_->mutex);
  auto txn = Transaction::begin(impl_->db);
  if (!txn) return txn.error();
  auto summary = impl_->import_table_in_transaction(records.table, options);
  if (!summary) return summary.error();
  for (const MeasurementBatch& batch : records.measurements) {
    if (auto ok = impl_->ensure_tuning(batch.tuning); !ok)
      return make_error(ok.error().code, "measurements of tuning " + batch.tuning.tuning_key + ": " + ok.error().message);
    for (const Measurement& m : batch.measurements) {
      auto present = impl_->has_measurement(batch, m);
      if (!present) return present.error();
      if (*present) {
        ++summary->measurements_present;
        continue;
      }
      KTUNE_TRY(impl_->insert_measurement(batch, m));
      ++summary->measurements_added;
    }
  }
  KTUNE_TRY(txn->commit());
  impl_->tier.invalidate();
  return summary;
}

Result<std::vector<MeasuredTarget>> Store::measured_targets() {
  std::lock_guard lock(impl_->mutex);
  auto s = impl_->db.prepare("SELECT DISTINCT t.device, t.arch, t.toolchain FROM tunings t WHERE EXISTS "
                             "(SELECT 1 FROM measurements m WHERE m.tuning_key = t.tuning_key) ORDER BY 1, 2, 3");
  if (!s) return s.error();
  std::vector<MeasuredTarget> out;
  for (;;) {
    auto row = s->step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back(MeasuredTarget{s->column_text(0), s->column_text(1), s->column_text(2)});
  }
}

Result<std::vector<std::string>> Store::check_integrity() {
  std::lock_guard lock(impl_->mutex);
  return check_store_pages(impl_->db);
}

Result<StoreStats> Store::stats() {
  std::lock_guard lock(impl_->mutex);
  Statement& s = impl_->sql.stats;
  StatementReset reset(s);
  auto row = s.step();
  if (!row) return row.error();
  return StoreStats{s.column_int(0), s.column_int(1), s.column_int(2), s.column_int(3)};
}

std::size_t Store::cached_answers() const { return impl_->tier.size(); }

}  // namespace ktune::store
