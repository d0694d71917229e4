// The store's table as JSON in and out (StoreFile, what `ktune export` / `ktune import` do) and
// sweeps (SweepRunner, what `ktune sweep` does), for Python. Sweeps release the GIL while they run;
// their callbacks run on the lanes' threads with the GIL held, like a tuning's.
#include "store_bindings.hpp"

#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/store_file.hpp"
#include "engine/sweep.hpp"
#include "engine/sweep_runner.hpp"
#include "errors.hpp"
#include "named_values.hpp"
#include "python_callback.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace ktune::python {
namespace {

std::string export_table_json(const std::filesystem::path& db, const std::string& kernel, const std::string& device) {
  StoreFile store = unwrap(StoreFile::open_read_only(db));
  ExportFilter filter;
  filter.kernel_name = kernel;
  filter.device = device;
  return table_to_json(unwrap(store.export_table(filter)));
}

nb::dict import_table_json(const std::filesystem::path& db, const std::string& text, const std::string& on_conflict) {
  std::optional<ConflictPolicy> policy = parse_conflict_policy(on_conflict);
  if (!policy)
    throw KtuneError(make_error(Errc::invalid_argument, "on_conflict must be keep-faster, keep-newer, replace or fail, not \"" +
                                                            on_conflict + "\""));
  TableDocument table = unwrap(table_from_json(text));
  StoreFile store = unwrap(StoreFile::open(db));
  ImportOptions options;
  options.on_conflict = *policy;
  ImportSummary s = unwrap(store.import_table(table, options));
  nb::dict d;
  d["kernels_added"] = s.kernels_added;
  d["entries_added"] = s.entries_added;
  d["entries_replaced"] = s.entries_replaced;
  d["entries_kept"] = s.entries_kept;
  d["entries_unchanged"] = s.entries_unchanged;
  return d;
}

nb::dict run_dict(const SweepRun& run) {
  nb::dict d;
  d["index"] = run.index;
  d["kernel"] = run.spec ? run.spec->name : std::string();
  d["sizes"] = dict_from_named(run.sizes);
  d["strategy"] = run.strategy;
  d["lane"] = run.lane;
  d["wall_seconds"] = run.wall_seconds;
  if (run.outcome) {
    d["status"] = run.done_earlier() ? "done_earlier" : "tuned";
    d["config"] = dict_from_named(run.outcome->report.best);
    d["time_ns"] = run.outcome->report.best_ns;
    d["evaluated"] = run.outcome->report.evaluated;
    d["from_store"] = run.outcome->report.from_store;
    d["device"] = run.outcome->device.name;
  } else {
    d["status"] = "failed";
    d["error"] = run.error;
  }
  return d;
}

nb::dict sweep(const std::filesystem::path& path, std::optional<std::filesystem::path> db, std::vector<int> gpus,
               std::size_t workers, std::optional<EngineOptions::Recording> replay, bool force, const nb::handle& on_run_done) {
  SweepPlan plan = unwrap(load_sweep(path));
  SweepOptions options;
  if (db) options.store_path = *db;
  options.gpus = std::move(gpus);
  options.workers = workers;
  options.replay = std::move(replay);
  auto errors = std::make_shared<CallbackErrors>();
  SweepRunOptions run_options;
  run_options.force = force;
  if (!on_run_done.is_none()) {
    PythonCallback call(on_run_done, errors);
    run_options.on_run_done = [call](const SweepRun& run, std::size_t finished, std::size_t total) {
      call.call_with([&] {
        nb::dict d = run_dict(run);
        d["finished"] = finished;
        d["total"] = total;
        return d;
      });
    };
  }
  SweepResult result;
  {
    nb::gil_scoped_release unlocked;
    auto runner = SweepRunner::create(options);
    if (!runner) {
      nb::gil_scoped_acquire locked;
      throw KtuneError(runner.error());
    }
    result = (*runner)->run(plan, run_options);
  }
  errors->rethrow();
  nb::list runs;
  for (const SweepRun& run : result.runs) runs.append(run_dict(run));
  nb::dict totals;
  totals["runs"] = result.totals.runs;
  totals["tuned_now"] = result.totals.tuned_now;
  totals["done_earlier"] = result.totals.done_earlier;
  totals["failed"] = result.totals.failed;
  totals["evaluated"] = result.totals.evaluated;
  totals["from_store"] = result.totals.from_store;
  totals["gpu_seconds"] = result.totals.gpu_seconds;
  nb::dict out;
  out["runs"] = runs;
  out["totals"] = totals;
  return out;
}

}  // namespace

void bind_store(nb::module_& m) {
  m.def("export_table", &export_table_json, "db"_a, "kernel"_a = "", "device"_a = "",
        "The store's lookup table as JSON text (docs/lookup-table.md; `ktune export`), optionally only one kernel "
        "name or device. The store is opened read-only.");
  m.def("import_table", &import_table_json, "db"_a, "text"_a, "on_conflict"_a = "keep-faster",
        "Merges an exported table (JSON text) into the store, all or nothing (`ktune import`); returns the counts. "
        "on_conflict: keep-faster, keep-newer, replace or fail.");
  m.def("sweep", &sweep, "path"_a, "db"_a = nb::none(), "gpus"_a = std::vector<int>{0}, "workers"_a = 0,
        "replay"_a = nb::none(), "force"_a = false, "on_run_done"_a = nb::none(),
        "Tunes every kernel x size set of a sweep file (docs/sweep.md; `ktune sweep`), one engine per GPU of `gpus` "
        "(or replaying a ktune.Recording); returns {\"runs\": [...], \"totals\": {...}}. on_run_done(run) is called as runs "
        "finish (the run's dict with \"finished\" and \"total\"). The GIL is released while it runs.");
}

}  // namespace ktune::python
