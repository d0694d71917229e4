#include "engine/kernel_tuner_import.hpp"

#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/model/toolchain.hpp"
#include "engine/model/tuning_question.hpp"
#include "engine/version.hpp"
#include "tuner/search_space.hpp"

namespace ktune {

namespace {

using json = nlohmann::json;

// A cache of a million configurations is ~1 GB of JSON; more than twice that is not a cache.
constexpr std::size_t kMaxInflatedBytes = std::size_t{2} << 30;

struct GzFileCloser {
  void operator()(gzFile_s* f) const noexcept { gzclose(f); }
};

// Kernel Tuner's failure markers: a string where the time would be.
std::optional<MeasurementStatus> failure_status(const std::string& marker) {
  if (marker == "InvalidConfig") return MeasurementStatus::invalid_config;
  if (marker == "CompilationFailedConfig") return MeasurementStatus::compile_error;
  if (marker == "RuntimeFailedConfig") return MeasurementStatus::launch_error;
  return std::nullopt;
}

std::optional<std::int64_t> as_integer(const json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

// "2023-12-22 09:53:48.691683+00:00" (Kernel Tuner writes UTC) → Unix seconds; nullopt otherwise.
std::optional<std::int64_t> parse_timestamp(const json& v) {
  if (!v.is_string()) return std::nullopt;
  std::tm tm{};
  if (std::sscanf(v.get_ref<const std::string&>().c_str(), "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t t = timegm(&tm);
  if (t < 0) return std::nullopt;
  return static_cast<std::int64_t>(t);
}

// The `times` of one entry (ms) → statistics in ns; the median is Kernel Tuner's objective `time`.
store::TimingStats timing_of(double time_ms, const json& entry) {
  store::TimingStats t;
  t.median_ns = t.min_ns = t.mean_ns = time_ms * 1e6;
  t.samples = 1;
  t.timer = "kernel_tuner";
  auto it = entry.find("times");
  if (it == entry.end() || !it->is_array() || it->empty()) return t;
  double sum = 0, sum_sq = 0, min = 0;
  std::int64_t n = 0;
  for (const auto& x : *it) {
    if (!x.is_number()) return t;
    const double ns = x.get<double>() * 1e6;
    if (!(std::isfinite(ns) && ns > 0)) return t;
    min = n == 0 ? ns : std::min(min, ns);
    sum += ns;
    sum_sq += ns * ns;
    ++n;
  }
  const double mean = sum / static_cast<double>(n);
  t.min_ns = min;
  t.mean_ns = mean;
  t.stddev_ns = n > 1 ? std::sqrt(std::max(0.0, (sum_sq - sum * mean) / static_cast<double>(n - 1))) : 0;
  t.samples = n;
  return t;
}

Result<Sizes> sizes_of(const json& root, const KernelSpec& spec, const KernelTunerImportOptions& options,
                       const std::string& origin) {
  if (options.sizes) return spec.ordered_sizes(*options.sizes);
  const auto& names = spec.space.size_names;
  auto it = root.find("problem_size");
  std::vector<std::int64_t> values;
  if (it != root.end() && it->is_array()) {
    for (const auto& v : *it) {
      auto i = as_integer(v);
      if (!i) return make_error(Errc::invalid_argument, origin + ": problem_size " + it->dump() + " is not a list of integers; give the sizes (--sizes)");
      values.push_back(*i);
    }
  } else if (it != root.end()) {
    auto i = as_integer(*it);
    if (!i) return make_error(Errc::invalid_argument, origin + ": problem_size " + it->dump() + " is not an integer; give the sizes (--sizes)");
    values.push_back(*i);
  }
  if (values.size() != names.size()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    return make_error(Errc::invalid_argument, origin + ": problem_size " + (it == root.end() ? std::string("is missing") : it->dump()) +
                                                  " cannot be mapped onto the spec's sizes (" + (list.empty() ? "none" : list) +
                                                  "); give them (--sizes)");
  }
  Sizes sizes;
  for (std::size_t i = 0; i < names.size(); ++i) sizes.emplace_back(names[i], values[i]);
  return spec.ordered_sizes(sizes);
}

}  // namespace

Result<std::string> read_kernel_tuner_file(const std::filesystem::path& path) {
  // gzread passes a file that is not gzip through unchanged, so one path reads both forms.
  std::unique_ptr<gzFile_s, GzFileCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) return make_error(Errc::io, "cannot read '" + path.string() + "'");
  std::string text;
  std::vector<char> chunk(1u << 20);
  for (;;) {
    const int got = gzread(file.get(), chunk.data(), static_cast<unsigned>(chunk.size()));
    if (got < 0) {
      int code = 0;
      const char* why = gzerror(file.get(), &code);
      return make_error(Errc::corrupt, path.string() + ": not a readable gzip file (" + std::string(why ? why : "zlib error") + ")");
    }
    if (got == 0) break;
    if (text.size() + static_cast<std::size_t>(got) > kMaxInflatedBytes)
      return make_error(Errc::unsupported, path.string() + ": inflates beyond 2 GiB; not a Kernel Tuner cache");
    text.append(chunk.data(), static_cast<std::size_t>(got));
  }
  return text;
}

Result<KernelTunerCache> parse_kernel_tuner_cache(const std::string& text, const KernelSpec& spec,
                                                  const KernelTunerImportOptions& options, const std::string& origin) {
  const json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return make_error(Errc::corrupt, origin + ": not valid JSON");
  if (!root.is_object()) return make_error(Errc::corrupt, origin + ": not a Kernel Tuner cache (the top level is not an object)");
  auto cache = root.find("cache");
  if (cache == root.end() || !cache->is_object())
    return make_error(Errc::corrupt, origin + ": not a Kernel Tuner cache (no \"cache\" object)");
  auto keys = root.find("tune_params_keys");
  if (keys == root.end() || !keys->is_array() || keys->empty())
    return make_error(Errc::corrupt, origin + ": not a Kernel Tuner cache (no \"tune_params_keys\" list)");
  if (cache->empty()) return make_error(Errc::invalid_argument, origin + ": the cache holds no entries; nothing to import");

  KernelTunerCache out;
  auto& summary = out.summary;
  if (auto name = root.find("kernel_name"); name != root.end() && name->is_string()) summary.kernel_name = name->get<std::string>();
  auto sizes = sizes_of(root, spec, options, origin);
  if (!sizes) return make_error(sizes.error().code, sizes.error().message.starts_with(origin) ? sizes.error().message : origin + ": " + sizes.error().message);
  summary.sizes = std::move(*sizes);
  summary.device.name = options.device;
  if (summary.device.name.empty())
    if (auto name = root.find("device_name"); name != root.end() && name->is_string()) summary.device.name = name->get<std::string>();
  if (summary.device.name.empty())
    return make_error(Errc::invalid_argument, origin + ": the cache names no device (device_name is empty); give one (--device)");
  summary.device.arch = options.arch.empty() ? "unknown" : options.arch;
  summary.toolchain = options.toolchain ? *options.toolchain : current_toolchain();

  std::vector<std::string> param_keys;
  for (const auto& k : *keys) {
    if (!k.is_string()) return make_error(Errc::corrupt, origin + ": tune_params_keys holds " + k.dump() + ", not a name");
    param_keys.push_back(k.get<std::string>());
  }
  for (const auto& p : spec.space.params)
    if (std::find(param_keys.begin(), param_keys.end(), p.name) == param_keys.end())
      return make_error(Errc::invalid_argument, origin + ": the cache has no parameter " + p.name + " of spec " + spec.name);

  auto space = SearchSpace::build(spec.space, &summary.sizes);
  if (!space) return make_error(space.error().code, origin + ": " + space.error().message);
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));

  out.measurements.reserve(cache->size());
  for (const auto& [key, entry] : cache->items()) {
    const std::string where = origin + ": entry '" + key + "': ";
    if (!entry.is_object()) return make_error(Errc::corrupt, where + "not an object");
    for (const auto& name : param_keys)
      if (spec.space.param_index(name) < 0)
        return make_error(Errc::invalid_argument, where + "parameter " + name + " is not a parameter of spec " + spec.name);
    store::Measurement m;
    for (const auto& p : spec.space.params) {
      auto v = entry.find(p.name);
      if (v == entry.end()) return make_error(Errc::invalid_argument, where + "no value for parameter " + p.name);
      if (p.is_choice()) {  // a string-valued tune_param ("float_type": "float"): a named choice
        if (!v->is_string())
          return make_error(Errc::invalid_argument, where + p.name + "=" + v->dump() + " is not a string (" + p.name +
                                                        " is a named choice of " + join_values(p) + ")");
        auto code = p.value_from_text(v->get<std::string>());
        if (!code) return make_error(Errc::invalid_argument, where + code.error().message);
        m.config.emplace_back(p.name, *code);
        continue;
      }
      auto i = as_integer(*v);
      if (!i)
        return make_error(Errc::invalid_argument, where + p.name + "=" + v->dump() +
                                                      (v->is_string() ? " is a string: declare " + p.name + " with string values in the spec (named choices)"
                                                                      : std::string(" is not an integer")));
      m.config.emplace_back(p.name, *i);
    }
    if (auto why = space->why_invalid(m.config)) return make_error(Errc::invalid_argument, where + *why);

    auto time = entry.find("time");
    if (time == entry.end()) return make_error(Errc::invalid_argument, where + "no time");
    if (time->is_string()) {
      auto status = failure_status(time->get<std::string>());
      if (!status)
        return make_error(Errc::invalid_argument, where + "time \"" + time->get<std::string>() +
                                                      "\" is neither a number nor InvalidConfig, CompilationFailedConfig or RuntimeFailedConfig");
      m.status = *status;
      m.message = "Kernel Tuner: " + time->get<std::string>();
    } else if (time->is_number() && std::isfinite(time->get<double>()) && time->get<double>() > 0) {
      m.status = MeasurementStatus::ok;
      m.timing = timing_of(time->get<double>(), entry);
    } else {
      return make_error(Errc::invalid_argument, where + "time " + time->dump() + " is not a positive number of milliseconds");
    }
    if (auto c = entry.find("compile_time"); c != entry.end() && c->is_number() && std::isfinite(c->get<double>()) && c->get<double>() >= 0)
      m.compile_seconds = c->get<double>() / 1000.0;
    m.measured_at = parse_timestamp(entry.value("timestamp", json())).value_or(now);
    m.ktune_version = version_string();
    if (auto ok = store::validate(m); !ok) return make_error(Errc::invalid_argument, where + ok.error().message);
    ++summary.by_status[std::string(to_string(m.status))];
    out.measurements.push_back(std::move(m));
  }
  summary.entries = out.measurements.size();
  return out;
}

Result<KernelTunerImportSummary> import_kernel_tuner_cache(const std::filesystem::path& path, const KernelSpec& spec,
                                                           store::Store& store, const KernelTunerImportOptions& options) {
  auto text = read_kernel_tuner_file(path);
  if (!text) return text.error();
  auto parsed = parse_kernel_tuner_cache(*text, spec, options, path.string());
  if (!parsed) return parsed.error();
  text->clear();
  text->shrink_to_fit();
  TuningQuestion question{&spec, parsed->summary.sizes, parsed->summary.device, parsed->summary.toolchain};
  store::MeasurementBatch batch{question.tuning_record(), std::move(parsed->measurements), question.measurement_key()};
  parsed->summary.tuning_key = batch.tuning.tuning_key;
  // The kernel row first (idempotent), then every measurement in one transaction: an import is in
  // the store whole or not at all.
  if (auto ok = store.put_kernel(question.kernel_record()); !ok)
    return make_error(ok.error().code, path.string() + ": " + ok.error().message + "; nothing was imported");
  if (auto ok = store.record_measurements(batch); !ok)
    return make_error(ok.error().code, path.string() + ": " + ok.error().message + "; nothing was imported");
  return std::move(parsed->summary);
}

Result<KernelTunerImportSummary> import_kernel_tuner_cache(const std::filesystem::path& path, const KernelSpec& spec,
                                                           const std::filesystem::path& store_path,
                                                           const KernelTunerImportOptions& options) {
  auto store = store::Store::open(store_path);
  if (!store) return store.error();
  return import_kernel_tuner_cache(path, spec, *store, options);
}

}  // namespace ktune
