#include "tools/mpi/run_report.hpp"

#include <nlohmann/json.hpp>

namespace ktune::cli {

namespace {

// Named values keep their order (the spec's): pairs, not an object.
nlohmann::json named_json(const NamedValues& values) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [name, value] : values) out.push_back({name, value});
  return out;
}

NamedValues named_from(const nlohmann::json& json) {
  NamedValues out;
  for (const auto& pair : json) out.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::int64_t>());
  return out;
}

}  // namespace

std::string encode_run_report(const SweepRun& run) {
  nlohmann::json out{{"index", run.index}, {"lane", run.lane}, {"wall_seconds", run.wall_seconds}, {"error", run.error}};
  if (run.outcome) {
    const TuneOutcome& o = *run.outcome;
    const TuneReport& r = o.report;
    out["outcome"] = {{"device", o.device.name},
                      {"device_arch", o.device.arch},
                      {"arch", o.arch},
                      {"answered_from_lookup", o.answered_from_lookup},
                      {"tuning_key", o.tuning_key},
                      {"strategy", r.strategy},
                      {"best", named_json(r.best)},
                      {"best_ns", r.best_ns},
                      {"default_ns", r.default_ns ? nlohmann::json(*r.default_ns) : nlohmann::json()},
                      {"evaluated", r.evaluated},
                      {"from_store", r.from_store},
                      {"by_status", r.by_status},
                      {"wall_seconds", r.wall_seconds},
                      {"compile_seconds", r.compile_seconds},
                      {"gpu_seconds", r.gpu_seconds},
                      {"remeasured", r.remeasured}};
  }
  return out.dump();
}

SweepRun decode_run_report(const std::string& text, const SweepPlan& plan) {
  const auto in = nlohmann::json::parse(text);
  SweepRun run;
  run.index = in.at("index").get<std::size_t>();
  // Plan order: items, then size sets.
  std::size_t first = 0;
  for (std::size_t i = 0; i < plan.items.size(); ++i) {
    if (run.index < first + plan.items[i].sizes.size()) {
      run.item = i;
      run.sizes = plan.items[i].sizes[run.index - first];
      break;
    }
    first += plan.items[i].sizes.size();
  }
  if (run.index >= plan.run_count()) throw std::out_of_range("a run report for run " + std::to_string(run.index) + " beyond the plan");
  run.spec = &plan.items[run.item].spec;
  run.strategy = plan.items[run.item].strategy;
  run.lane = in.at("lane").get<std::size_t>();
  run.wall_seconds = in.at("wall_seconds").get<double>();
  run.error = in.at("error").get<std::string>();
  if (in.contains("outcome")) {
    const auto& o = in["outcome"];
    TuneOutcome outcome;
    outcome.device = {o.at("device").get<std::string>(), o.at("device_arch").get<std::string>()};
    outcome.arch = o.at("arch").get<std::string>();
    outcome.answered_from_lookup = o.at("answered_from_lookup").get<bool>();
    outcome.tuning_key = o.at("tuning_key").get<std::string>();
    TuneReport& r = outcome.report;
    r.strategy = o.at("strategy").get<std::string>();
    r.best = named_from(o.at("best"));
    r.best_ns = o.at("best_ns").get<double>();
    if (!o.at("default_ns").is_null()) r.default_ns = o["default_ns"].get<double>();
    r.evaluated = o.at("evaluated").get<std::size_t>();
    r.from_store = o.at("from_store").get<std::size_t>();
    r.by_status = o.at("by_status").get<std::map<std::string, std::size_t>>();
    r.wall_seconds = o.at("wall_seconds").get<double>();
    r.compile_seconds = o.at("compile_seconds").get<double>();
    r.gpu_seconds = o.at("gpu_seconds").get<double>();
    r.remeasured = o.at("remeasured").get<bool>();
    run.outcome = std::move(outcome);
  }
  return run;
}

}  // namespace ktune::cli
