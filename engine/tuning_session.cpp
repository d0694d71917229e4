#include "engine/tuning_session.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "engine/version.hpp"

namespace ktune {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

Result<TuneReport> run_tuning(const TuningQuestion& question, const SearchSpace& space, Strategy& strategy, Evaluator& evaluator,
                              store::Store* store, const TuneLimits& limits, const TuneHooks& hooks,
                              const std::optional<Evaluation>& preexisting, bool persist) {
  // A preexisting evaluation (the reference, measured while the evaluator was set up) belongs
  // to this session's wall time too, or the busy fraction would count it against nothing.
  const auto start = Clock::now() - std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                        preexisting ? preexisting->gpu_seconds : 0.0));
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  const store::TuningRecord tuning = question.tuning_record();
  const bool writes = persist && store != nullptr;

  if (writes)
    if (auto ok = store->put_kernel(question.kernel_record()); !ok) return ok.error();

  std::map<Config, store::Measurement> known;
  if (store)
    if (auto previous = store->measurements_for(tuning.tuning_key); previous)
      for (auto& m : *previous) known.insert_or_assign(m.config, std::move(m));

  TuneReport report;
  report.strategy = strategy.name();
  TuneProgress progress;
  progress.valid = space.valid_count();
  std::vector<store::Measurement> unsaved;
  std::map<Config, double> measured_now;  // ok results of this session, for the finalists
  std::optional<std::string> persist_error;  // why the latest write failed; cleared by a later success

  // Every finished evaluation is committed, in its own small transaction, before anyone hears of
  // it (strategy hooks, progress) and before the next one is taken. So a session killed at any
  // moment (Ctrl-C, a lost machine, the OOM killer) has in the store every evaluation it finished,
  // and the rerun answers all of them from there: nothing is evaluated twice. Only the
  // configurations in flight at the kill are lost, and they never finished. One WAL commit
  // (synchronous=FULL: an fsync) took 0.16-0.2 ms on the H100 machine's disk (1 ms on a slow VM
  // disk), on this thread while the GPU waits, against ~16 ms of GPU time per evaluation of the
  // example SGEMM at 1024^3 and ~130 ms at 4096^3 (tools/bench/bench_store_commit.cpp).
  // A write that fails (a full disk) keeps its rows in `unsaved`; they go with the next commit,
  // so a disk that frees up in time loses nothing, and one that does not is reported at the end.
  auto flush = [&] {
    if (!writes || unsaved.empty()) return;
    if (auto ok = store->record_measurements({tuning, unsaved}); !ok) {
      persist_error = ok.error().message;
      return;
    }
    unsaved.clear();
    persist_error.reset();
  };
  auto consider = [&](const Config& config, std::optional<double> time_ns) {
    if (config == question.spec->default_config && time_ns) report.default_ns = time_ns;
    if (time_ns && (!progress.best_ns || *time_ns < *progress.best_ns)) {
      progress.best_ns = time_ns;
      progress.best = config;
    }
  };
  auto record_new = [&](Evaluation e) {
    const auto time_ns = e.time_ns();
    ++report.evaluated;
    ++report.by_status[std::string(store::to_string(e.measurement.status))];
    report.compile_seconds += e.measurement.compile_seconds.value_or(0);
    report.gpu_seconds += e.gpu_seconds;
    progress.gpu_seconds = report.gpu_seconds;
    if (time_ns) measured_now[e.measurement.config] = *time_ns;
    consider(e.measurement.config, time_ns);
    known.insert_or_assign(e.measurement.config, e.measurement);
    if (writes) unsaved.push_back(e.measurement);
    flush();
    if (hooks.on_evaluation) hooks.on_evaluation(e);
  };

  if (preexisting && !known.count(preexisting->measurement.config)) record_new(*preexisting);

  bool budget_spent = false;
  while (!budget_spent) {
    std::vector<Config> batch = strategy.next_batch();
    if (batch.empty()) break;
    progress.planned += batch.size();
    std::vector<Config> to_run;
    for (auto& config : batch) {
      auto it = known.find(config);
      if (it == known.end()) {
        to_run.push_back(std::move(config));
        continue;
      }
      // Measured before (this session or an earlier one): free, and never run twice.
      const auto& m = it->second;
      std::optional<double> t;
      if (m.status == store::MeasurementStatus::ok && m.timing) t = m.timing->median_ns;
      strategy.report(config, t);
      consider(config, t);
      if (!measured_now.count(config) && !(preexisting && preexisting->measurement.config == config)) ++report.from_store;
      ++progress.evaluated;
    }
    if (limits.max_evaluations) {
      const std::size_t left = limits.max_evaluations > report.evaluated ? limits.max_evaluations - report.evaluated : 0;
      if (to_run.size() >= left) {
        to_run.resize(left);
        budget_spent = true;
      }
    }
    evaluator.evaluate(to_run, progress.best_ns, [&](Evaluation e) {
      strategy.report(e.measurement.config, e.time_ns());
      record_new(std::move(e));
      ++progress.evaluated;
      progress.elapsed_seconds = elapsed();
      if (hooks.on_progress) hooks.on_progress(progress);
    });
    flush();
    if (limits.max_seconds > 0 && elapsed() >= limits.max_seconds) budget_spent = true;
  }

  if (!progress.best_ns) {
    std::string counts;
    for (const auto& [status, n] : report.by_status) counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + status;
    return make_error(Errc::invalid_argument, "no configuration of " + question.spec->name + " ran successfully (" +
                                                  (counts.empty() ? std::string("nothing evaluated") : counts) + ")");
  }

  // Finalists side by side, so a drift in clocks during the search cannot pick the winner.
  std::vector<std::pair<double, Config>> ranked;
  for (const auto& [config, t] : measured_now) ranked.emplace_back(t, config);
  std::sort(ranked.begin(), ranked.end());
  if (ranked.size() > limits.finalists) ranked.resize(limits.finalists);
  if (ranked.size() >= 2 && ranked.front().second == progress.best) {
    std::vector<Config> finalists;
    for (const auto& [t, c] : ranked) finalists.push_back(c);
    auto again = evaluator.remeasure(finalists);
    std::optional<std::pair<double, Config>> winner;
    for (auto& e : again) {
      report.gpu_seconds += e.gpu_seconds;
      if (auto t = e.time_ns(); t && (!winner || *t < winner->first)) winner = {*t, e.measurement.config};
      if (e.measurement.config == question.spec->default_config && e.time_ns()) report.default_ns = e.time_ns();
      if (writes) unsaved.push_back(std::move(e.measurement));
    }
    flush();
    if (winner) {
      report.remeasured = true;
      progress.best = winner->second;
      progress.best_ns = winner->first;
    }
  }

  report.best = progress.best;
  report.best_ns = *progress.best_ns;
  report.wall_seconds = elapsed();
  flush();
  if (!unsaved.empty())
    return make_error(Errc::io, "tuning finished but the store could not be written: " + persist_error.value_or("") + " (" +
                                    std::to_string(unsaved.size()) + " measurements were not saved)");
  if (writes) {
    store::BestRecord best;
    best.tuning = tuning;
    best.config = report.best;
    best.time_ns = report.best_ns;
    best.default_time_ns = report.default_ns;
    best.strategy = report.strategy;
    best.evaluations = static_cast<std::int64_t>(report.evaluated + report.from_store);
    best.wall_seconds = report.wall_seconds;
    best.tuned_at = static_cast<std::int64_t>(std::time(nullptr));
    best.ktune_version = version_string();
    if (auto ok = store->put_best(best); !ok)
      return make_error(Errc::io, "tuning finished but the store could not be written: " + ok.error().message);
  }
  return report;
}

}  // namespace ktune
