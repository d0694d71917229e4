// Kernel Tuner cache files in (engine/kernel_tuner_import.hpp): small hand-made caches for each
// rule, and a real recorded sweep (convolution on an RTX A6000, tests/data/kernel_tuner/README.md).
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>

#include "engine/kernel_tuner_import.hpp"
#include "engine/replay.hpp"
#include "engine/model/toolchain.hpp"
#include "engine/model/tuning_question.hpp"
#include "helpers/kernel_tuner_toy_spec.hpp"
#include "helpers/run_ktune.hpp"
#include "helpers/scratch_dir.hpp"

namespace {

using namespace ktune;
using ktune::testing::ScratchDir;

const char* const kSpec = ktune::testing::kKernelTunerToySpec;

// A cache as Kernel Tuner writes it, with `entries` as the "cache" object's body.
std::string cache_text(const std::string& entries, const std::string& problem_size = "[4096]",
                       const std::string& keys = R"(["BX", "TX"])") {
  return R"({"device_name": "NVIDIA RTX A6000", "kernel_name": "toy", "problem_size": )" + problem_size +
         R"(, "tune_params_keys": )" + keys + R"(, "tune_params": {"BX": [32, 64, 128], "TX": [1, 2, 4]}, "objective": "time", "cache": {)" +
         entries + "}}";
}

const std::string kGoodEntries =
    R"("32,1": {"BX": 32, "TX": 1, "time": 1.5, "times": [1.4, 1.5, 1.6], "compile_time": 250.0, "timestamp": "2023-12-22 09:53:48.691683+00:00"},
       "64,1": {"BX": 64, "TX": 1, "time": 0.75},
       "64,2": {"BX": 64, "TX": 2, "time": "InvalidConfig"},
       "128,1": {"BX": 128, "TX": 1, "time": "CompilationFailedConfig"},
       "128,2": {"BX": 128, "TX": 2, "time": "RuntimeFailedConfig"})";

void write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

void write_gzip(const std::filesystem::path& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

struct Import : ::testing::Test {
  void SetUp() override {
    spec = KernelSpec::from_json_text(kSpec).value_or_throw();
    store.emplace(store::Store::open(scratch / "ktune.db").value_or_throw());
  }
  std::int64_t stored() { return store->stats().value_or_throw().measurements; }
  std::vector<store::Measurement> measurements(const KernelTunerImportSummary& s) {
    return store->measurements_for(s.tuning_key).value_or_throw();
  }
  ScratchDir scratch{"ktune-kt-import"};
  KernelSpec spec;
  std::optional<store::Store> store;
};

TEST_F(Import, AGoodCacheBecomesRecordedMeasurementsOfTheSpecsKernel) {
  write(scratch / "c.json", cache_text(kGoodEntries));
  KernelTunerImportOptions options;
  options.arch = "sm_86";
  auto summary = import_kernel_tuner_cache(scratch / "c.json", spec, *store, options);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->entries, 5u);
  EXPECT_EQ(summary->sizes, (Sizes{{"N", 4096}}));
  EXPECT_EQ(summary->device.name, "NVIDIA RTX A6000");
  EXPECT_EQ(summary->device.arch, "sm_86");
  // Filed under the question a tuning of this spec on that device asks, so replay and tune find it.
  TuningQuestion question{&spec, {{"N", 4096}}, {"NVIDIA RTX A6000", "sm_86"}, current_toolchain()};
  EXPECT_EQ(summary->tuning_key, question.tuning_record().tuning_key);

  std::map<Config, store::Measurement> by_config;
  for (auto& m : measurements(*summary)) by_config[m.config] = m;
  ASSERT_EQ(by_config.size(), 5u);
  const auto& first = by_config.at({{"BX", 32}, {"TX", 1}});
  EXPECT_EQ(first.status, MeasurementStatus::ok);
  ASSERT_TRUE(first.timing);
  EXPECT_DOUBLE_EQ(first.timing->median_ns, 1.5e6);  // Kernel Tuner's ms → ns
  EXPECT_DOUBLE_EQ(first.timing->min_ns, 1.4e6);
  EXPECT_NEAR(first.timing->mean_ns, 1.5e6, 1e-3);
  EXPECT_NEAR(first.timing->stddev_ns, 0.1e6, 1e-3);
  EXPECT_EQ(first.timing->samples, 3);
  EXPECT_DOUBLE_EQ(*first.compile_seconds, 0.25);
  EXPECT_EQ(first.measured_at, 1703238828);  // 2023-12-22 09:53:48 UTC
  EXPECT_DOUBLE_EQ(by_config.at({{"BX", 64}, {"TX", 1}}).timing->median_ns, 0.75e6);
  EXPECT_EQ(by_config.at({{"BX", 64}, {"TX", 2}}).status, MeasurementStatus::invalid_config);
  EXPECT_EQ(by_config.at({{"BX", 128}, {"TX", 1}}).status, MeasurementStatus::compile_error);
  EXPECT_EQ(by_config.at({{"BX", 128}, {"TX", 2}}).status, MeasurementStatus::launch_error);
  EXPECT_EQ(summary->by_status.at("ok"), 2u);
}

TEST_F(Import, GzipAndPlainFilesReadTheSame) {
  write_gzip(scratch / "c.json.gz", cache_text(kGoodEntries));
  auto summary = import_kernel_tuner_cache(scratch / "c.json.gz", spec, *store);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->entries, 5u);
  EXPECT_EQ(summary->device.arch, "unknown");  // Kernel Tuner does not record it
}

struct BadCase {
  const char* what;
  std::string text;
  const char* expected;  // in the one-line error
};

TEST_F(Import, ABadEntryIsNamedAndNothingIsWritten) {
  const std::string alone = R"("32,1": {"BX": 32, "TX": 1, "time": 1.0})";
  const std::string good = alone + ", ";
  const BadCase cases[] = {
      {"parameter not in the spec", cache_text(good + R"("64,1,7": {"BX": 64, "TX": 1, "UNROLL": 7, "time": 1.0})", "[4096]", R"(["BX", "TX", "UNROLL"])"),
       "entry '32,1': parameter UNROLL is not a parameter of spec toy"},
      {"value not in the list", cache_text(good + R"("48,1": {"BX": 48, "TX": 1, "time": 1.0})"),
       "entry '48,1': BX=48 is not one of 32, 64, 128"},
      {"breaks a constraint", cache_text(good + R"("128,4": {"BX": 128, "TX": 4, "time": 1.0})"),
       "entry '128,4': constraint \"BX * TX <= 256\" is false"},
      {"unknown marker", cache_text(good + R"("64,1": {"BX": 64, "TX": 1, "time": "SkippedConfig"})"),
       "entry '64,1': time \"SkippedConfig\" is neither a number nor InvalidConfig"},
      {"no value", cache_text(good + R"("64,1": {"BX": 64, "time": 1.0})"), "entry '64,1': no value for parameter TX"},
      {"not an integer", cache_text(good + R"("64,1": {"BX": 64.5, "TX": 1, "time": 1.0})"), "entry '64,1': BX=64.5 is not an integer"},
      {"negative time", cache_text(good + R"("64,1": {"BX": 64, "TX": 1, "time": -1})"), "entry '64,1': time -1 is not a positive number"},
      {"spec parameter missing from the cache", cache_text(alone, "[4096]", R"(["BX"])"), "the cache has no parameter TX of spec toy"},
      {"problem_size does not map", cache_text(alone, "[4096, 4096]"), "cannot be mapped onto the spec's sizes (N); give them (--sizes)"},
      {"not JSON", "{\"cache\": ", "not valid JSON"},
      {"not a cache", R"({"results": []})", "no \"cache\" object"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    write(scratch / "bad.json", c.text);
    auto summary = import_kernel_tuner_cache(scratch / "bad.json", spec, *store);
    ASSERT_FALSE(summary.ok());
    EXPECT_NE(summary.error().message.find(c.expected), std::string::npos) << summary.error().message;
    EXPECT_EQ(summary.error().message.find('\n'), std::string::npos) << "one line";
    EXPECT_EQ(stored(), 0);  // all or nothing: the good entry before the bad one is not written either
  }
}

TEST_F(Import, GivenSizesAndDeviceOverrideTheCaches) {
  // Kernel Tuner's problem_size is the launch grid's extent, not always the kernel's sizes.
  write(scratch / "c.json", cache_text(kGoodEntries, "[4096, 1]"));
  KernelTunerImportOptions options;
  options.sizes = Sizes{{"N", 1000}};
  options.device = "AMD Instinct MI250X";
  options.arch = "gfx90a";
  auto summary = import_kernel_tuner_cache(scratch / "c.json", spec, *store, options);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->sizes, (Sizes{{"N", 1000}}));
  EXPECT_EQ(summary->device.name, "AMD Instinct MI250X");
}

TEST_F(Import, ACorruptGzipIsACorruptFileError) {
  write_gzip(scratch / "c.json.gz", cache_text(kGoodEntries));
  std::string bytes;
  {
    std::ifstream in(scratch / "c.json.gz", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  write(scratch / "truncated.json.gz", bytes.substr(0, bytes.size() / 2));
  std::string flipped = bytes;
  for (std::size_t i = 12; i < flipped.size() - 8; i += 7) flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
  write(scratch / "flipped.json.gz", flipped);
  for (const char* name : {"truncated.json.gz", "flipped.json.gz"}) {
    SCOPED_TRACE(name);
    auto summary = import_kernel_tuner_cache(scratch / name, spec, *store);
    ASSERT_FALSE(summary.ok());
    EXPECT_EQ(summary.error().code, Errc::corrupt);
    EXPECT_NE(summary.error().message.find(name), std::string::npos) << summary.error().message;
    EXPECT_EQ(stored(), 0);
  }
  auto missing = import_kernel_tuner_cache(scratch / "missing.json.gz", spec, *store);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::io);
}

// A real sweep: 2D convolution on an RTX A6000, exactly as Kernel Tuner wrote it.
TEST_F(Import, TheRecordedA6000ConvolutionSweepImportsAndReplays) {
  const std::string data = std::string(KTUNE_SOURCE_DIR) + "/tests/data/kernel_tuner/";
  auto conv = KernelSpec::from_file(data + "convolution_milo.A6000.spec.json").value_or_throw();
  KernelTunerImportOptions options;
  options.arch = "sm_86";
  auto summary = import_kernel_tuner_cache(data + "convolution_milo.A6000.kt-cache.json.gz", conv, *store, options);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->entries, 4362u);  // the whole valid space of its spec
  EXPECT_EQ(summary->by_status.at("ok"), 3889u);
  EXPECT_EQ(summary->by_status.at("compile_error"), 252u);
  EXPECT_EQ(summary->by_status.at("launch_error"), 221u);
  EXPECT_EQ(summary->sizes, (Sizes{{"W", 4096}, {"H", 4096}}));

  TuneOptions exhaustive;
  exhaustive.strategy = "exhaustive";
  auto report = replay(conv, summary->sizes, summary->device, summary->toolchain, *store, exhaustive);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->run.evaluated, 4362u);
  EXPECT_EQ(report->run.best, report->recorded_best);
  EXPECT_EQ(report->run.best, (Config{{"block_size_x", 128}, {"block_size_y", 1}, {"tile_size_x", 2}, {"tile_size_y", 4},
                                      {"read_only", 0}, {"use_padding", 0}, {"use_shmem", 0}, {"use_cmem", 1},
                                      {"filter_height", 15}, {"filter_width", 15}}));
  EXPECT_NEAR(report->run.best_ns, 603e3, 1e3);
}

TEST_F(Import, TheCommandLineImportsACacheAndRefusesABadOne) {
  const std::string data = std::string(KTUNE_SOURCE_DIR) + "/tests/data/kernel_tuner/";
  write(scratch / "c.json", cache_text(kGoodEntries));
  write(scratch / "toy.json", kSpec);
  const std::string db = (scratch / "cli.db").string();
  auto ok = ktune::testing::run_ktune("import --format kernel-tuner " + (scratch / "c.json").string() + " --spec " +
                                      (scratch / "toy.json").string() + " --db " + db + " --arch sm_86");
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("imported 5 measurements of toy (1 compile_error, 1 invalid_config, 1 launch_error, 2 ok) at N=4096 on NVIDIA RTX A6000 (sm_86"),
            std::string::npos) << ok.output;
  auto bad = ktune::testing::run_ktune("import --format kernel-tuner " + data + "convolution_milo.MI250X.kt-cache-trimmed.json.gz --spec " +
                                       data + "convolution_milo.MI250X.spec.json --db " + db);
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("the cache names no device (device_name is empty); give one (--device)"), std::string::npos) << bad.output;
  auto stray = ktune::testing::run_ktune("import " + (scratch / "c.json").string() + " --spec x.json --db " + db);
  EXPECT_NE(stray.status, 0);
  EXPECT_NE(stray.output.find("belong to --format kernel-tuner"), std::string::npos) << stray.output;
}

}  // namespace
