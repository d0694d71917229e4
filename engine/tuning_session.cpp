#include "engine/tuning_session.hpp"

#include <algorithm>
#include <ctime>

#include "engine/version.hpp"

namespace ktune {

TuningSession::TuningSession(const TuningQuestion& question, const SearchSpace& space, Strategy& strategy, Evaluator& evaluator,
                             MeasurementLedger& ledger, TuneLimits limits, TuneHooks hooks)
    : question_(question),
      space_(space),
      strategy_(strategy),
      evaluator_(evaluator),
      ledger_(ledger),
      limits_(limits),
      hooks_(std::move(hooks)),
      start_(Clock::now()),
      objective_(*question.spec, question.sizes) {
  report_.strategy = strategy_.name();
  report_.objective = objective_.name();
  report_.verified_against = question_.spec->describe_reference();
  progress_.valid = space_.valid_count();
}

double TuningSession::elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

std::optional<double> TuningSession::cost(const Config& config, std::optional<double> time_ns) const {
  if (!time_ns) return std::nullopt;
  return objective_.cost(config, *time_ns);
}

void TuningSession::consider(const Config& config, std::optional<double> time_ns) {
  if (config == question_.spec->default_config && time_ns) report_.default_ns = time_ns;
  const auto c = cost(config, time_ns);
  if (c && (!best_cost_ || *c < *best_cost_)) {
    best_cost_ = c;
    progress_.best_ns = time_ns;
    progress_.best = config;
  }
}

void TuningSession::record_new(Evaluation e) {
  const auto time_ns = e.time_ns();
  ++report_.evaluated;
  ++report_.by_status[std::string(to_string(e.measurement.status))];
  report_.compile_seconds += e.measurement.compile_seconds.value_or(0);
  report_.gpu_seconds += e.gpu_seconds;
  progress_.evaluated = report_.evaluated;
  progress_.gpu_seconds = report_.gpu_seconds;
  if (auto c = cost(e.measurement.config, time_ns)) measured_now_[e.measurement.config] = *c;
  evaluated_now_.insert(e.measurement.config);
  consider(e.measurement.config, time_ns);
  ledger_.record(e.measurement);
  if (hooks_.on_evaluation) hooks_.on_evaluation(e);
}

std::vector<Config> TuningSession::answer_known(std::vector<Config> batch) {
  std::vector<Config> to_run;
  for (auto& config : batch) {
    const store::Measurement* m = ledger_.find(config);
    if (!m) {
      to_run.push_back(std::move(config));
      continue;
    }
    // Measured before (this session or an earlier one): free, and never run twice.
    std::optional<double> t;
    if (m->status == MeasurementStatus::ok && m->timing) t = m->timing->median_ns;
    strategy_.report(config, cost(config, t));
    consider(config, t);
    if (!evaluated_now_.count(config)) ++report_.from_store;
    progress_.from_store = report_.from_store;
  }
  return to_run;
}

bool TuningSession::apply_budget(std::vector<Config>& to_run) const {
  if (!limits_.max_evaluations) return false;
  const std::size_t left = limits_.max_evaluations > report_.evaluated ? limits_.max_evaluations - report_.evaluated : 0;
  if (to_run.size() < left) return false;
  to_run.resize(left);
  return true;
}

void TuningSession::remeasure_finalists() {
  std::vector<std::pair<double, Config>> ranked;
  for (const auto& [config, t] : measured_now_) ranked.emplace_back(t, config);
  std::sort(ranked.begin(), ranked.end());
  if (ranked.size() > limits_.finalists) ranked.resize(limits_.finalists);
  if (ranked.size() < 2 || ranked.front().second != progress_.best) return;
  std::vector<Config> finalists;
  for (const auto& [t, c] : ranked) finalists.push_back(c);
  std::optional<std::pair<double, Config>> winner;  // by cost
  std::optional<double> winner_ns;
  for (auto& e : evaluator_.remeasure(finalists)) {
    report_.gpu_seconds += e.gpu_seconds;
    if (auto c = cost(e.measurement.config, e.time_ns()); c && (!winner || *c < winner->first)) {
      winner = {*c, e.measurement.config};
      winner_ns = e.time_ns();
    }
    if (e.measurement.config == question_.spec->default_config && e.time_ns()) report_.default_ns = e.time_ns();
    ledger_.record(std::move(e.measurement));
  }
  if (!winner) return;
  report_.remeasured = true;
  progress_.best = winner->second;
  progress_.best_ns = winner_ns;
  best_cost_ = winner->first;
}

Status TuningSession::persist_winner() {
  ledger_.retry_unsaved();
  if (ledger_.unsaved())
    return make_error(Errc::io, "tuning finished but the store could not be written: " + ledger_.last_write_error().value_or("") +
                                    " (" + std::to_string(ledger_.unsaved()) + " measurements were not saved)");
  store::BestRecord best;
  best.config = report_.best;
  best.time_ns = report_.best_ns;
  best.default_time_ns = report_.default_ns;
  best.strategy = report_.strategy;
  best.evaluations = static_cast<std::int64_t>(report_.evaluated + report_.from_store);
  best.wall_seconds = report_.wall_seconds;
  best.tuned_at = static_cast<std::int64_t>(std::time(nullptr));
  best.ktune_version = version_string();
  if (auto ok = ledger_.put_best(std::move(best)); !ok)
    return make_error(Errc::io, "tuning finished but the store could not be written: " + ok.error().message);
  return Ok{};
}

Result<TuneReport> TuningSession::run() {
  // What the evaluator measured while it was set up (the verification reference) is this session's
  // work too: recorded like any evaluation, and its GPU time belongs to the session's wall time, or
  // the busy fraction would count it against nothing.
  for (auto& e : evaluator_.setup_evaluations()) {
    start_ -= std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(e.gpu_seconds));
    // Known from an earlier session (a resumed one): measured again, as it must be, since outputs
    // come from this GPU session, but neither stored twice nor counted as a store answer.
    if (ledger_.find(e.measurement.config)) {
      evaluated_now_.insert(e.measurement.config);
      continue;
    }
    record_new(std::move(e));
  }

  bool budget_spent = false;
  while (!budget_spent) {
    std::vector<Config> batch = strategy_.next_batch();
    if (batch.empty()) break;
    progress_.planned += batch.size();
    std::vector<Config> to_run = answer_known(std::move(batch));
    budget_spent = apply_budget(to_run);
    evaluator_.evaluate(to_run, best_cost_, [&](Evaluation e) {
      strategy_.report(e.measurement.config, cost(e.measurement.config, e.time_ns()));
      record_new(std::move(e));
      progress_.elapsed_seconds = elapsed();
      if (hooks_.on_progress) hooks_.on_progress(progress_);
    });
    ledger_.retry_unsaved();
    if (limits_.max_seconds > 0 && elapsed() >= limits_.max_seconds) budget_spent = true;
  }

  if (!progress_.best_ns) {
    std::string counts;
    for (const auto& [status, n] : report_.by_status) counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + status;
    return make_error(Errc::invalid_argument, "no configuration of " + question_.spec->name + " ran successfully (" +
                                                  (counts.empty() ? std::string("nothing evaluated") : counts) + ")");
  }
  remeasure_finalists();
  report_.best = progress_.best;
  report_.best_ns = *progress_.best_ns;
  // With verify.match the best's own reference (its combination of the matched values).
  if (!question_.spec->verify.match.empty()) report_.verified_against = question_.spec->describe_reference(&report_.best);
  if (const store::Measurement* best = ledger_.find(report_.best)) report_.best_stage_ns = best->stage_median_ns;
  report_.wall_seconds = elapsed();
  if (auto ok = persist_winner(); !ok) return ok.error();
  return report_;
}

}  // namespace ktune
