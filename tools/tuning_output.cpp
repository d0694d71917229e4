#include "tools/tuning_output.hpp"

#include <cstdio>

#include "engine/model/objective.hpp"
#include "engine/runner/launch_plan.hpp"

namespace ktune::cli {

nlohmann::ordered_json config_json(const Config& config, const ParamSpace* space) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [k, v] : config) {
    const int p = space ? space->param_index(k) : -1;
    const std::string* choice = p < 0 ? nullptr : space->params[static_cast<std::size_t>(p)].choice_of(v);
    if (choice) out[k] = *choice;  // named choices as their strings
    else out[k] = v;
  }
  return out;
}

namespace {

std::optional<double> metric(const std::optional<Expr>& expr, const KernelSpec& spec, const Config& config, const Sizes& sizes) {
  if (!expr) return std::nullopt;
  auto slots = spec.slots(config, sizes);
  if (!slots) return std::nullopt;
  auto r = expr->evaluate(*slots);
  if (!r.ok()) return std::nullopt;
  return static_cast<double>(r.value);
}
}  // namespace

std::string format_time(double ns) {
  char text[32];
  if (ns >= 1e9) std::snprintf(text, sizeof text, "%.3g s", ns / 1e9);
  else if (ns >= 1e6) std::snprintf(text, sizeof text, "%.3g ms", ns / 1e6);
  else if (ns >= 1e3) std::snprintf(text, sizeof text, "%.3g us", ns / 1e3);
  else std::snprintf(text, sizeof text, "%.0f ns", ns);
  return text;
}

std::string throughput(const KernelSpec& spec, const Config& config, const Sizes& sizes, double ns) {
  char text[48];
  if (auto flops = metric(spec.flops, spec, config, sizes); flops && ns > 0) {
    std::snprintf(text, sizeof text, "%.1f TFLOP/s", *flops / ns / 1e3);
    return text;
  }
  if (auto bytes = metric(spec.bytes, spec, config, sizes); bytes && ns > 0) {
    std::snprintf(text, sizeof text, "%.0f GB/s", *bytes / ns);
    return text;
  }
  return "";
}

namespace {

// A pipeline's kernel times, named by entry.
std::string stage_times_text(const KernelSpec& spec, const std::vector<double>& stage_ns) {
  std::string out = "kernels:";
  for (std::size_t i = 0; i < stage_ns.size(); ++i)
    out += (i ? ", " : " ") + (i < spec.pipeline.size() ? spec.pipeline[i].entry : "kernel " + std::to_string(i + 1)) + " " +
           format_time(stage_ns[i]);
  return out + " (medians; the pipeline's time runs from the first kernel's start to the last one's end)";
}

nlohmann::ordered_json stage_times_json(const KernelSpec& spec, const std::vector<double>& stage_ns) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < stage_ns.size(); ++i)
    out.push_back({{"entry", i < spec.pipeline.size() ? spec.pipeline[i].entry : ""}, {"median_ns", stage_ns[i]}});
  return out;
}

}  // namespace

void ProgressPrinter::update(const TuneProgress& p, bool known_total) {
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  const double busy = p.elapsed_seconds > 0 ? 100.0 * p.gpu_seconds / p.elapsed_seconds : 0;
  std::string best = p.best_ns ? format_time(*p.best_ns) : "-";
  if (terminal_) {
    if (now - last_draw_ < std::chrono::milliseconds(100)) return;  // a terminal needs no more than 10 frames/s
    last_draw_ = now;
    const std::size_t total = known_total ? p.valid : std::max(p.planned, p.done());
    const int width = 20;
    const int filled = total ? static_cast<int>(width * static_cast<double>(p.done()) / static_cast<double>(total)) : 0;
    std::string bar(static_cast<std::size_t>(std::min(filled, width)), '#');
    bar.resize(width, '-');
    std::string eta;
    if (known_total && p.done() > 0 && p.done() < total) {
      const double rate = static_cast<double>(p.done()) / p.elapsed_seconds;
      eta = "  ETA " + std::to_string(static_cast<int>(static_cast<double>(total - p.done()) / rate + 0.5)) + "s";
    }
    std::fprintf(stderr, "\r[%s] %4zu/%zu configs  GPU busy %3.0f%%  best %s%s   ", bar.c_str(), p.done(), total, busy,
                 best.c_str(), eta.c_str());
    drew_ = true;
  } else if (p.done() >= last_plain_ + 25 || p.done() == p.valid) {
    last_plain_ = p.done();
    std::fprintf(stderr, "  %zu evaluated (of %zu valid), best %s, GPU busy %.0f%%, %.1f s\n", p.done(), p.valid, best.c_str(),
                 busy, p.elapsed_seconds);
  }
}

void ProgressPrinter::finish() {
  if (drew_) std::fprintf(stderr, "\r%*s\r", 90, "");
  drew_ = false;
}

void print_summary(const KernelSpec& spec, const Sizes& sizes, const TuneOutcome& outcome, const std::filesystem::path& store) {
  const TuneReport& r = outcome.report;
  std::string rate = throughput(spec, r.best, sizes, r.best_ns);
  std::string speedup;
  const RankingObjective objective(spec, sizes);
  const auto best_cost = objective.cost(r.best, r.best_ns);
  const auto default_cost = r.default_ns ? objective.cost(spec.default_config, *r.default_ns) : std::nullopt;
  if (best_cost && default_cost && *best_cost > 0) {
    char text[96];
    if (objective.by_time())
      std::snprintf(text, sizeof text, "%.2fx faster than the default (%s)", *default_cost / *best_cost, format_time(*r.default_ns).c_str());
    else  // ranked by a metric's rate: the ratio of rates, not of launch times
      std::snprintf(text, sizeof text, "%.2fx the default's %s per second (default %s per launch)", *default_cost / *best_cost,
                    objective.name().c_str(), format_time(*r.default_ns).c_str());
    speedup = text;
  }
  std::printf("best  %s   %s%s   %s\n", spec.space.format(r.best).c_str(), format_time(r.best_ns).c_str(),
              rate.empty() ? "" : (" (" + rate + ")").c_str(), speedup.c_str());
  if (outcome.answered_from_lookup) {
    std::printf("      already tuned (exact answer in %s, strategy %s); --force tunes again, --refine improves it\n",
                store.c_str(), r.strategy.c_str());
    return;
  }
  std::string counts;
  for (const auto& [status, n] : r.by_status)
    if (status != "ok") counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + status;
  std::printf("      %zu evaluated%s%s, %.1f s wall: compile %.1f s (summed over workers) || GPU %.1f s, GPU busy %.0f%%\n",
              r.evaluated, counts.empty() ? "" : (" (" + counts + ")").c_str(),
              r.from_store ? (", " + std::to_string(r.from_store) + " from earlier runs").c_str() : "", r.wall_seconds,
              r.compile_seconds, r.gpu_seconds, 100 * r.gpu_busy_fraction());
  std::printf("      %.1f configurations/s; %s%s; saved to %s\n", r.wall_seconds > 0 ? static_cast<double>(r.evaluated) / r.wall_seconds : 0,
              r.strategy.c_str(), r.remeasured ? ", finalists re-measured side by side" : "", store.c_str());
  std::printf("      outputs verified against: %s\n",
              (r.verified_against.empty() ? spec.describe_reference() : r.verified_against).c_str());
  if (!objective.by_time()) std::printf("      ranked by %s per second (\"objective\"), not by time per launch\n", objective.name().c_str());
  if (!r.best_stage_ns.empty()) std::printf("      %s\n", stage_times_text(spec, r.best_stage_ns).c_str());
}

nlohmann::ordered_json outcome_json(const KernelSpec& spec, const Sizes& sizes, const TuneOutcome& outcome,
                                    const std::filesystem::path& store) {
  const TuneReport& r = outcome.report;
  nlohmann::ordered_json out;
  out["kernel"] = spec.name;
  out["sizes"] = config_json(sizes);
  out["device"] = outcome.device.name;
  out["arch"] = outcome.device.arch;
  out["best"] = config_json(r.best, &spec.space);
  out["best_ns"] = r.best_ns;
  if (!r.best_stage_ns.empty()) out["best_stages"] = stage_times_json(spec, r.best_stage_ns);
  out["default_ns"] = r.default_ns ? nlohmann::ordered_json(*r.default_ns) : nlohmann::ordered_json(nullptr);
  out["answered_from_lookup"] = outcome.answered_from_lookup;
  out["strategy"] = r.strategy;
  out["evaluated"] = r.evaluated;
  out["from_store"] = r.from_store;
  out["by_status"] = r.by_status;
  out["wall_seconds"] = r.wall_seconds;
  out["compile_seconds"] = r.compile_seconds;
  out["gpu_seconds"] = r.gpu_seconds;
  out["gpu_busy_fraction"] = r.gpu_busy_fraction();
  out["configs_per_second"] = r.wall_seconds > 0 ? static_cast<double>(r.evaluated) / r.wall_seconds : 0;
  out["remeasured"] = r.remeasured;
  out["verified_against"] = r.verified_against.empty() ? spec.describe_reference() : r.verified_against;
  out["objective"] = r.objective;
  out["store"] = store.string();
  return out;
}

void print_measurement(const KernelSpec& spec, const Sizes& sizes, const Evaluation& e, const DeviceSignature& device, bool json) {
  const auto& m = e.measurement;
  if (json) {
    nlohmann::ordered_json out;
    out["kernel"] = spec.name;
    out["config"] = config_json(m.config, &spec.space);
    out["device"] = device.name;
    out["status"] = std::string(store::to_string(m.status));
    out["message"] = m.message;
    if (m.timing)
      out["timing"] = {{"median_ns", m.timing->median_ns}, {"min_ns", m.timing->min_ns}, {"mean_ns", m.timing->mean_ns},
                       {"stddev_ns", m.timing->stddev_ns}, {"samples", m.timing->samples}, {"timer", m.timing->timer}};
    if (!m.stage_median_ns.empty()) out["stages"] = stage_times_json(spec, m.stage_median_ns);
    if (m.registers) out["registers"] = *m.registers;
    out["gpu_seconds"] = e.gpu_seconds;
    const auto& p = e.diagnostics.phases;
    out["phases"] = {{"load", p.load}, {"first_run", p.first_run}, {"verify", p.verify}, {"warm_up", p.warm_up}, {"sampling", p.sampling}};
    out["stop"] = e.diagnostics.stop_reason;
    out["relative_standard_error"] = e.diagnostics.relative_standard_error;
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("%s  %s  %s on %s\n", spec.name.c_str(), format_named(sizes).c_str(), spec.space.format(m.config).c_str(), device.name.c_str());
  if (m.status != store::MeasurementStatus::ok) {
    std::printf("  %s: %s\n", std::string(store::to_string(m.status)).c_str(), m.message.c_str());
    return;
  }
  const auto& t = *m.timing;
  std::string rate = throughput(spec, m.config, sizes, t.median_ns);
  std::printf("  median %s%s  min %s  mean %s  stddev %.2f%%  %lld samples (%s)\n", format_time(t.median_ns).c_str(),
              rate.empty() ? "" : (" (" + rate + ")").c_str(), format_time(t.min_ns).c_str(), format_time(t.mean_ns).c_str(),
              t.mean_ns > 0 ? 100 * t.stddev_ns / t.mean_ns : 0.0, static_cast<long long>(t.samples), t.timer.c_str());
  if (!m.stage_median_ns.empty()) std::printf("  %s\n", stage_times_text(spec, m.stage_median_ns).c_str());
  std::printf("  %lld registers, %lld bytes shared memory\n", static_cast<long long>(m.registers.value_or(0)),
              static_cast<long long>(m.shared_bytes.value_or(0)));
  const auto& p = e.diagnostics.phases;
  std::printf("  measured in %.2f ms: load %.2f, first run %.2f, verify %.2f, warm-up %.2f, sampling %.2f ms; stopped: %s "
              "(median ±%.2f%%)\n",
              1e3 * e.gpu_seconds, 1e3 * p.load, 1e3 * p.first_run, 1e3 * p.verify, 1e3 * p.warm_up, 1e3 * p.sampling,
              e.diagnostics.stop_reason.empty() ? "-" : e.diagnostics.stop_reason.c_str(), 100 * e.diagnostics.relative_standard_error);
}

}  // namespace ktune::cli
