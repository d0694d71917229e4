// `ktune sweep SWEEP.json` — tune many kernels at many sizes (docs/sweep.md) on one or more GPUs:
// the options are parsed here, the runs are scheduled by the library's SweepRunner
// (engine/sweep_runner.hpp, resumable, one Engine per GPU over one store), and this file prints
// one line per run as it finishes and a summary table (or JSON) at the end.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <nlohmann/json.hpp>

#include "engine/cuda/driver_api.hpp"
#include "engine/replay.hpp"
#include "engine/sweep.hpp"
#include "engine/sweep_runner.hpp"
#include "engine/sweep_schedule.hpp"
#include "engine/store_file.hpp"
#include "tools/commands.hpp"
#include "tools/mpi/mpi_launch.hpp"
#ifdef KTUNE_HAVE_MPI
#include "tools/mpi/mpi_sweep.hpp"
#endif
#include "tools/tuning_output.hpp"
#include "tuner/search_space.hpp"

namespace ktune::cli {

namespace {

struct SweepCliOptions {
  std::string sweep, db, gpus = "all";
  std::size_t workers = 0;
  bool force = false, json = false, check = false;
  std::string replay, replay_device, shard;  // --replay RECORDED.db [--replay-device NAME], --shard K/N
  bool mpi = false;                          // --mpi, or launched by mpirun / srun
  std::string on_conflict = "keep-faster";
  double simulated_cost_ms = 0;
};

// Replaying lanes are threads over one recording, not devices: a bound against typing mistakes.
constexpr int kMaxReplayLanes = 64;

// "all", "2" (the first two) or "0,2": the GPU ordinals the sweep spreads its runs over.
std::vector<int> choose_gpus(const std::string& text, int available) {
  std::vector<int> out;
  if (text == "all") {
    for (int i = 0; i < available; ++i) out.push_back(i);
    return out;
  }
  if (text.find(',') == std::string::npos) {
    int count = 0;
    try {
      count = std::stoi(text);
    } catch (const std::exception&) {
      throw CliFailure("--gpus: expected all, a count or a list of ordinals, got '" + text + "'");
    }
    if (count < 1 || count > available)
      throw CliFailure("--gpus " + text + ": this machine has " + std::to_string(available) + " GPU(s)");
    for (int i = 0; i < count; ++i) out.push_back(i);
    return out;
  }
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    int ordinal = -1;
    try {
      ordinal = std::stoi(item);
    } catch (const std::exception&) {
      throw CliFailure("--gpus: '" + item + "' is not a GPU ordinal");
    }
    if (ordinal < 0 || ordinal >= available)
      throw CliFailure("--gpus: there is no GPU " + item + " (this machine has " + std::to_string(available) + ")");
    if (std::find(out.begin(), out.end(), ordinal) == out.end()) out.push_back(ordinal);
    start = end + 1;
  }
  return out;
}

// Errors can carry a compiler log; lines and the table want one line (the JSON keeps it whole).
std::string one_line(const std::string& text, std::size_t max_chars = std::string::npos) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > max_chars) out = out.substr(0, max_chars) + "...";
  return out;
}

// How a run ended, for its line and the table.
std::string status_text(const SweepRun& run) {
  if (!run.outcome) return "failed: " + one_line(run.error, 100);
  return run.done_earlier() ? "done earlier" : "tuned now";
}

std::string speedup_text(const TuneReport& r) {
  if (!r.default_ns || r.best_ns <= 0) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.2fx", *r.default_ns / r.best_ns);
  return text;
}

std::string seconds_text(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", s);
  return text;
}

std::string evaluated_text(const SweepRun& run) {
  if (!run.outcome || run.outcome->answered_from_lookup) return "-";
  const TuneReport& r = run.outcome->report;
  std::string text = std::to_string(r.evaluated);
  if (r.from_store) text += " + " + std::to_string(r.from_store) + " stored";  // measured by an earlier, interrupted run
  return text;
}

std::string sizes_label(const KernelSpec& spec, const Sizes& sizes) { return spec.name + "  " + format_named(sizes); }

// A plain text table: columns padded to their widest cell, numbers right-aligned, the last column
// (free text such as an error) left as is.
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                 const std::vector<bool>& right_aligned) {
  std::vector<std::size_t> width(header.size(), 0);
  for (std::size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const bool last = c + 1 == row.size();
      const std::size_t pad = width[c] - std::min(width[c], row[c].size());
      if (right_aligned[c]) line += std::string(pad, ' ') + row[c];
      else line += last ? row[c] : row[c] + std::string(pad, ' ');
      if (!last) line += "  ";
    }
    std::printf("%s\n", line.c_str());
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);
}

// --check: the plan, with the number of valid configurations of every run. No GPU, no store.
void run_check(const SweepPlan& plan, const SweepCliOptions& o) {
  nlohmann::ordered_json out;
  out["sweep"] = plan.path.string();
  out["ktune_sweep"] = plan.version;
  out["runs"] = plan.run_count();
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  std::string first_problem;
  if (!o.json)
    std::printf("sweep %s (ktune_sweep %d): %zu items, %zu runs\n", plan.path.c_str(), plan.version, plan.items.size(),
                plan.run_count());
  for (std::size_t i = 0; i < plan.items.size(); ++i) {
    const SweepItem& item = plan.items[i];
    const std::string budget = item.budget ? "budget " + std::to_string(item.budget) : "no budget";
    if (!o.json)
      std::printf("[%zu] %s (%s)  strategy %s, %s\n", i + 1, item.spec.name.c_str(), item.spec_path.c_str(),
                  item.strategy.c_str(), budget.c_str());
    nlohmann::ordered_json sets = nlohmann::ordered_json::array();
    for (std::size_t s = 0; s < item.sizes.size(); ++s) {
      const Sizes& sizes = item.sizes[s];
      const std::string field = "items[" + std::to_string(i) + "].sizes[" + std::to_string(s) + "]";
      auto space = SearchSpace::build(item.spec.space, &sizes);
      nlohmann::ordered_json set;
      for (const auto& [name, value] : sizes) set["sizes"][name] = value;
      std::string problem;
      if (!space) problem = space.error().message;
      else if (space->valid_count() == 0) problem = "no valid configuration at these sizes";
      if (!problem.empty() && first_problem.empty()) first_problem = plan.path.string() + ": " + field + ": " + problem;
      if (space) {
        set["product"] = space->product();
        set["valid"] = space->valid_count();
      }
      if (!problem.empty()) set["problem"] = problem;
      // Not a problem of the plan (tuning does not need the default), but what a lookup answers
      // before tuning, and the speed-up baseline, would not run: said, not refused.
      const auto default_problem = item.spec.why_default_invalid_at(sizes);
      if (default_problem) set["default_problem"] = *default_problem;
      sets.push_back(set);
      if (o.json) continue;
      if (default_problem)
        std::printf("      %-28s warning: the spec's default %s is not valid here: %s\n", format_named(sizes).c_str(),
                    format_named(item.spec.default_config).c_str(), default_problem->c_str());
      if (problem.empty())
        std::printf("      %-28s %llu valid configurations (of %llu)\n", format_named(sizes).c_str(),
                    static_cast<unsigned long long>(space->valid_count()), static_cast<unsigned long long>(space->product()));
      else
        std::printf("      %-28s %s\n", format_named(sizes).c_str(), problem.c_str());
    }
    items.push_back({{"spec", item.spec_path.string()}, {"kernel", item.spec.name}, {"strategy", item.strategy},
                     {"budget", item.budget}, {"size_sets", sets}});
  }
  out["items"] = items;
  out["ok"] = first_problem.empty();
  if (o.json) std::printf("%s\n", out.dump(2).c_str());
  else if (first_problem.empty())
    std::printf("ok    %zu runs; `ktune sweep %s` tunes them on the GPU\n", plan.run_count(), plan.path.c_str());
  if (!first_problem.empty()) throw CliFailure(first_problem);
}

void print_run_line(FILE* stream, std::size_t n, std::size_t total, const SweepRun& run) {
  const std::string label = sizes_label(*run.spec, run.sizes);
  if (!run.outcome) {
    std::fprintf(stream, "[%zu/%zu] %s  failed: %s\n", n, total, label.c_str(), one_line(run.error).c_str());
  } else {
    const TuneReport& r = run.outcome->report;
    std::string rate = throughput(*run.spec, r.best, run.sizes, r.best_ns);
    std::string speedup = speedup_text(r);
    std::fprintf(stream, "[%zu/%zu] %s  %s: %s  %s%s%s%s, %s evaluated, %s\n", n, total, label.c_str(), status_text(run).c_str(),
                 format_named(r.best).c_str(), format_time(r.best_ns).c_str(), rate.empty() ? "" : (" (" + rate + ")").c_str(),
                 speedup == "-" ? "" : ", ", speedup == "-" ? "" : (speedup + " over the default").c_str(),
                 evaluated_text(run).c_str(), seconds_text(run.wall_seconds).c_str());
  }
  std::fflush(stream);
}

nlohmann::ordered_json run_json(const SweepRun& run, const std::filesystem::path& store) {
  nlohmann::ordered_json out;
  out["item"] = run.item;
  if (run.outcome) {
    out = outcome_json(*run.spec, run.sizes, *run.outcome, store);
    out["item"] = run.item;
    out["status"] = run.outcome->answered_from_lookup ? "done_earlier" : "tuned_now";
  } else {
    out["kernel"] = run.spec->name;
    nlohmann::ordered_json sizes = nlohmann::ordered_json::object();
    for (const auto& [name, value] : run.sizes) sizes[name] = value;
    out["sizes"] = sizes;
    out["status"] = "failed";
    out["error"] = run.error;
  }
  out["sweep_wall_seconds"] = run.wall_seconds;
  out["lane"] = run.lane;  // the GPU's place in --gpus, or under MPI the rank that tuned it
  return out;
}

// The summary (a table, or the JSON document) of a finished sweep; exit status 1 when a run failed.
void report_sweep(const SweepPlan& plan, const SweepCliOptions& o, const std::optional<SweepShard>& shard, const SweepResult& result,
                  const std::vector<int>& gpus, const std::vector<DeviceSignature>& devices,
                  const std::filesystem::path& store_path) {
  const std::size_t total = result.runs.size();
  const std::vector<SweepRun>& runs = result.runs;
  const SweepTotals& totals = result.totals;

  if (o.json) {
    nlohmann::ordered_json out;
    out["sweep"] = plan.path.string();
    if (shard) out["shard"] = {{"index", shard->index + 1}, {"count", shard->count}, {"plan_runs", plan.run_count()}};
    if (!o.replay.empty()) out["replay"] = o.replay;
    nlohmann::ordered_json device_list = nlohmann::ordered_json::array();
    for (std::size_t g = 0; g < devices.size(); ++g)
      device_list.push_back({{"ordinal", gpus[g]}, {"name", devices[g].name}, {"arch", devices[g].arch}});
    out["devices"] = device_list;
    out["store"] = store_path.string();
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& run : runs) list.push_back(run_json(run, store_path));
    out["runs"] = list;
    out["totals"] = {{"runs", total},
                     {"tuned_now", totals.tuned_now},
                     {"done_earlier", totals.done_earlier},
                     {"failed", totals.failed},
                     {"evaluated", totals.evaluated},
                     {"from_store", totals.from_store},
                     {"gpu_seconds", totals.gpu_seconds},
                     {"wall_seconds", totals.wall_seconds}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("\n");
    std::vector<std::vector<std::string>> rows;
    for (const auto& run : runs) {
      std::vector<std::string> row{run.spec->name, format_named(run.sizes)};
      if (run.outcome) {
        const TuneReport& r = run.outcome->report;
        row.push_back(format_named(r.best));
        row.push_back(format_time(r.best_ns));
        std::string rate = throughput(*run.spec, r.best, run.sizes, r.best_ns);
        row.push_back(rate.empty() ? "-" : rate);
        row.push_back(speedup_text(r));
      } else {
        row.insert(row.end(), {"-", "-", "-", "-"});
      }
      row.push_back(evaluated_text(run));
      row.push_back(seconds_text(run.wall_seconds));
      row.push_back(status_text(run));
      rows.push_back(std::move(row));
    }
    print_table({"kernel", "sizes", "best config", "time", "throughput", "vs default", "evaluated", "wall", "status"}, rows,
                {false, false, false, true, true, true, true, true, false});
    std::printf("\n%zu runs: %zu tuned now, %zu done earlier, %zu failed; %zu configurations evaluated (and %zu answered from "
                "earlier measurements), GPU %.1f s, %.1f s wall\n",
                total, totals.tuned_now, totals.done_earlier, totals.failed, totals.evaluated, totals.from_store,
                totals.gpu_seconds, totals.wall_seconds);
  }
  if (totals.failed)
    throw CliFailure(std::to_string(totals.failed) + " of " + std::to_string(total) + " sweep runs failed (" +
                     (o.json ? "see \"runs\"" : "see the table") + "); the others are saved, and a rerun skips them");
}


#ifdef KTUNE_HAVE_MPI
// Under mpirun (docs/sweep.md, "On a cluster"): rank 0 prints and merges; the other ranks only tune.
void run_mpi_sweep_command(const SweepPlan& plan, const SweepCliOptions& o, const std::optional<SweepShard>& shard,
                           const SweepOptions& sweep_options) {
  auto world = MpiWorld::create().value_or_throw();
  MpiSweepOptions options;
  options.lanes = sweep_options;
  options.force = o.force;
  options.on_conflict = *parse_conflict_policy(o.on_conflict);
  if (shard) {
    options.runs = shard_runs(estimate_run_costs(plan), *shard);
  } else {
    for (std::size_t r = 0; r < plan.run_count(); ++r) options.runs.push_back(r);
  }
  FILE* lines = o.json ? stderr : stdout;
  std::vector<DeviceSignature> devices;
  std::filesystem::path db;
  options.on_ready = [&](const SweepRunner& lane, const std::filesystem::path& store) {
    devices = lane.devices();
    db = store;
    if (o.json) return;
    std::printf("sweep %s: %zu runs (%zu items) on %d MPI ranks (rank 0: %s %s%s), store %s\n", plan.path.c_str(),
                options.runs.size(), plan.items.size(), world->size(), devices.front().name.c_str(), devices.front().arch.c_str(),
                o.replay.empty() ? "" : (" replayed from " + o.replay).c_str(), store.c_str());
    std::fflush(stdout);
  };
  options.on_run_done = [&](const SweepRun& run, std::size_t finished, std::size_t total) {
    print_run_line(lines, finished, total, run);
  };
  const auto result = run_mpi_sweep(*world, plan, options);
  if (!result) return;  // not rank 0: its runs are in rank 0's summary
  std::vector<int> ranks;
  for (const auto& device : devices) ranks.push_back(static_cast<int>(&device - devices.data()));
  report_sweep(plan, o, shard, *result, ranks, devices, db);
}
#endif

void run_sweep(const SweepCliOptions& o) {
  // The whole file is validated first: a mistake in the last item is reported before anything runs
  // (and on a machine without a GPU).
  SweepPlan plan = load_sweep(o.sweep).value_or_throw();
  if (o.check) {
    run_check(plan, o);
    return;
  }

  // Checked before anything starts: a bad share is a mistake in the job script.
  std::optional<SweepShard> shard;
  if (!o.shard.empty()) shard = parse_shard(o.shard).value_or_throw();
  if (o.simulated_cost_ms < 0) throw CliFailure("--simulated-cost must be at least 0 ms");
  if (o.replay.empty() && (o.simulated_cost_ms > 0 || !o.replay_device.empty()))
    throw CliFailure(std::string(o.simulated_cost_ms > 0 ? "--simulated-cost" : "--replay-device") +
                     " needs --replay RECORDED.db (it describes replayed runs)");

  auto no_gpu = [](const Error& error) {
    return CliFailure("no GPU to tune on (" + error.message +
                          "); `ktune compile SPEC` compiles the space without one, `ktune replay` runs strategies "
                          "on recorded measurements, `ktune sweep --check` validates a sweep",
                      3);
  };
  SweepOptions sweep_options;
  if (!o.replay.empty()) {
    // Replaying lanes stand in for GPUs: --gpus N makes N of them; "all" is one.
    auto recording = recording_at(o.replay, o.replay_device);
    if (!recording) throw CliFailure("--replay: " + recording.error().message);
    recording->simulated_cost = std::chrono::microseconds(static_cast<std::int64_t>(o.simulated_cost_ms * 1000));
    sweep_options.replay = std::move(*recording);
    sweep_options.gpus = o.gpus == "all" ? std::vector<int>{0} : choose_gpus(o.gpus, kMaxReplayLanes);
  } else {
    auto available = cuda::list_devices();
    if (!available) {
      if (available.error().code == Errc::no_gpu) throw no_gpu(available.error());
      throw KtuneError(available.error());
    }
    sweep_options.gpus = choose_gpus(o.gpus, static_cast<int>(available->size()));
  }
  sweep_options.store_path = o.db;
  sweep_options.workers = o.workers;
  const bool under_mpi = o.mpi || mpi_launch_size() > 1;
  if (!under_mpi && o.on_conflict != "keep-faster")
    throw CliFailure("--on-conflict applies under MPI (rank 0 merging the ranks' runs into --db); for shards, `ktune merge` takes it");
  if (under_mpi) {
#ifdef KTUNE_HAVE_MPI
    return run_mpi_sweep_command(plan, o, shard, sweep_options);
#else
    throw CliFailure("launched as one of " + std::to_string(mpi_launch_size()) +
                     " MPI ranks (or --mpi), but this ktune was built without MPI (install libopenmpi-dev and rebuild: "
                     "tools/install-deps.sh); `ktune sweep --shard K/N` spreads a sweep without it");
#endif
  }
  auto runner = SweepRunner::create(sweep_options);
  if (!runner) {
    if (runner.error().code == Errc::no_gpu) throw no_gpu(runner.error());
    throw KtuneError(runner.error());
  }
  const std::vector<int>& gpus = sweep_options.gpus;
  const std::vector<DeviceSignature>& devices = (*runner)->devices();
  const std::filesystem::path& store_path = (*runner)->store_path();

  SweepRunOptions run_options;
  run_options.force = o.force;
  std::string shard_text;
  if (shard) {
    run_options.runs = shard_runs(estimate_run_costs(plan), *shard);
    shard_text = "shard " + o.shard + " (" + std::to_string(run_options.runs->size()) + " of " +
                 std::to_string(plan.run_count()) + " runs)";
  }
  const std::size_t total = run_options.runs ? run_options.runs->size() : plan.run_count();
  FILE* lines = o.json ? stderr : stdout;  // with --json, stdout holds only the JSON document
  std::string device_text;
  for (std::size_t g = 0; g < devices.size(); ++g)
    device_text += (g ? ", " : "") + std::string(o.replay.empty() ? "GPU " : "lane ") + std::to_string(gpus[g]) + " " + devices[g].name;
  if (!o.replay.empty()) device_text += " replayed from " + o.replay;
  if (!o.json)
    std::printf("sweep %s: %s (%zu items) on %s (%s), store %s\n", plan.path.c_str(),
                shard ? shard_text.c_str() : (std::to_string(total) + " runs").c_str(), plan.items.size(), device_text.c_str(),
                devices.front().arch.c_str(), store_path.c_str());
  std::fflush(stdout);

  // A progress bar only makes sense for one run at a time: one printer per GPU, quiet with several.
  const bool one_gpu = devices.size() == 1;
  std::vector<ProgressPrinter> printers(devices.size(), ProgressPrinter(false, true));
  run_options.on_run_start = [&](const SweepRun& run) {
    printers[run.lane] = ProgressPrinter(one_gpu && !o.json && isatty(STDERR_FILENO), o.json || !one_gpu);
  };
  run_options.on_progress = [&](const SweepRun& run, const TuneProgress& p) {
    printers[run.lane].update(p, run.strategy == "exhaustive");
  };
  run_options.on_run_done = [&](const SweepRun& run, std::size_t finished, std::size_t runs) {
    printers[run.lane].finish();
    print_run_line(lines, finished, runs, run);
  };
  const SweepResult result = (*runner)->run(plan, run_options);
  report_sweep(plan, o, shard, result, gpus, devices, store_path);
}

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto o = std::make_shared<SweepCliOptions>();
  auto* cmd = app.add_subcommand("sweep", "Tune many kernels at many sizes from a sweep file (resumable; docs/sweep.md)");
  cmd->add_option("sweep", o->sweep, "Sweep file (JSON, \"ktune_sweep\": 1)")->required();
  cmd->add_option("--db", o->db, "Store file (default: $KTUNE_DB or ~/.cache/ktune/ktune.db)");
  cmd->add_option("--workers", o->workers, "Compile workers (default: min(cores, 32))");
  cmd->add_option("--gpus", o->gpus, "GPUs to spread the runs over: all, a count, or ordinals like 0,2")
      ->capture_default_str();
  cmd->add_flag("--force", o->force, "Tune every run again, even those the lookup table already answers");
  cmd->add_flag("--json", o->json, "Machine-readable output (per-run lines go to stderr)");
  cmd->add_flag("--check", o->check, "Only validate the sweep and print the plan (no GPU needed)");
  cmd->add_option("--shard", o->shard,
                  "Tune only share K of N (1 <= K <= N), e.g. --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT; "
                  "the same files give every task the same shares; merge the stores with `ktune merge`");
  cmd->add_option("--replay", o->replay,
                  "Answer every evaluation from this recording (a store of earlier measurements) instead of a GPU; "
                  "--gpus N makes N replaying lanes");
  cmd->add_flag("--mpi", o->mpi,
                "Run as one rank of an MPI job (implied when launched by mpirun or srun with several ranks): rank 0 hands "
                "out runs and merges every rank's records into --db");
  cmd->add_option("--on-conflict", o->on_conflict,
                  "Under MPI: when DB already holds a different entry for a run: keep-faster (default), keep-newer, replace, "
                  "fail (as ktune import)")
      ->check(CLI::IsMember({"keep-faster", "keep-newer", "replace", "fail"}));
  cmd->add_option("--replay-device", o->replay_device, "The recorded device to replay, where the recording holds several");
  cmd->add_option("--simulated-cost", o->simulated_cost_ms,
                  "With --replay: each evaluated configuration first waits this many milliseconds (what a GPU would spend)");
  cmd->callback([o] { run_sweep(*o); });
}

}  // namespace ktune::cli
