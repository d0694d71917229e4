// A spec at concrete sizes: buffers, launch shapes and scalar bytes, checked before any GPU work.
#include <gtest/gtest.h>

#include <cstring>

#include "engine/model/instantiate.hpp"
#include "engine/runner/runner_protocol.hpp"

using namespace ktune;
using namespace ktune::runner;

namespace {
KernelSpec sgemm() {
  return KernelSpec::from_file(std::string(KTUNE_SOURCE_DIR) + "/examples/sgemm.json").value_or_throw();
}
}  // namespace

TEST(Problem, BuffersAndArgumentsOfTheExampleGemm) {
  KernelSpec spec = sgemm();
  auto problem = make_problem(spec, {{"M", 1000}, {"N", 2000}, {"K", 300}});
  ASSERT_TRUE(problem.ok()) << problem.error().message;
  ASSERT_EQ(problem->buffers.size(), 3u);
  EXPECT_EQ(problem->buffers[0].name, "A");
  EXPECT_EQ(problem->buffers[0].count, 300000u);
  EXPECT_EQ(problem->buffers[0].bytes, 1200000u);
  EXPECT_TRUE(problem->buffers[2].output);
  EXPECT_EQ(problem->total_bytes, 4u * (300000 + 600000 + 2000000));
  ASSERT_EQ(problem->args.size(), 6u);
  EXPECT_TRUE(problem->args[2].is_buffer);
  EXPECT_FALSE(problem->args[3].is_buffer);
  EXPECT_EQ(problem->args[5].index, 2u);  // K is the third scalar
}

TEST(Problem, LaunchPlanPerConfiguration) {
  KernelSpec spec = sgemm();
  auto plan = plan_launch(spec, {{"BM", 128}, {"BN", 64}, {"BK", 8}, {"TM", 8}, {"TN", 4}}, {{"M", 1000}, {"N", 2000}, {"K", 300}});
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->shape.grid, (std::array<std::int64_t, 3>{32, 8, 1}));
  EXPECT_EQ(plan->shape.block, (std::array<std::int64_t, 3>{256, 1, 1}));
  ASSERT_EQ(plan->scalars.size(), 3u);
  auto bytes = plan->scalars[0].bytes();
  ASSERT_EQ(bytes.size(), 4u);
  std::int32_t m = 0;
  std::memcpy(&m, bytes.data(), 4);
  EXPECT_EQ(m, 1000);
}

TEST(Problem, AbsurdSizesAreRefusedBeforeAllocating) {
  KernelSpec spec = sgemm();
  auto huge = make_problem(spec, {{"M", 1000000}, {"N", 1000000}, {"K", 1000000}});
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().message.find("would exceed 1 TiB"), std::string::npos) << huge.error().message;
  auto overflow = make_problem(spec, {{"M", 1LL << 40}, {"N", 1LL << 40}, {"K", 1LL << 40}});
  ASSERT_FALSE(overflow.ok());
  EXPECT_NE(overflow.error().message.find("integer overflow"), std::string::npos) << overflow.error().message;
}

TEST(RunnerProtocol, RequestsAndResponsesRoundTrip) {
  KernelSpec spec = sgemm();
  Sizes sizes{{"M", 64}, {"N", 64}, {"K", 64}};
  RunnerRequest problem_request;
  problem_request.op = RunnerOp::problem;
  problem_request.problem = make_problem(spec, sizes).value_or_throw();
  auto decoded = decode_request(encode_request(problem_request));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->problem.buffers.size(), 3u);
  EXPECT_EQ(decoded->problem.buffers[0].init.seed, problem_request.problem.buffers[0].init.seed);

  RunnerRequest measure;
  measure.op = RunnerOp::measure;
  measure.options.best_median_ns = 1234.5;
  measure.options.verify = VerifyMode::compare;
  for (int i = 0; i < 2; ++i) {
    KernelJob job;
    job.label = "job" + std::to_string(i);
    job.cubin = std::string("\x7f" "ELF\0\1binary", 11) + std::to_string(i);
    job.lowered_name = "sgemm";
    job.launch = plan_launch(spec, spec.default_config, sizes).value_or_throw();
    measure.jobs.push_back(job);
  }
  auto m = decode_request(encode_request(measure));
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(m->jobs.size(), 2u);
  EXPECT_EQ(m->jobs[1].cubin, measure.jobs[1].cubin);
  EXPECT_EQ(m->jobs[0].launch.shape.block, measure.jobs[0].launch.shape.block);
  EXPECT_EQ(m->options.best_median_ns, 1234.5);
  EXPECT_EQ(m->options.verify, VerifyMode::compare);

  RunnerResponse response;
  response.ok = true;
  KernelMeasurement k;
  k.status = MeasurementStatus::wrong_result;
  k.message = "C: 3 of 4096 elements differ";
  k.stats.median_ns = 42;
  k.timer = "cupti";
  response.results = {k};
  auto r = decode_response(encode_response(response));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->results[0].status, MeasurementStatus::wrong_result);
  EXPECT_EQ(r->results[0].message, k.message);
  EXPECT_EQ(r->results[0].stats.median_ns, 42);
}

TEST(RunnerProtocol, MalformedMessagesAreErrorsNotCrashes) {
  EXPECT_FALSE(decode_request("").ok());
  EXPECT_FALSE(decode_request(std::string("\xff\xff\xff\x7f{}", 6)).ok());
  EXPECT_FALSE(decode_request(std::string("\x02\0\0\0{}", 6)).ok());  // no "op"
  std::string bad_op = std::string("\x0c\0\0\0", 4) + "{\"op\":\"zap\"}";
  auto zap = decode_request(bad_op);
  ASSERT_FALSE(zap.ok());
  EXPECT_NE(zap.error().message.find("unknown runner operation 12"), std::string::npos);  // the op byte 0x0c
  RunnerRequest measure;
  measure.op = RunnerOp::measure;
  KernelJob job;
  job.cubin = "abcdef";
  measure.jobs.push_back(job);
  std::string encoded = encode_request(measure);
  auto truncated = decode_request(encoded.substr(0, encoded.size() - 3));
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.error().message.find("runs past the message"), std::string::npos);
}
