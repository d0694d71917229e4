// Results out in other tools' formats (engine/results_export.hpp, `ktune export --format`): a
// Kernel Tuner cache read back by ktune's own importer (round trip, also on a real recorded sweep),
// T4 documents checked against the schema's required fields and enumerations, kernel_launcher
// wisdom files, and the CLI around them.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/kernel_tuner_import.hpp"
#include "engine/model/tuning_question.hpp"
#include "engine/results_export.hpp"
#include "engine/version.hpp"
#include "helpers/kernel_tuner_toy_spec.hpp"
#include "helpers/run_ktune.hpp"
#include "helpers/scratch_dir.hpp"

namespace {

using namespace ktune;
using ktune::testing::ScratchDir;
using ktune::testing::run_ktune;
using json = nlohmann::json;

const char* const kSpec = ktune::testing::kKernelTunerToySpec;

const std::string kCache = R"({"device_name": "NVIDIA RTX A6000", "kernel_name": "toy", "problem_size": [4096],
  "tune_params_keys": ["BX", "TX"], "tune_params": {"BX": [32, 64, 128], "TX": [1, 2, 4]}, "objective": "time", "cache": {
  "32,1": {"BX": 32, "TX": 1, "time": 1.5, "compile_time": 250.0, "timestamp": "2023-12-22 09:53:48.691683+00:00"},
  "64,1": {"BX": 64, "TX": 1, "time": 0.75, "timestamp": "2023-12-22 09:54:00+00:00"},
  "64,2": {"BX": 64, "TX": 2, "time": "InvalidConfig", "timestamp": "2023-12-22 09:54:01+00:00"},
  "128,1": {"BX": 128, "TX": 1, "time": "CompilationFailedConfig", "timestamp": "2023-12-22 09:54:02+00:00"},
  "128,2": {"BX": 128, "TX": 2, "time": "RuntimeFailedConfig", "timestamp": "2023-12-22 09:54:03+00:00"}}})";

// A store holding an imported sweep and its lookup-table entry, as `ktune tune` would leave it.
struct Exported : ::testing::Test {
  void SetUp() override { import(KernelSpec::from_json_text(kSpec).value_or_throw(), write(kCache), {}); }

  std::filesystem::path write(const std::string& text) {
    const auto path = scratch / "cache.json";
    std::ofstream(path) << text;
    return path;
  }

  void import(KernelSpec imported_spec, const std::filesystem::path& cache, KernelTunerImportOptions options) {
    spec = std::move(imported_spec);
    options.arch = "sm_86";
    import_options = options;
    auto store = store::Store::open(scratch / "ktune.db").value_or_throw();
    auto summary = import_kernel_tuner_cache(cache, spec, store, options).value_or_throw();
    TuningQuestion question{&spec, summary.sizes, summary.device, summary.toolchain};
    auto measurements = store.measurements_for(summary.tuning_key).value_or_throw();
    const store::Measurement* best = nullptr;
    for (const auto& m : measurements)
      if (m.status == MeasurementStatus::ok && (!best || m.timing->median_ns < best->timing->median_ns)) best = &m;
    ASSERT_NE(best, nullptr);
    store::BestRecord record{question.tuning_record(), best->config, best->timing->median_ns, std::nullopt, "exhaustive",
                             static_cast<std::int64_t>(measurements.size()), 1.0, 1700000000, version_string()};
    ASSERT_TRUE(store.put_best(record).ok());
    tuning = TuningResults{question.kernel_record(), record, measurements};
  }

  ScratchDir scratch{"ktune-results-export"};
  KernelSpec spec;
  KernelTunerImportOptions import_options;
  TuningResults tuning;
};

TEST_F(Exported, AKernelTunerCacheRoundTripsThroughTheImporter) {
  const std::string text = to_kernel_tuner_cache(tuning).value_or_throw();
  const json cache = json::parse(text);
  EXPECT_EQ(cache["device_name"], "NVIDIA RTX A6000");
  EXPECT_EQ(cache["problem_size"], json::array({4096}));
  EXPECT_EQ(cache["tune_params_keys"], json::array({"BX", "TX"}));
  EXPECT_EQ(cache["tune_params"]["TX"], json::array({1, 2, 4}));
  EXPECT_EQ(cache["objective"], "time");
  EXPECT_EQ(cache["cache"]["64,1"]["time"], 0.75);
  EXPECT_EQ(cache["cache"]["64,2"]["time"], "InvalidConfig");
  EXPECT_EQ(cache["cache"]["128,1"]["time"], "CompilationFailedConfig");
  EXPECT_EQ(cache["cache"]["128,2"]["time"], "RuntimeFailedConfig");
  EXPECT_EQ(cache["cache"]["32,1"]["compile_time"], 250.0);
  EXPECT_EQ(cache["cache"]["32,1"]["timestamp"], "2023-12-22 09:53:48+00:00");

  auto back = parse_kernel_tuner_cache(text, spec, import_options, "exported");
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->measurements.size(), tuning.measurements.size());
  EXPECT_EQ(back->summary.device.name, "NVIDIA RTX A6000");
  EXPECT_EQ(back->summary.sizes, (Sizes{{"N", 4096}}));
  for (std::size_t i = 0; i < tuning.measurements.size(); ++i) {
    const auto& was = tuning.measurements[i];
    const auto it = std::find_if(back->measurements.begin(), back->measurements.end(),
                                 [&](const store::Measurement& m) { return m.config == was.config; });
    ASSERT_NE(it, back->measurements.end());
    EXPECT_EQ(it->status, was.status);
    EXPECT_EQ(it->measured_at, was.measured_at);
    EXPECT_EQ(it->compile_seconds.value_or(0), was.compile_seconds.value_or(0));
    if (was.timing) {
      EXPECT_DOUBLE_EQ(it->timing->median_ns, was.timing->median_ns);
    }
  }
}

TEST_F(Exported, ARealRecordedSweepRoundTrips) {
  const std::string data = std::string(KTUNE_SOURCE_DIR) + "/tests/data/kernel_tuner/";
  import(KernelSpec::from_file(data + "convolution_milo.A6000.spec.json").value_or_throw(),
         data + "convolution_milo.A6000.kt-cache.json.gz", {});
  const std::string text = to_kernel_tuner_cache(tuning).value_or_throw();
  auto back = parse_kernel_tuner_cache(text, spec, import_options, "exported");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->measurements.size(), tuning.measurements.size());
  std::map<std::string, std::size_t> was, now;
  double was_sum = 0, now_sum = 0;
  for (const auto& m : tuning.measurements) {
    ++was[std::string(to_string(m.status))];
    if (m.timing) was_sum += m.timing->median_ns;
  }
  for (const auto& m : back->measurements) {
    ++now[std::string(to_string(m.status))];
    if (m.timing) now_sum += m.timing->median_ns;
  }
  EXPECT_EQ(was, now);
  EXPECT_NEAR(now_sum, was_sum, 1e-9 * was_sum);
  EXPECT_EQ(was["ok"], 3889u);
}

TEST_F(Exported, AT4DocumentHasTheSchemasRequiredFields) {
  const std::string text = to_t4_results(tuning).value_or_throw();
  EXPECT_TRUE(t4_problems(text).empty());
  const json doc = json::parse(text);
  EXPECT_EQ(doc["schema_version"], "1.0.0");
  EXPECT_EQ(doc["metadata"]["compute_api"], "CUDA");
  EXPECT_EQ(doc["metadata"]["device"], "NVIDIA RTX A6000");
  EXPECT_EQ(doc["metadata"]["autotuner"], "ktune");
  EXPECT_EQ(doc["metadata"]["timeunit"], "milliseconds");
  ASSERT_EQ(doc["results"].size(), 5u);
  std::map<std::string, std::string> invalidity;
  for (const auto& r : doc["results"]) {
    for (const char* key : {"configuration", "times", "invalidity", "correctness"}) EXPECT_TRUE(r.contains(key)) << key;
    invalidity[std::to_string(r["configuration"]["BX"].get<int>()) + "," + std::to_string(r["configuration"]["TX"].get<int>())] =
        r["invalidity"];
    if (r["configuration"]["BX"] == 64 && r["configuration"]["TX"] == 1) {
      EXPECT_EQ(r["times"]["runtimes"], json::array({0.75}));
      EXPECT_EQ(r["correctness"], 1);
      EXPECT_EQ(r["measurements"][0]["name"], "time");
    }
  }
  EXPECT_EQ(invalidity["64,1"], "correct");
  EXPECT_EQ(invalidity["64,2"], "constraints");
  EXPECT_EQ(invalidity["128,1"], "compile");
  EXPECT_EQ(invalidity["128,2"], "runtime");
}

TEST(T4Schema, ProblemsAreNamed) {
  EXPECT_FALSE(t4_problems("[]").empty());
  const auto problems = t4_problems(R"({"schema_version": "1.0", "metadata": {"timeunit": "weeks"},
    "results": [{"configuration": {}, "times": {"runtimes": ["x"]}, "invalidity": "bad", "correctness": 2}, {"times": {}}]})");
  const std::string all = [&] {
    std::string s;
    for (const auto& p : problems) s += p + "\n";
    return s;
  }();
  for (const char* expected : {"schema_version: \"1.0\" is not major.minor.patch", "metadata.timeunit",
                               "results[0].times.runtimes", "results[0].invalidity", "results[0].correctness",
                               "results[1]: missing required configuration", "results[1]: missing required invalidity"})
    EXPECT_NE(all.find(expected), std::string::npos) << expected << "\n" << all;
}

TEST_F(Exported, AWisdomFileListsTheFastestCorrectConfigurations) {
  const std::string text = to_wisdom("toy_key", {tuning}).value_or_throw();
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);
  const json header = json::parse(line);
  EXPECT_EQ(header["version"], "1.0");
  EXPECT_EQ(header["objective"], "time");
  EXPECT_EQ(header["key"], "toy_key");
  EXPECT_EQ(header["tunable_parameters"], json::array({"BX", "TX"}));
  std::vector<json> records;
  while (std::getline(lines, line)) records.push_back(json::parse(line));
  ASSERT_EQ(records.size(), 2u);  // the two correct ones; failures are not wisdom
  EXPECT_EQ(records[0]["config"], json::array({64, 1}));
  EXPECT_EQ(records[0]["time"], 0.75);
  EXPECT_EQ(records[1]["config"], json::array({32, 1}));
  EXPECT_EQ(records[0]["problem_size"], json::array({4096, 1, 1}));
  EXPECT_EQ(records[0]["environment"]["device_name"], "NVIDIA RTX A6000");
  EXPECT_EQ(records[0]["environment"]["compute_capability"], 86);
}

TEST_F(Exported, TheCliWritesEachFormatAndNeverOverTheStore) {
  const std::string db = (scratch / "ktune.db").string();
  for (const char* format : {"kernel-tuner", "t4", "wisdom"}) {
    const auto out = scratch / (std::string("out.") + format);
    auto run = run_ktune("export --db " + db + " --format " + format + " -o " + out.string());
    EXPECT_EQ(run.status, 0) << format << ": " << run.output;
    std::ifstream in(out);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_FALSE(text.str().empty()) << format;
    if (std::string(format) == "t4") {
      EXPECT_TRUE(t4_problems(text.str()).empty());
    }
    if (std::string(format) == "kernel-tuner") {
      EXPECT_TRUE(parse_kernel_tuner_cache(text.str(), spec, import_options, "cli").ok());
    }
  }
  auto named = run_ktune("export --db " + db + " --format kernel-tuner --kernel-name vector_add");
  EXPECT_EQ(named.status, 0) << named.output;
  EXPECT_EQ(json::parse(named.output)["kernel_name"], "vector_add");
  auto clobber = run_ktune("export --db " + db + " --format kernel-tuner -o " + db);
  EXPECT_NE(clobber.status, 0) << clobber.output;
  EXPECT_TRUE(store::Store::open(db).ok());
  auto none = run_ktune("export --db " + db + " --format t4 --size N=1");
  EXPECT_EQ(none.status, 1) << none.output;
  EXPECT_NE(none.output.find("no tuned entries match the filter"), std::string::npos) << none.output;
  auto one = run_ktune("export --db " + db + " --format t4 --size N=4096");
  EXPECT_EQ(one.status, 0) << one.output;
  EXPECT_TRUE(t4_problems(one.output).empty()) << one.output;
}

}  // namespace
