#include "engine/results_export.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/common/expr.hpp"
#include "engine/model/kernel_form.hpp"
#include "engine/version.hpp"

namespace ktune {
namespace {

using ojson = nlohmann::ordered_json;

std::string utc_text(std::int64_t unix_seconds, const char* format) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, format, &tm);
  return buffer;
}

// The latest measurement of each configuration, in the order configurations were first measured.
std::vector<const store::Measurement*> latest_per_config(const std::vector<store::Measurement>& measurements) {
  std::vector<const store::Measurement*> out;
  std::map<Config, std::size_t> position;
  for (const auto& m : measurements) {
    auto [it, inserted] = position.emplace(m.config, out.size());
    if (inserted) out.push_back(&m);
    else out[it->second] = &m;
  }
  return out;
}

Result<ParamSpace> space_of(const TuningResults& tuning) {
  auto space = space_from_kernel_form(tuning.kernel.kernel_json);
  if (!space) return make_error(space.error().code, "kernel " + tuning.kernel.name + ": " + space.error().message);
  return space;
}

// A measurement's values in the space's parameter order; an error when it does not match the space.
Result<std::vector<std::int64_t>> values_in_order(const Config& config, const ParamSpace& space, const std::string& kernel) {
  std::vector<std::int64_t> values;
  for (const auto& p : space.params) {
    auto v = find_value(config, p.name);
    if (!v) return make_error(Errc::corrupt, "kernel " + kernel + ": a measurement has no value for " + p.name);
    values.push_back(*v);
  }
  if (config.size() != space.params.size())
    return make_error(Errc::corrupt, "kernel " + kernel + ": a measurement names a parameter the kernel does not have");
  return values;
}

bool has_time(const store::Measurement& m) {
  return m.timing && (m.status == MeasurementStatus::ok || m.status == MeasurementStatus::pruned);
}

double time_ms(const store::Measurement& m) { return m.timing->median_ns / 1e6; }

// The objective the kernel was tuned by, as its kernel form records it (docs/keys.md): a metric's
// expression over parameters and sizes, so each measurement's rate can be written and ranked by.
// By time (no "objective" in the form) there is none.
class ExportObjective {
 public:
  static Result<ExportObjective> of(const TuningResults& tuning, const ParamSpace& space) {
    ExportObjective out;
    const auto form = nlohmann::json::parse(tuning.kernel.kernel_json, nullptr, false);
    if (form.is_discarded() || !form.is_object() || !form.contains("objective")) return out;
    const auto& objective = form["objective"];
    if (!objective.is_object() || !objective.contains("maximize") || !objective.contains("metric") ||
        !objective["maximize"].is_string() || !objective["metric"].is_string())
      return make_error(Errc::corrupt, "kernel " + tuning.kernel.name + ": the stored objective is not {\"maximize\", \"metric\"}");
    out.maximize_ = objective["maximize"].get<std::string>();
    out.space_ = &space;
    out.sizes_ = tuning.best.tuning.sizes;
    const std::size_t params = space.params.size();
    const Sizes& sizes = out.sizes_;
    auto metric = Expr::parse(
        objective["metric"].get<std::string>(),
        [&](std::string_view name) -> std::optional<int> {
          if (int p = space.param_index(name); p >= 0) return p;
          for (std::size_t i = 0; i < sizes.size(); ++i)
            if (sizes[i].first == name) return static_cast<int>(params + i);
          return std::nullopt;
        },
        "objective.metric",
        [&](int slot, std::string_view literal) -> Result<std::int64_t> {
          if (slot < 0 || static_cast<std::size_t>(slot) >= params) return make_error(Errc::corrupt, "a string compared with a size");
          return space.params[static_cast<std::size_t>(slot)].value_from_text(literal);
        });
    if (!metric) return make_error(Errc::corrupt, "kernel " + tuning.kernel.name + ": " + metric.error().message);
    out.metric_ = std::move(*metric);
    return out;
  }
  bool by_time() const { return !metric_; }
  // Kernel Tuner's name of the rate: "GFLOP/s" (flops per ns) or "GB/s".
  std::string name() const { return maximize_ == "bytes" ? "GB/s" : "GFLOP/s"; }
  // The measurement's rate (work per ns), where it has a time and the work evaluates.
  std::optional<double> rate(const store::Measurement& m) const {
    if (!metric_ || !has_time(m) || m.timing->median_ns <= 0) return std::nullopt;
    std::vector<std::int64_t> slots;
    for (const auto& p : space_->params) slots.push_back(find_value(m.config, p.name).value_or(0));
    for (const auto& [name, value] : sizes_) slots.push_back(value);
    const EvalResult work = metric_->evaluate(slots);
    if (!work.ok() || work.value <= 0) return std::nullopt;
    return static_cast<double>(work.value) / m.timing->median_ns;
  }

 private:
  std::string maximize_;
  std::optional<Expr> metric_;
  const ParamSpace* space_ = nullptr;
  Sizes sizes_;
};

// Kernel Tuner's markers for configurations that produced no time (kernel_tuner/util.py).
const char* kernel_tuner_marker(MeasurementStatus status) {
  switch (status) {
    case MeasurementStatus::invalid_config: return "InvalidConfig";
    case MeasurementStatus::compile_error: return "CompilationFailedConfig";
    default: return "RuntimeFailedConfig";  // launch errors, wrong results, timeouts, crashes
  }
}

// T4's invalidity vocabulary.
const char* t4_invalidity(MeasurementStatus status) {
  switch (status) {
    case MeasurementStatus::ok:
    case MeasurementStatus::pruned: return "correct";
    case MeasurementStatus::compile_error: return "compile";
    case MeasurementStatus::invalid_config: return "constraints";
    case MeasurementStatus::wrong_result: return "correctness";
    case MeasurementStatus::timeout: return "timeout";
    default: return "runtime";
  }
}

// A value as the exported formats write it: a named choice as its string, else the number.
ojson value_json(const Parameter& p, std::int64_t value) {
  if (const std::string* choice = p.choice_of(value)) return *choice;
  return value;
}

ojson values_json(const ParamSpace& space, const std::vector<std::int64_t>& values) {
  ojson out = ojson::array();
  for (std::size_t i = 0; i < values.size(); ++i) out.push_back(value_json(space.params[i], values[i]));
  return out;
}

}  // namespace

Result<std::string> to_kernel_tuner_cache(const TuningResults& tuning, const std::string& kernel_name) {
  auto space = space_of(tuning);
  if (!space) return space.error();
  ojson out;
  out["device_name"] = tuning.best.tuning.device;
  out["kernel_name"] = kernel_name.empty() ? tuning.kernel.name : kernel_name;
  ojson problem = ojson::array();
  for (const auto& [name, value] : tuning.best.tuning.sizes) problem.push_back(value);
  out["problem_size"] = problem;
  ojson keys = ojson::array(), params = ojson::object();
  for (const auto& p : space->params) {
    keys.push_back(p.name);
    ojson list = ojson::array();
    for (std::int64_t v : p.values) list.push_back(value_json(p, v));
    params[p.name] = std::move(list);
  }
  out["tune_params_keys"] = keys;
  out["tune_params"] = params;
  auto objective = ExportObjective::of(tuning, *space);
  if (!objective) return objective.error();
  // Tuned by a metric's rate: Kernel Tuner's objective of that name, written in each entry.
  out["objective"] = objective->by_time() ? "time" : objective->name();
  ojson cache = ojson::object();
  for (const store::Measurement* m : latest_per_config(tuning.measurements)) {
    auto values = values_in_order(m->config, *space, tuning.kernel.name);
    if (!values) return values.error();
    std::string key;
    ojson entry;
    for (std::size_t i = 0; i < values->size(); ++i) {
      key += (i ? "," : "") + space->params[i].value_text((*values)[i]);  // Kernel Tuner's key: str() of each value
      entry[space->params[i].name] = value_json(space->params[i], (*values)[i]);
    }
    if (has_time(*m)) {
      entry["time"] = time_ms(*m);
      entry["benchmark_time"] = time_ms(*m) * static_cast<double>(std::max<std::int64_t>(m->timing->samples, 1));
      // A pipeline: each kernel's median as an extra observable (Kernel Tuner keeps unknown keys).
      for (std::size_t i = 0; i < m->stage_median_ns.size(); ++i)
        entry["time_kernel_" + std::to_string(i + 1)] = m->stage_median_ns[i] / 1e6;
      if (auto rate = objective->rate(*m)) entry[objective->name()] = *rate;
    } else {
      entry["time"] = kernel_tuner_marker(m->status);
    }
    entry["compile_time"] = m->compile_seconds.value_or(0.0) * 1e3;
    entry["verification_time"] = 0;
    entry["strategy_time"] = 0;
    entry["framework_time"] = 0;
    entry["timestamp"] = utc_text(m->measured_at, "%Y-%m-%d %H:%M:%S+00:00");
    cache[key] = std::move(entry);
  }
  out["cache"] = std::move(cache);
  return out.dump(1);
}

Result<std::string> to_t4_results(const TuningResults& tuning) {
  auto space = space_of(tuning);
  if (!space) return space.error();
  ojson out;
  out["schema_version"] = "1.0.0";
  out["metadata"] = {{"compute_api", "CUDA"},
                     {"platform", tuning.best.tuning.toolchain},
                     {"device", tuning.best.tuning.device},
                     {"autotuner", "ktune"},
                     {"autotuner_version", version_string()},
                     {"timestamp", utc_text(tuning.best.tuned_at, "%Y-%m-%dT%H:%M:%SZ")},
                     {"timeunit", "milliseconds"}};
  auto objective = ExportObjective::of(tuning, *space);
  if (!objective) return objective.error();
  ojson results = ojson::array();
  for (const store::Measurement* m : latest_per_config(tuning.measurements)) {
    ojson r;
    r["timestamp"] = utc_text(m->measured_at, "%Y-%m-%dT%H:%M:%SZ");
    ojson config = ojson::object();
    for (const auto& [name, value] : m->config) {
      const int p = space->param_index(name);
      config[name] = p < 0 ? ojson(value) : value_json(space->params[static_cast<std::size_t>(p)], value);
    }
    r["configuration"] = std::move(config);
    r["objectives"] = {objective->by_time() ? std::string("time") : objective->name()};
    ojson times = ojson::object();
    if (m->compile_seconds) times["compilation_time"] = *m->compile_seconds * 1e3;
    // ktune keeps statistics, not every run: the median stands for the runs.
    times["runtimes"] = has_time(*m) ? ojson::array({time_ms(*m)}) : ojson::array();
    r["times"] = std::move(times);
    r["invalidity"] = t4_invalidity(m->status);
    r["correctness"] = has_time(*m) ? 1 : 0;
    ojson measurements = ojson::array();
    if (has_time(*m)) {
      measurements.push_back({{"name", "time"}, {"value", time_ms(*m)}, {"unit", "milliseconds"}});
      for (std::size_t i = 0; i < m->stage_median_ns.size(); ++i)
        measurements.push_back(
            {{"name", "time_kernel_" + std::to_string(i + 1)}, {"value", m->stage_median_ns[i] / 1e6}, {"unit", "milliseconds"}});
      if (m->registers) measurements.push_back({{"name", "registers"}, {"value", *m->registers}, {"unit", ""}});
      if (auto rate = objective->rate(*m)) measurements.push_back({{"name", objective->name()}, {"value", *rate}, {"unit", objective->name()}});
    }
    r["measurements"] = std::move(measurements);
    results.push_back(std::move(r));
  }
  out["results"] = std::move(results);
  std::string text = out.dump(1);
  if (auto problems = t4_problems(text); !problems.empty())
    return make_error(Errc::internal, "the T4 document does not conform: " + problems.front());
  return text;
}

std::vector<std::string> t4_problems(const std::string& document) {
  std::vector<std::string> problems;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(document);
  } catch (const nlohmann::json::exception& e) {
    return {std::string("not JSON: ") + e.what()};
  }
  auto problem = [&](const std::string& text) { problems.push_back(text); };
  if (!doc.is_object()) return {"the document is not an object"};
  if (!doc.contains("schema_version") || !doc["schema_version"].is_string()) {
    problem("schema_version: missing or not a string");
  } else {
    // "^[0-9]{1,}\.[0-9]{1,}\.[0-9]{1,}$"
    const std::string v = doc["schema_version"];
    int dots = 0;
    bool digits = !v.empty();
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '.') {
        if (i == 0 || i + 1 == v.size() || v[i - 1] == '.') digits = false;
        ++dots;
      } else if (!std::isdigit(static_cast<unsigned char>(v[i]))) {
        digits = false;
      }
    }
    if (!digits || dots != 2) problem("schema_version: \"" + v + "\" is not major.minor.patch");
  }
  if (doc.contains("metadata")) {
    const auto& meta = doc["metadata"];
    if (!meta.is_object()) problem("metadata: not an object");
    else {
      for (const char* key : {"platform", "device", "autotuner", "autotuner_version", "timestamp"})
        if (meta.contains(key) && !meta[key].is_string()) problem(std::string("metadata.") + key + ": not a string");
      auto one_of = [&](const char* key, std::initializer_list<const char*> allowed) {
        if (!meta.contains(key)) return;
        const auto& v = meta[key];
        if (!v.is_string() || std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return v == a; }))
          problem(std::string("metadata.") + key + ": not one of the schema's values");
      };
      one_of("compute_api", {"OpenCL", "CUDA", "Vulkan"});
      one_of("timeunit", {"nanoseconds", "microseconds", "milliseconds", "seconds"});
    }
  }
  if (!doc.contains("results") || !doc["results"].is_array()) {
    problem("results: missing or not an array");
    return problems;
  }
  for (std::size_t i = 0; i < doc["results"].size(); ++i) {
    const auto& r = doc["results"][i];
    const std::string where = "results[" + std::to_string(i) + "]";
    if (!r.is_object()) {
      problem(where + ": not an object");
      continue;
    }
    for (const char* key : {"configuration", "times", "invalidity", "correctness"})
      if (!r.contains(key)) problem(where + ": missing required " + key);
    if (r.contains("configuration") && !r["configuration"].is_object()) problem(where + ".configuration: not an object");
    if (r.contains("timestamp") && !r["timestamp"].is_string()) problem(where + ".timestamp: not a string");
    if (r.contains("objectives")) {
      if (!r["objectives"].is_array()) problem(where + ".objectives: not an array");
      else
        for (const auto& o : r["objectives"])
          if (!o.is_string()) problem(where + ".objectives: an item is not a string");
    }
    if (r.contains("times")) {
      const auto& t = r["times"];
      if (!t.is_object()) problem(where + ".times: not an object");
      else
        for (const auto& [key, value] : t.items()) {
          if (key == "runtimes") {
            if (!value.is_array() || std::any_of(value.begin(), value.end(), [](const auto& x) { return !x.is_number(); }))
              problem(where + ".times.runtimes: not an array of numbers");
          } else if (!value.is_number()) {
            problem(where + ".times." + key + ": not a number");
          }
        }
    }
    if (r.contains("invalidity")) {
      static const char* allowed[] = {"timeout", "compile", "runtime", "correctness", "constraints", "correct"};
      const auto& v = r["invalidity"];
      if (!v.is_string() || std::none_of(std::begin(allowed), std::end(allowed), [&](const char* a) { return v == a; }))
        problem(where + ".invalidity: not one of the schema's values");
    }
    if (r.contains("correctness") && !(r["correctness"].is_number() && (r["correctness"] == 0 || r["correctness"] == 1)))
      problem(where + ".correctness: must be 0 or 1");
    if (r.contains("measurements")) {
      if (!r["measurements"].is_array()) problem(where + ".measurements: not an array");
      else
        for (const auto& m : r["measurements"]) {
          if (!m.is_object()) {
            problem(where + ".measurements: an item is not an object");
            continue;
          }
          if (m.contains("name") && !m["name"].is_string()) problem(where + ".measurements: a name is not a string");
          if (m.contains("unit") && !m["unit"].is_string()) problem(where + ".measurements: a unit is not a string");
          if (m.contains("value") && !(m["value"].is_number() || m["value"].is_string() || m["value"].is_array()))
            problem(where + ".measurements: a value is not a number, string or array");
        }
    }
  }
  return problems;
}

Result<std::string> to_wisdom(const std::string& key, const std::vector<TuningResults>& tunings, std::size_t per_tuning) {
  if (tunings.empty()) return make_error(Errc::invalid_argument, "no tuned entries to write");
  const std::string& kernel_key = tunings.front().kernel.kernel_key;
  for (const auto& t : tunings)
    if (t.kernel.kernel_key != kernel_key)
      return make_error(Errc::invalid_argument, "a wisdom file holds one kernel; the selection has " + tunings.front().kernel.name +
                                                    " and " + t.kernel.name + " (choose one with --kernel)");
  auto space = space_of(tunings.front());
  if (!space) return space.error();
  ojson header;
  header["version"] = "1.0";
  header["objective"] = "time";
  ojson names = ojson::array();
  for (const auto& p : space->params) names.push_back(p.name);
  header["tunable_parameters"] = names;
  header["key"] = key;
  std::string out = header.dump() + "\n";
  for (const auto& tuning : tunings) {
    const auto& sizes = tuning.best.tuning.sizes;
    if (sizes.size() > 3)
      return make_error(Errc::invalid_argument, "kernel_launcher's problem size has at most 3 dimensions; " + tuning.kernel.name +
                                                    " has " + std::to_string(sizes.size()) + " sizes");
    ojson problem = ojson::array();
    for (const auto& [name, value] : sizes) problem.push_back(value);
    while (problem.size() < 3) problem.push_back(1);
    int capability = 0;
    const std::string& arch = tuning.best.tuning.arch;
    for (char c : arch.substr(arch.rfind('_') == std::string::npos ? arch.size() : arch.rfind('_') + 1))
      if (std::isdigit(static_cast<unsigned char>(c))) capability = capability * 10 + (c - '0');
    ojson environment = {{"date", utc_text(tuning.best.tuned_at, "%Y-%m-%dT%H:%M:%S")},
                         {"device_name", tuning.best.tuning.device},
                         {"compute_capability", capability},
                         {"ktune_version", version_string()},
                         {"toolchain", tuning.best.tuning.toolchain}};
    std::vector<const store::Measurement*> correct;
    for (const store::Measurement* m : latest_per_config(tuning.measurements))
      if (m->status == MeasurementStatus::ok && m->timing) correct.push_back(m);
    // Best first by the objective the kernel was tuned by: the time, or the metric's rate.
    auto objective = ExportObjective::of(tuning, *space);
    if (!objective) return objective.error();
    std::stable_sort(correct.begin(), correct.end(), [&](const store::Measurement* a, const store::Measurement* b) {
      if (objective->by_time()) return time_ms(*a) < time_ms(*b);
      return objective->rate(*a).value_or(0) > objective->rate(*b).value_or(0);
    });
    // A table imported without its measurements still has its best entry.
    if (correct.empty()) {
      auto values = values_in_order(tuning.best.config, *space, tuning.kernel.name);
      if (!values) return values.error();
      ojson line = {{"config", values_json(*space, *values)}, {"problem_size", problem}, {"time", tuning.best.time_ns / 1e6}, {"environment", environment}};
      out += line.dump() + "\n";
      continue;
    }
    for (std::size_t i = 0; i < correct.size() && i < per_tuning; ++i) {
      auto values = values_in_order(correct[i]->config, *space, tuning.kernel.name);
      if (!values) return values.error();
      ojson line = {{"config", values_json(*space, *values)}, {"problem_size", problem}, {"time", time_ms(*correct[i])}, {"environment", environment}};
      out += line.dump() + "\n";
    }
  }
  return out;
}

}  // namespace ktune
