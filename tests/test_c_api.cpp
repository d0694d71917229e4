// The C API (engine/ktune.h) from C++: status codes and thread-local messages, NULL arguments,
// spec and size errors, the four lookup rules against the recorded H100 table (no GPU needed when
// the device is named), tune without a GPU, and handles created and destroyed many times.
#include "engine/ktune.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <barrier>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/common/result.hpp"
#include "store/store.hpp"
#include "store/table_format.hpp"

namespace {

const std::string kSource = KTUNE_SOURCE_DIR;
const std::string kSgemm = kSource + "/examples/sgemm.json";
const char* const kH100 = "NVIDIA H100 80GB HBM3";
const char* const kSizeNames[] = {"M", "N", "K"};

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string message() { return ktune_last_error_message(); }

// The C status values are part of the ABI and mirror ktune::Errc one to one.
static_assert(KTUNE_OK == 0);
static_assert(KTUNE_ERROR_INVALID_SPEC == 1 && KTUNE_ERROR_INTERNAL == 9);
static_assert(static_cast<int>(ktune::Errc::invalid_spec) + 1 == KTUNE_ERROR_INVALID_SPEC);
static_assert(static_cast<int>(ktune::Errc::invalid_argument) + 1 == KTUNE_ERROR_INVALID_ARGUMENT);
static_assert(static_cast<int>(ktune::Errc::io) + 1 == KTUNE_ERROR_IO);
static_assert(static_cast<int>(ktune::Errc::not_found) + 1 == KTUNE_ERROR_NOT_FOUND);
static_assert(static_cast<int>(ktune::Errc::no_gpu) + 1 == KTUNE_ERROR_NO_GPU);
static_assert(static_cast<int>(ktune::Errc::corrupt) + 1 == KTUNE_ERROR_CORRUPT);
static_assert(static_cast<int>(ktune::Errc::conflict) + 1 == KTUNE_ERROR_CONFLICT);
static_assert(static_cast<int>(ktune::Errc::unsupported) + 1 == KTUNE_ERROR_UNSUPPORTED);
static_assert(static_cast<int>(ktune::Errc::internal) + 1 == KTUNE_ERROR_INTERNAL);

class CApi : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ktune-c-api-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = (dir_ / "store.db").string();
    ASSERT_EQ(ktune_spec_load_file(kSgemm.c_str(), &spec_), KTUNE_OK) << message();
  }
  void TearDown() override {
    ktune_answer_destroy(answer_);
    ktune_spec_destroy(spec_);
    ktune_engine_destroy(engine_);
    std::filesystem::remove_all(dir_);
  }

  void import_h100_table() {
    auto table = ktune::store::table_from_json(read(kSource + "/tests/data/h100-sgemm-table.json")).value_or_throw();
    auto store = ktune::store::Store::open(db_).value_or_throw();
    auto summary = store.import_table(table);
    ASSERT_TRUE(summary.ok()) << summary.error().message;
  }

  void open_engine() { ASSERT_EQ(ktune_engine_create(db_.c_str(), &engine_), KTUNE_OK) << message(); }

  // Looks up M, N, K on `device`/`arch`; the answer replaces answer_.
  ktune_status lookup(std::int64_t m, std::int64_t n, std::int64_t k, const char* device = kH100,
                      const char* arch = "sm_90") {
    ktune_answer_destroy(answer_);
    answer_ = nullptr;
    const std::int64_t values[] = {m, n, k};
    return ktune_lookup(engine_, spec_, kSizeNames, values, 3, device, arch, &answer_);
  }

  ktune_rule rule() const {
    ktune_rule r = KTUNE_RULE_TUNED;
    EXPECT_EQ(ktune_answer_rule(answer_, &r), KTUNE_OK);
    return r;
  }
  std::string config() const {
    const char* text = nullptr;
    EXPECT_EQ(ktune_answer_config_string(answer_, &text), KTUNE_OK);
    return text ? text : "";
  }
  double time_ns() const {
    double t = -1;
    EXPECT_EQ(ktune_answer_time_ns(answer_, &t), KTUNE_OK);
    return t;
  }
  std::string tuned_device() const {
    const char* d = nullptr;
    EXPECT_EQ(ktune_answer_tuned_device(answer_, &d), KTUNE_OK);
    return d ? d : "";
  }

  std::filesystem::path dir_;
  std::string db_;
  ktune_spec* spec_ = nullptr;
  ktune_engine* engine_ = nullptr;
  ktune_answer* answer_ = nullptr;
};

TEST(CApiInfo, VersionsAndNames) {
  EXPECT_EQ(ktune_c_api_version(), KTUNE_C_API_VERSION);
  EXPECT_EQ(KTUNE_C_API_VERSION, 1);
  EXPECT_STREQ(ktune_version(), "0.1.0");
  EXPECT_STREQ(ktune_status_name(KTUNE_OK), "ok");
  EXPECT_STREQ(ktune_status_name(KTUNE_ERROR_NO_GPU), "no_gpu");
  EXPECT_STREQ(ktune_status_name(static_cast<ktune_status>(15)), "unknown");
  EXPECT_STREQ(ktune_rule_name(KTUNE_RULE_NEAREST_SIZE), "nearest_size");
  EXPECT_STREQ(ktune_rule_name(KTUNE_RULE_DEFAULT), "default");
  // The status names are ktune::Errc's.
  for (int code = 0; code <= static_cast<int>(ktune::Errc::internal); ++code)
    EXPECT_STREQ(ktune_status_name(static_cast<ktune_status>(code + 1)), ktune::errc_name(static_cast<ktune::Errc>(code)));
}

TEST_F(CApi, EveryNullArgumentIsAnInvalidArgumentWithAMessage) {
  open_engine();
  ASSERT_EQ(lookup(4096, 4096, 4096), KTUNE_OK) << message();
  const std::int64_t values[] = {1, 2, 3};
  ktune_engine* engine = nullptr;
  ktune_spec* spec = nullptr;
  ktune_answer* answer = nullptr;
  const char* text = nullptr;
  const char* text2 = nullptr;
  std::int64_t value = 0;
  std::size_t count = 0;
  double number = 0;
  ktune_rule r{};
  ktune_tune_options options{};
  const char* const names_with_null[] = {"M", nullptr, "K"};

  struct Case {
    const char* call;
    const char* names;  // what the message must mention
    ktune_status status;
  };
  const std::vector<Case> cases = {
      {"ktune_engine_create(out)", "out", ktune_engine_create(db_.c_str(), nullptr)},
      {"ktune_engine_store_path(engine)", "engine", ktune_engine_store_path(nullptr, &text)},
      {"ktune_engine_store_path(out)", "out", ktune_engine_store_path(engine_, nullptr)},
      {"ktune_engine_device(engine)", "engine", ktune_engine_device(nullptr, &text, &text2)},
      {"ktune_engine_device(name)", "name", ktune_engine_device(engine_, nullptr, &text2)},
      {"ktune_engine_device(arch)", "arch", ktune_engine_device(engine_, &text, nullptr)},
      {"ktune_spec_load_file(path)", "path", ktune_spec_load_file(nullptr, &spec)},
      {"ktune_spec_load_file(out)", "out", ktune_spec_load_file(kSgemm.c_str(), nullptr)},
      {"ktune_spec_load_json(json_text)", "json_text", ktune_spec_load_json(nullptr, nullptr, &spec)},
      {"ktune_spec_load_json(out)", "out", ktune_spec_load_json("{}", nullptr, nullptr)},
      {"ktune_spec_name(spec)", "spec", ktune_spec_name(nullptr, &text)},
      {"ktune_spec_name(out)", "out", ktune_spec_name(spec_, nullptr)},
      {"ktune_spec_size_count(spec)", "spec", ktune_spec_size_count(nullptr, &count)},
      {"ktune_spec_size_count(out)", "out", ktune_spec_size_count(spec_, nullptr)},
      {"ktune_spec_size_name(spec)", "spec", ktune_spec_size_name(nullptr, 0, &text)},
      {"ktune_spec_size_name(out)", "out", ktune_spec_size_name(spec_, 0, nullptr)},
      {"ktune_lookup(engine)", "engine", ktune_lookup(nullptr, spec_, kSizeNames, values, 3, kH100, "sm_90", &answer)},
      {"ktune_lookup(spec)", "spec", ktune_lookup(engine_, nullptr, kSizeNames, values, 3, kH100, "sm_90", &answer)},
      {"ktune_lookup(size_names)", "size_names", ktune_lookup(engine_, spec_, nullptr, values, 3, kH100, "sm_90", &answer)},
      {"ktune_lookup(size_values)", "size_values", ktune_lookup(engine_, spec_, kSizeNames, nullptr, 3, kH100, "sm_90", &answer)},
      {"ktune_lookup(size_names[1])", "size_names[1]",
       ktune_lookup(engine_, spec_, names_with_null, values, 3, kH100, "sm_90", &answer)},
      {"ktune_lookup(out)", "out", ktune_lookup(engine_, spec_, kSizeNames, values, 3, kH100, "sm_90", nullptr)},
      {"ktune_tune_options_init(options)", "options", ktune_tune_options_init(nullptr)},
      {"ktune_tune(engine)", "engine", ktune_tune(nullptr, spec_, kSizeNames, values, 3, &options, &answer)},
      {"ktune_tune(spec)", "spec", ktune_tune(engine_, nullptr, kSizeNames, values, 3, &options, &answer)},
      {"ktune_tune(size_names)", "size_names", ktune_tune(engine_, spec_, nullptr, values, 3, &options, &answer)},
      {"ktune_tune(size_values)", "size_values", ktune_tune(engine_, spec_, kSizeNames, nullptr, 3, &options, &answer)},
      {"ktune_tune(out)", "out", ktune_tune(engine_, spec_, kSizeNames, values, 3, &options, nullptr)},
      {"ktune_answer_rule(answer)", "answer", ktune_answer_rule(nullptr, &r)},
      {"ktune_answer_rule(out)", "out", ktune_answer_rule(answer_, nullptr)},
      {"ktune_answer_param_count(answer)", "answer", ktune_answer_param_count(nullptr, &count)},
      {"ktune_answer_param_count(out)", "out", ktune_answer_param_count(answer_, nullptr)},
      {"ktune_answer_param(answer)", "answer", ktune_answer_param(nullptr, 0, &text, &value)},
      {"ktune_answer_param(name)", "name", ktune_answer_param(answer_, 0, nullptr, &value)},
      {"ktune_answer_param(value)", "value", ktune_answer_param(answer_, 0, &text, nullptr)},
      {"ktune_answer_get(answer)", "answer", ktune_answer_get(nullptr, "BM", &value)},
      {"ktune_answer_get(name)", "name", ktune_answer_get(answer_, nullptr, &value)},
      {"ktune_answer_get(value)", "value", ktune_answer_get(answer_, "BM", nullptr)},
      {"ktune_answer_config_string(answer)", "answer", ktune_answer_config_string(nullptr, &text)},
      {"ktune_answer_config_string(out)", "out", ktune_answer_config_string(answer_, nullptr)},
      {"ktune_answer_time_ns(answer)", "answer", ktune_answer_time_ns(nullptr, &number)},
      {"ktune_answer_time_ns(out)", "out", ktune_answer_time_ns(answer_, nullptr)},
      {"ktune_answer_tuned_device(answer)", "answer", ktune_answer_tuned_device(nullptr, &text)},
      {"ktune_answer_tuned_device(out)", "out", ktune_answer_tuned_device(answer_, nullptr)},
      {"ktune_answer_distance(answer)", "answer", ktune_answer_distance(nullptr, &number)},
      {"ktune_answer_distance(out)", "out", ktune_answer_distance(answer_, nullptr)},
  };
  // Each call above ran (in order) before this loop; check them one at a time with its message.
  for (const auto& c : cases) EXPECT_EQ(c.status, KTUNE_ERROR_INVALID_ARGUMENT) << c.call;
  // Messages are per call: re-run each kind of failure and read the message right after it.
  auto expect_message = [](ktune_status status, const std::string& want) {
    EXPECT_EQ(status, KTUNE_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(message(), want);
  };
  expect_message(ktune_engine_create(db_.c_str(), nullptr), "ktune_engine_create: out is NULL");
  expect_message(ktune_spec_load_file(nullptr, &spec), "ktune_spec_load_file: path is NULL");
  expect_message(ktune_lookup(engine_, nullptr, kSizeNames, values, 3, kH100, "sm_90", &answer), "ktune_lookup: spec is NULL");
  expect_message(ktune_lookup(engine_, spec_, names_with_null, values, 3, kH100, "sm_90", &answer),
                 "ktune_lookup: size_names[1] is NULL");
  expect_message(ktune_lookup(engine_, spec_, kSizeNames, nullptr, 3, kH100, "sm_90", &answer),
                 "ktune_lookup: size_values is NULL");
  expect_message(ktune_tune(engine_, spec_, kSizeNames, values, 3, &options, nullptr), "ktune_tune: out is NULL");
  expect_message(ktune_answer_get(answer_, nullptr, &value), "ktune_answer_get: name is NULL");
  expect_message(ktune_answer_param(answer_, 0, &text, nullptr), "ktune_answer_param: value is NULL");
  // Nothing was handed out by the failed calls.
  EXPECT_EQ(engine, nullptr);
  EXPECT_EQ(spec, nullptr);
  EXPECT_EQ(answer, nullptr);
  // Destroying NULL is allowed, like free().
  ktune_engine_destroy(nullptr);
  ktune_spec_destroy(nullptr);
  ktune_answer_destroy(nullptr);
  // A success clears the message.
  EXPECT_EQ(ktune_spec_name(spec_, &text), KTUNE_OK);
  EXPECT_EQ(message(), "");
}

TEST_F(CApi, InvalidSpecNamesTheField) {
  std::string text = read(kSgemm);
  const std::string good = "\"BM % TM == 0\"";
  ASSERT_NE(text.find(good), std::string::npos);
  std::string bad = text;
  bad.replace(bad.find(good), good.size(), "\"BM % XX == 0\"");
  ktune_spec* spec = nullptr;
  EXPECT_EQ(ktune_spec_load_json(bad.c_str(), (kSource + "/examples").c_str(), &spec), KTUNE_ERROR_INVALID_SPEC);
  EXPECT_EQ(spec, nullptr);
  EXPECT_NE(message().find("constraints[0]"), std::string::npos) << message();
  EXPECT_NE(message().find("XX"), std::string::npos) << message();

  EXPECT_EQ(ktune_spec_load_json("{\"ktune_spec\": 1}", nullptr, &spec), KTUNE_ERROR_INVALID_SPEC);
  EXPECT_NE(message().find("name"), std::string::npos) << message();
  EXPECT_EQ(ktune_spec_load_json("{ not json", nullptr, &spec), KTUNE_ERROR_INVALID_SPEC);
  EXPECT_FALSE(message().empty());

  // The same text with its folder resolves "source": "sgemm.cu"; without it, the error names it.
  ASSERT_EQ(ktune_spec_load_json(text.c_str(), (kSource + "/examples").c_str(), &spec), KTUNE_OK) << message();
  const char* name = nullptr;
  EXPECT_EQ(ktune_spec_name(spec, &name), KTUNE_OK);
  EXPECT_STREQ(name, "sgemm_tiled");
  ktune_spec_destroy(spec);
  spec = nullptr;
  EXPECT_NE(ktune_spec_load_json(text.c_str(), (dir_ / "elsewhere").c_str(), &spec), KTUNE_OK);
  EXPECT_NE(message().find("source"), std::string::npos) << message();

  EXPECT_EQ(ktune_spec_load_file((dir_ / "missing.json").c_str(), &spec), KTUNE_ERROR_NOT_FOUND);
  EXPECT_NE(message().find("missing.json"), std::string::npos) << message();
}

TEST_F(CApi, SpecSizeNames) {
  std::size_t count = 0;
  ASSERT_EQ(ktune_spec_size_count(spec_, &count), KTUNE_OK);
  ASSERT_EQ(count, 3u);
  const char* name = nullptr;
  EXPECT_EQ(ktune_spec_size_name(spec_, 2, &name), KTUNE_OK);
  EXPECT_STREQ(name, "K");
  EXPECT_EQ(ktune_spec_size_name(spec_, 3, &name), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("out of range"), std::string::npos) << message();
}

TEST_F(CApi, SizeErrorsNameTheSize) {
  open_engine();
  const std::int64_t values[] = {4096, 4096, 4096};
  ktune_answer* answer = nullptr;
  EXPECT_EQ(ktune_lookup(engine_, spec_, kSizeNames, values, 2, kH100, "sm_90", &answer), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("missing size K"), std::string::npos) << message();
  EXPECT_EQ(ktune_lookup(engine_, spec_, nullptr, nullptr, 0, kH100, "sm_90", &answer), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("missing size M"), std::string::npos) << message();
  const char* const unknown[] = {"M", "N", "Q"};
  EXPECT_EQ(ktune_lookup(engine_, spec_, unknown, values, 3, kH100, "sm_90", &answer), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("unknown size Q"), std::string::npos) << message();
  const char* const twice[] = {"M", "N", "K", "N"};
  const std::int64_t four[] = {4096, 4096, 4096, 1024};
  EXPECT_EQ(ktune_lookup(engine_, spec_, twice, four, 4, kH100, "sm_90", &answer), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("size N is given twice"), std::string::npos) << message();
  const std::int64_t negative[] = {4096, -1, 4096};
  EXPECT_EQ(ktune_lookup(engine_, spec_, kSizeNames, negative, 3, kH100, "sm_90", &answer), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("size N is negative"), std::string::npos) << message();
  EXPECT_EQ(answer, nullptr);
}

TEST_F(CApi, EmptyStoreAnswersTheSpecDefault) {
  open_engine();
  const char* path = nullptr;
  ASSERT_EQ(ktune_engine_store_path(engine_, &path), KTUNE_OK);
  EXPECT_EQ(std::string(path), db_);
  ASSERT_EQ(lookup(4096, 4096, 4096), KTUNE_OK) << message();
  EXPECT_EQ(rule(), KTUNE_RULE_DEFAULT);
  EXPECT_EQ(config(), "BM=64 BN=64 BK=8 TM=4 TN=4");
  EXPECT_TRUE(std::isnan(time_ns()));
  EXPECT_EQ(tuned_device(), "");
  double distance = -1;
  EXPECT_EQ(ktune_answer_distance(answer_, &distance), KTUNE_OK);
  EXPECT_EQ(distance, 0);
}

TEST_F(CApi, ExactAnswerFromTheImportedH100Table) {
  import_h100_table();
  open_engine();
  ASSERT_EQ(lookup(4096, 4096, 4096), KTUNE_OK) << message();
  EXPECT_EQ(rule(), KTUNE_RULE_EXACT);
  EXPECT_EQ(config(), "BM=128 BN=128 BK=16 TM=8 TN=8");
  EXPECT_DOUBLE_EQ(time_ns(), 4962294.5);
  EXPECT_EQ(tuned_device(), kH100);

  std::size_t count = 0;
  ASSERT_EQ(ktune_answer_param_count(answer_, &count), KTUNE_OK);
  ASSERT_EQ(count, 5u);
  const char* name = nullptr;
  std::int64_t value = 0;
  ASSERT_EQ(ktune_answer_param(answer_, 2, &name, &value), KTUNE_OK);
  EXPECT_STREQ(name, "BK");
  EXPECT_EQ(value, 16);
  EXPECT_EQ(ktune_answer_param(answer_, 5, &name, &value), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("index 5 is out of range"), std::string::npos) << message();
  ASSERT_EQ(ktune_answer_get(answer_, "TN", &value), KTUNE_OK);
  EXPECT_EQ(value, 8);
  EXPECT_EQ(ktune_answer_get(answer_, "XX", &value), KTUNE_ERROR_NOT_FOUND);
  EXPECT_NE(message().find("no parameter XX"), std::string::npos) << message();
  EXPECT_EQ(value, 8);  // untouched on failure

  // Sizes in any order ask the same question.
  const char* const reversed[] = {"K", "N", "M"};
  const std::int64_t values[] = {1024, 4096, 4096};
  ktune_answer* other = nullptr;
  ASSERT_EQ(ktune_lookup(engine_, spec_, reversed, values, 3, kH100, "sm_90", &other), KTUNE_OK) << message();
  const char* text = nullptr;
  ktune_rule r{};
  EXPECT_EQ(ktune_answer_rule(other, &r), KTUNE_OK);
  EXPECT_EQ(r, KTUNE_RULE_EXACT);
  EXPECT_EQ(ktune_answer_config_string(other, &text), KTUNE_OK);
  EXPECT_STREQ(text, "BM=64 BN=128 BK=16 TM=8 TN=4");
  ktune_answer_destroy(other);
}

TEST_F(CApi, NearestSizeAndSameArchitecture) {
  import_h100_table();
  open_engine();
  // 8192^3 is three factors of two from the tuned 4096^3 (the closest entry).
  ASSERT_EQ(lookup(8192, 8192, 8192), KTUNE_OK) << message();
  EXPECT_EQ(rule(), KTUNE_RULE_NEAREST_SIZE);
  EXPECT_EQ(config(), "BM=128 BN=128 BK=16 TM=8 TN=8");
  EXPECT_DOUBLE_EQ(time_ns(), 4962294.5);  // the entry's own time, at its own sizes
  double distance = 0;
  EXPECT_EQ(ktune_answer_distance(answer_, &distance), KTUNE_OK);
  EXPECT_DOUBLE_EQ(distance, 3.0);

  ASSERT_EQ(lookup(1024, 1024, 1024, "NVIDIA H100 PCIe", "sm_90"), KTUNE_OK) << message();
  EXPECT_EQ(rule(), KTUNE_RULE_SAME_ARCH);
  EXPECT_EQ(config(), "BM=64 BN=128 BK=32 TM=4 TN=4");
  EXPECT_EQ(tuned_device(), kH100);

  ASSERT_EQ(lookup(4096, 4096, 4096, "NVIDIA A100-SXM4-80GB", "sm_80"), KTUNE_OK) << message();
  EXPECT_EQ(rule(), KTUNE_RULE_DEFAULT);
  EXPECT_EQ(config(), "BM=64 BN=64 BK=8 TM=4 TN=4");
}

// Without a GPU: lookup needs the device named, tune says there is none. With one, both just work,
// and the no-GPU checks are skipped.
TEST_F(CApi, WithoutAGpu) {
  open_engine();
  const char* name = nullptr;
  const char* arch = nullptr;
  if (ktune_engine_device(engine_, &name, &arch) == KTUNE_OK) {
    GTEST_SKIP() << "a GPU is present (" << name << ", " << arch << "): the no-GPU errors cannot be checked here";
  }
  EXPECT_EQ(ktune_engine_device(engine_, &name, &arch), KTUNE_ERROR_NO_GPU);
  EXPECT_FALSE(message().empty());

  ktune_answer* answer = nullptr;
  const std::int64_t values[] = {4096, 4096, 4096};
  EXPECT_EQ(ktune_lookup(engine_, spec_, kSizeNames, values, 3, nullptr, nullptr, &answer), KTUNE_ERROR_NO_GPU);
  EXPECT_NE(message().find("pass device_name and arch"), std::string::npos) << message();
  EXPECT_EQ(ktune_lookup(engine_, spec_, kSizeNames, values, 3, kH100, nullptr, &answer), KTUNE_ERROR_NO_GPU);

  ktune_tune_options options;
  ASSERT_EQ(ktune_tune_options_init(&options), KTUNE_OK);
  options.max_evaluations = 4;
  EXPECT_EQ(ktune_tune(engine_, spec_, kSizeNames, values, 3, &options, &answer), KTUNE_ERROR_NO_GPU);
  EXPECT_FALSE(message().empty());
  EXPECT_EQ(ktune_tune(engine_, spec_, kSizeNames, values, 3, nullptr, &answer), KTUNE_ERROR_NO_GPU);
  EXPECT_EQ(answer, nullptr);
}

// Option errors are found before anything needs a GPU.
TEST_F(CApi, TuneOptionErrors) {
  open_engine();
  ktune_tune_options options;
  ASSERT_EQ(ktune_tune_options_init(&options), KTUNE_OK);
  EXPECT_EQ(options.strategy, nullptr);
  EXPECT_EQ(options.max_evaluations, 0u);
  ktune_answer* answer = nullptr;
  const std::int64_t values[] = {4096, 4096, 4096};
  options.strategy = "annealing";
  EXPECT_EQ(ktune_tune(engine_, spec_, kSizeNames, values, 3, &options, &answer), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("unknown strategy 'annealing'"), std::string::npos) << message();
  options.strategy = nullptr;
  options.max_seconds = -1;
  EXPECT_EQ(ktune_tune(engine_, spec_, kSizeNames, values, 3, &options, &answer), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("max_seconds"), std::string::npos) << message();
  EXPECT_EQ(ktune_tune(engine_, spec_, kSizeNames, values, 2, &options, &answer), KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("missing size K"), std::string::npos) << message();
  EXPECT_EQ(answer, nullptr);
}

TEST_F(CApi, ErrorMessagesAreThreadLocal) {
  import_h100_table();
  open_engine();
  std::barrier both_failed(2);
  std::barrier both_read(2);
  std::string seen_a, seen_b, after_success_b;
  ktune_status status_a = KTUNE_OK, status_b = KTUNE_OK;

  std::thread a([&] {
    ktune_answer* answer = nullptr;
    const std::int64_t values[] = {1, 2, 3};
    status_a = ktune_lookup(engine_, nullptr, kSizeNames, values, 3, kH100, "sm_90", &answer);
    both_failed.arrive_and_wait();  // b has failed differently by now
    seen_a = ktune_last_error_message();
    both_read.arrive_and_wait();
  });
  std::thread b([&] {
    ktune_answer* answer = nullptr;
    const std::int64_t values[] = {1, 2, 3};
    status_b = ktune_lookup(engine_, spec_, kSizeNames, values, 2, kH100, "sm_90", &answer);
    both_failed.arrive_and_wait();
    seen_b = ktune_last_error_message();
    both_read.arrive_and_wait();
    // A success on this thread clears this thread's message only.
    status_b = ktune_lookup(engine_, spec_, kSizeNames, values, 3, kH100, "sm_90", &answer);
    after_success_b = ktune_last_error_message();
    ktune_answer_destroy(answer);
  });
  a.join();
  b.join();
  EXPECT_EQ(status_a, KTUNE_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(seen_a, "ktune_lookup: spec is NULL");
  EXPECT_EQ(status_b, KTUNE_OK);
  EXPECT_NE(seen_b.find("missing size K"), std::string::npos) << seen_b;
  EXPECT_EQ(after_success_b, "");

  // This thread's message is its own, untouched by the others.
  ktune_tune_options options;
  ASSERT_EQ(ktune_tune_options_init(&options), KTUNE_OK);
  EXPECT_EQ(message(), "");
  EXPECT_EQ(ktune_tune_options_init(nullptr), KTUNE_ERROR_INVALID_ARGUMENT);
  std::thread c([] { (void)ktune_spec_load_file(nullptr, nullptr); });
  c.join();
  EXPECT_EQ(message(), "ktune_tune_options_init: options is NULL");
}

// One engine answers lookups from several threads at once.
TEST_F(CApi, ConcurrentLookupsOnOneEngine) {
  import_h100_table();
  open_engine();
  std::vector<std::thread> threads;
  std::vector<int> exact(4, 0);
  for (std::size_t t = 0; t < exact.size(); ++t) {
    threads.emplace_back([&, t] {
      const std::int64_t values[] = {4096, 4096, 4096};
      for (int i = 0; i < 200; ++i) {
        ktune_answer* answer = nullptr;
        if (ktune_lookup(engine_, spec_, kSizeNames, values, 3, kH100, "sm_90", &answer) != KTUNE_OK) continue;
        ktune_rule r{};
        if (ktune_answer_rule(answer, &r) == KTUNE_OK && r == KTUNE_RULE_EXACT) ++exact[t];
        ktune_answer_destroy(answer);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int n : exact) EXPECT_EQ(n, 200);
}

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Handles are released completely: 1000 rounds of engine + spec + lookup + answer leave no file
// descriptor behind (an SQLite connection left open would) and the store still answers.
TEST_F(CApi, RepeatedCreateAndDestroyLeaksNothing) {
  import_h100_table();
  const std::string json = read(kSgemm);
  const std::string examples = kSource + "/examples";
  const std::size_t before = open_descriptors();
  const std::int64_t values[] = {4096, 4096, 4096};
  int exact = 0;
  for (int i = 0; i < 1000; ++i) {
    ktune_engine* engine = nullptr;
    ktune_spec* spec = nullptr;
    ktune_answer* answer = nullptr;
    ASSERT_EQ(ktune_engine_create(db_.c_str(), &engine), KTUNE_OK) << message();
    ASSERT_EQ(ktune_spec_load_json(json.c_str(), examples.c_str(), &spec), KTUNE_OK) << message();
    ASSERT_EQ(ktune_lookup(engine, spec, kSizeNames, values, 3, kH100, "sm_90", &answer), KTUNE_OK) << message();
    ktune_rule r{};
    if (ktune_answer_rule(answer, &r) == KTUNE_OK && r == KTUNE_RULE_EXACT) ++exact;
    ktune_answer_destroy(answer);
    ktune_spec_destroy(spec);
    ktune_engine_destroy(engine);
  }
  EXPECT_EQ(exact, 1000);
  EXPECT_EQ(open_descriptors(), before);
}

}  // namespace
