// The runner protocol's bytes are pinned (engine/runner/runner_protocol.hpp): an engine and a
// runner from different builds must agree or refuse at the hello, so any change to the encoding
// fails here and must come with a new kRunnerProtocolVersion. The expected bytes were written
// field by field from the layout, not copied from the encoder's output.
#include <gtest/gtest.h>

#include "engine/runner/runner_protocol.hpp"
#include "tests/helpers/h100_device.hpp"
#include "tests/helpers/hex.hpp"
#include "workers/process/frame.hpp"

using namespace ktune::runner;
using ktune::testing::hex;
using ktune::testing::unhex;

namespace {

RunnerHello hello_message() { return ktune::testing::h100_hello(42, "H", "0", 1ULL << 30, 62914560); }

RunnerRequest problem_message() {
  RunnerRequest r;
  r.op = RunnerOp::problem;
  BufferPlan a{"A", ktune::ElementType::f32, 4, 16, {}, true, {}, 1e-4, 1e-4};
  a.init.kind = BufferInit::Kind::random;
  a.init.seed = 7;
  r.problem.buffers = {a};
  r.problem.args = {{true, 0}, {false, 0}};
  r.problem.total_bytes = 16;
  return r;
}

RunnerRequest measure_message() {
  RunnerRequest r;
  r.op = RunnerOp::measure;
  r.options.best_median_ns = 1000.0;
  r.options.verify = VerifyMode::compare;
  KernelJob job;
  job.label = "j";
  job.lowered_name = "k";
  job.cubin = "\x7f" "ELF";
  job.launch.shape.grid = {2, 1, 1};
  job.launch.shape.block = {128, 1, 1};
  ScalarArg n;
  n.type = ktune::ElementType::i32;
  n.integer = 5;
  job.launch.scalars = {n};
  r.jobs = {job};
  return r;
}

RunnerResponse response_message() {
  RunnerResponse r;
  r.ok = true;
  KernelMeasurement m;
  m.stats.median_ns = 10.0;
  m.stats.min_ns = 9.0;
  m.stats.mean_ns = 10.5;
  m.stats.stddev_ns = 0.5;
  m.stats.noise = 0.05;
  m.stats.median_se_ns = 0.25;
  m.stats.samples = 7;
  m.phases = {0.001, 0.002, 0.003, 0.004, 0.005};
  m.stop = StopDecision::converged;
  m.verified_on_device = true;
  m.timer = "cupti";
  m.registers = 32;
  m.sm_clock_mhz = 1980;
  m.dropped_samples = 1;
  m.wall_seconds = 0.25;
  r.results = {m};
  return r;
}

}  // namespace

TEST(RunnerProtocolGolden, Hello) {
  const std::string hello =
      "06000000"  // protocol version 6
      "0100000000"  // ok, error ""
      "0000000001000000480100000030"  // device: ordinal 0, name "H", pci_bus_id "0"
      "090000000000000005000000736d5f3930"  // cc 9.0, arch "sm_90"
      "840000000000004000000000"  // 132 SMs, 1 GiB
      "0000c00300c00000008c030000900300"  // L2, shared memory per block / opt-in / per SM
      "000001000004000000080000"  // registers per block, threads per block / per SM
      "000400000004000040000000"  // max block dims
      "ffffff7fffff0000ffff0000"  // max grid dims
      "60361e00012a000000"  // clock kHz, cupti, pid 42
      ;
  EXPECT_EQ(hex(encode_hello(hello_message())), hello);
  auto decoded = decode_hello(unhex(hello));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->device.name, "H");
  EXPECT_EQ(decoded->device.max_grid_dim[0], 2147483647);
  EXPECT_EQ(decoded->device.clock_khz, 1980000);
  EXPECT_EQ(decoded->pid, 42);
  EXPECT_TRUE(decoded->cupti);
}

TEST(RunnerProtocolGolden, HelloOfAnotherVersionIsRefusedByName) {
  std::string other = encode_hello(hello_message());
  other[0] = 1;  // the JSON-header protocol of earlier builds
  auto decoded = decode_hello(other);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("protocol 1, expected 6"), std::string::npos) << decoded.error().message;
}

TEST(RunnerProtocolGolden, QuitRequest) {
  EXPECT_EQ(hex(encode_request({})), "02");  // op quit, nothing else
  EXPECT_EQ(hex(ktune::process::encode_frame(kRunnerRequestFrame, encode_request({}))),
            "4b54574b" "0100" "1100" "01000000" "02");  // magic, frame version 1, type 17, 1 byte, quit
}

TEST(RunnerProtocolGolden, ProblemRequest) {
  const std::string problem =
      "00"  // op problem
      "01000000"  // 1 buffer
      "01000000410a04000000000000001000000000000000"  // "A" float, 4 elements, 16 bytes
      "00000000000000f0bf000000000000f03f0000000000000000"  // init random [-1, 1), value 0
      "0000000000000000000000000000f03f"  // normal: mean 0, stddev 1
      "00000000000000000000000000000000"  // integers: [0, 0]
      "000000000000000000"  // file: path "", npy, digest ""
      "00000000000000000700000000000000"  // copy source 0, seed 7
      "01"  // output
      "00"  // no answer file
      "2d431cebe2361a3f2d431cebe2361a3f"  // rtol, atol 1e-4
      "02000000"  // 2 arguments
      "010000000000000000"  // buffer 0
      "000000000000000000"  // scalar 0
      "00000000"  // no later pipeline kernels
      "00000000"  // no constants
      "00000000"  // no setup kernels
      ;
  EXPECT_EQ(hex(encode_request(problem_message())), problem);
  auto decoded = decode_request(unhex(problem));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->problem.buffers.size(), 1u);
  EXPECT_EQ(decoded->problem.buffers[0].init.seed, 7u);
  EXPECT_EQ(decoded->problem.total_bytes, 16u);  // summed by the decoder, not sent
  EXPECT_EQ(decoded->problem.args.size(), 2u);
}

TEST(RunnerProtocolGolden, MeasureRequest) {
  const std::string measure =
      "01"  // op measure
      "0a00000000000000e803000000000000"  // stop rule: 10..1000 samples
      "7b14ae47e17a743f"  // the median's standard error at most 0.5 %
      "fa7e6abc7493583f0000000000002e40000000000000e03f"  // budget 1.5 ms + 15 kernel times, at most 0.5 s
      "0300000000000000000000000000f83f"  // prune after 3 at 1.5x
      "05000000000000007b14ae47e17a843f"  // race after 5 with a 1 % margin
      "000000000088b340"  // race only against a best of 5 µs or more
      "01010000000000408f40"  // flush L2, best median 1000 ns
      "00000000000024402d431cebe2362a3f02"  // kernel timeout 10 s, warm-up 0.2 ms, verify compare
      "01"  // use CUPTI
      "0000000000"  // reference label "", not run once
      "01000000"  // 1 job
      "010000006a010000006b040000007f454c46"  // label "j", lowered name "k", cubin
      "020000000000000001000000000000000100000000000000"  // grid
      "8000000000000000010000000000000001000000000000000000000000000000"  // block, no dynamic shared memory
      "000000000000000000000000000000000000000000000000"  // no cluster
      "01000000040500000000000000000000000000000000"  // 1 scalar: int32 5
      "00"  // the problem's arguments
      "00000000"  // no later pipeline kernels
      "00000000"  // no tensor maps
      "00000000"  // no setup kernels
      ;
  EXPECT_EQ(hex(encode_request(measure_message())), measure);
  auto decoded = decode_request(unhex(measure));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->jobs.size(), 1u);
  EXPECT_EQ(decoded->jobs[0].cubin, "\x7f" "ELF");
  EXPECT_EQ(decoded->options.best_median_ns, 1000.0);
  EXPECT_EQ(decoded->jobs[0].launch.scalars[0].integer, 5);
}

TEST(RunnerProtocolGolden, Response) {
  const std::string response =
      "010000000000"  // ok, error "", not poisoned
      "01000000"  // 1 result
      "0000000000"  // status ok, message ""
      "000000000000244000000000000022400000000000002540000000000000e03f9a9999999999a93f"  // median, min, mean, stddev, noise
      "000000000000d03f0700000000000000"  // the median's standard error 0.25 ns, 7 samples
      "050000006375707469200000000000000000000000"  // timer, 32 registers, no static shared or local memory
      "bc070000010000000000000000000000000000000000000000000000000000000000d03f"  // 1980 MHz, 1 dropped, errors 0, 0.25 s wall
      "fca9f1d24d62503ffca9f1d24d62603ffa7e6abc7493683ffca9f1d24d62703f7b14ae47e17a743f"  // phases: 1, 2, 3, 4, 5 ms
      "01"  // stopped: converged
      "01"  // verified on the GPU
      "00000000"  // no pipeline kernel times
      ;
  EXPECT_EQ(hex(encode_response(response_message())), response);
  auto decoded = decode_response(unhex(response));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->results.size(), 1u);
  EXPECT_EQ(decoded->results[0].stats.samples, 7u);
  EXPECT_EQ(decoded->results[0].timer, "cupti");
  EXPECT_EQ(decoded->results[0].wall_seconds, 0.25);
  EXPECT_EQ(decoded->results[0].phases, (MeasurePhases{0.001, 0.002, 0.003, 0.004, 0.005}));
  EXPECT_EQ(decoded->results[0].stop, StopDecision::converged);
  EXPECT_TRUE(decoded->results[0].verified_on_device);
  EXPECT_EQ(decoded->results[0].stats.median_se_ns, 0.25);
}

TEST(RunnerProtocolGolden, EveryTruncationAndTrailingByteIsAnError) {
  const std::string payload = encode_request(measure_message());
  for (std::size_t n = 0; n < payload.size(); ++n) EXPECT_FALSE(decode_request(payload.substr(0, n)).ok()) << n;
  EXPECT_FALSE(decode_request(payload + '\0').ok());
  const std::string response = encode_response(response_message());
  for (std::size_t n = 0; n < response.size(); ++n) EXPECT_FALSE(decode_response(response.substr(0, n)).ok()) << n;
}

TEST(RunnerProtocolGolden, HostileCountsAndEnumsAreRefused) {
  // A measure request claiming 2^32-1 jobs in a few bytes must fail without allocating.
  std::string hostile = encode_request(measure_message());
  const std::size_t jobs_at = 1 + 11 * 8 + 1 + 1 + 8 + 8 + 8 + 1 + 1 + 4 + 1;
  hostile.replace(jobs_at, 4, "\xff\xff\xff\xff");
  auto refused = decode_request(hostile);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("jobs"), std::string::npos) << refused.error().message;

  std::string bad_status = encode_response(response_message());
  bad_status[1 + 4 + 1 + 4] = 9;  // the first result's status: no such status
  EXPECT_FALSE(decode_response(bad_status).ok());
}

// Every data kind of protocol 4 survives the round trip: files, normal and integer data, a copy, an
// answer file with its own tolerances, a constant symbol; and the decoder refuses what a runner
// must never act on (a copy of itself, a constant larger than constant memory, low above high).
TEST(RunnerProtocolGolden, DataKindsRoundTripAndBadOnesAreRefused) {
  RunnerRequest r;
  r.op = RunnerOp::problem;
  BufferPlan a{"A", ktune::ElementType::f32, 16, 64, {}, false, {}, 0, 0};
  a.init.kind = BufferInit::Kind::file;
  a.init.file = {"/data/a.npy", ktune::DataFormat::npy, "0123456789abcdef0123456789abcdef"};
  BufferPlan i{"I", ktune::ElementType::i32, 16, 64, {}, false, {}, 0, 0};
  i.init.kind = BufferInit::Kind::integers;
  i.init.int_low = -3;
  i.init.int_high = 15;
  i.init.seed = 99;
  BufferPlan c{"C", ktune::ElementType::f32, 16, 64, {}, true, {}, 1e-3, 1e-6};
  c.init.kind = BufferInit::Kind::copy;
  c.init.source = 0;
  c.answer = DataFileRef{"/data/c.bin", ktune::DataFormat::raw, "fedcba9876543210fedcba9876543210"};
  r.problem.buffers = {a, i, c};
  r.problem.args = {{true, 0}, {true, 1}, {true, 2}};
  ConstantPlan filter{"d_filter", ktune::ElementType::f32, 9, 36, {}};
  filter.init.kind = BufferInit::Kind::normal;
  filter.init.mean = 2;
  filter.init.stddev = 0.25;
  r.problem.constants = {filter};

  auto decoded = decode_request(encode_request(r));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  const Problem& p = decoded->problem;
  ASSERT_EQ(p.buffers.size(), 3u);
  EXPECT_EQ(p.buffers[0].init.kind, BufferInit::Kind::file);
  EXPECT_EQ(p.buffers[0].init.file, a.init.file);
  EXPECT_EQ(p.buffers[1].init.int_low, -3);
  EXPECT_EQ(p.buffers[1].init.int_high, 15);
  EXPECT_EQ(p.buffers[1].init.seed, 99u);
  EXPECT_EQ(p.buffers[2].init.kind, BufferInit::Kind::copy);
  EXPECT_EQ(p.buffers[2].init.source, 0u);
  ASSERT_TRUE(p.buffers[2].answer.has_value());
  EXPECT_EQ(*p.buffers[2].answer, *c.answer);
  EXPECT_EQ(p.buffers[2].rtol, 1e-3);
  EXPECT_EQ(p.buffers[2].atol, 1e-6);
  ASSERT_EQ(p.constants.size(), 1u);
  EXPECT_EQ(p.constants[0].symbol, "d_filter");
  EXPECT_EQ(p.constants[0].init.kind, BufferInit::Kind::normal);
  EXPECT_EQ(p.constants[0].init.mean, 2.0);
  EXPECT_EQ(p.constants[0].init.stddev, 0.25);

  RunnerRequest self_copy = r;
  self_copy.problem.buffers[2].init.source = 2;
  auto refused = decode_request(encode_request(self_copy));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("init.source"), std::string::npos) << refused.error().message;
  RunnerRequest huge_constant = r;
  huge_constant.problem.constants[0].count = 1u << 20;
  huge_constant.problem.constants[0].bytes = 4u << 20;
  EXPECT_FALSE(decode_request(encode_request(huge_constant)).ok());
  RunnerRequest inverted = r;
  inverted.problem.buffers[1].init.int_low = 20;
  EXPECT_FALSE(decode_request(encode_request(inverted)).ok());

  MeasureOptions options;
  options.reference_label = "reference kernel naive";
  options.run_once = true;
  RunnerRequest measure;
  measure.op = RunnerOp::measure;
  measure.options = options;
  auto measured = decode_request(encode_request(measure));
  ASSERT_TRUE(measured.ok()) << measured.error().message;
  EXPECT_EQ(measured->options.reference_label, "reference kernel naive");
  EXPECT_TRUE(measured->options.run_once);
}

// Protocol 6: an argument's kind byte (a tensor map is 2; scalars and buffers keep the bytes of
// protocol 5), each job's tensor maps with only their rank's values, and cluster shapes.
TEST(RunnerProtocolGolden, TensorMapsAndClustersRoundTripAndBadOnesAreRefused) {
  RunnerRequest problem = problem_message();
  problem.problem.args = {{false, 0, true}, {true, 0}};
  const std::string bytes = encode_request(problem);
  EXPECT_NE(hex(bytes).find("02000000"
                            "020000000000000000"  // a tensor map, index 0
                            "010000000000000000"),  // a buffer, index 0
            std::string::npos)
      << hex(bytes);
  auto decoded_problem = decode_request(bytes);
  ASSERT_TRUE(decoded_problem.ok()) << decoded_problem.error().message;
  EXPECT_TRUE(decoded_problem->problem.args[0].is_tensor_map);
  EXPECT_FALSE(decoded_problem->problem.args[0].is_buffer);
  EXPECT_TRUE(decoded_problem->problem.args[1].is_buffer);
  std::string unknown_kind = bytes;
  unknown_kind[hex(bytes).find("02000000020000000000000000") / 2 + 4] = 3;  // the first argument's kind: no such kind
  EXPECT_FALSE(decode_request(unknown_kind).ok());

  RunnerRequest measure = measure_message();
  TensorMapPlan map;
  map.buffer = 0;
  map.rank = 2;
  map.dims = {1000, 517, 0, 0, 0};
  map.stride_bytes = {4000, 0, 0, 0};
  map.box = {32, 8, 0, 0, 0};
  map.element_strides = {1, 1, 0, 0, 0};
  map.swizzle_bytes = 128;
  map.l2_promotion_bytes = 64;
  map.oob_nan = true;
  measure.jobs[0].launch.tensor_maps = {map};
  measure.jobs[0].launch.shape.cluster = {2, 1, 1};
  const std::string payload = encode_request(measure);
  EXPECT_NE(hex(payload).find("01000000" "0000000000000000" "02000000"  // one map: buffer 0, rank 2
                              "e80300000000000020000000" "01000000"         // dims[0] 1000, box 32, element stride 1
                              "0502000000000000a00f000000000000" "08000000" "01000000"  // dims[1] 517, 4000 bytes, box 8
                              "80000000" "40000000" "01"),  // swizzle 128, l2 64, NaN fill
            std::string::npos)
      << hex(payload);
  auto decoded = decode_request(payload);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->jobs[0].launch.tensor_maps.size(), 1u);
  EXPECT_EQ(decoded->jobs[0].launch.tensor_maps[0], map);
  EXPECT_EQ(decoded->jobs[0].launch.shape.cluster, (std::array<std::int64_t, 3>{2, 1, 1}));
  EXPECT_TRUE(decoded->jobs[0].launch.shape.has_cluster());
  for (std::size_t n = 0; n < payload.size(); ++n) EXPECT_FALSE(decode_request(payload.substr(0, n)).ok()) << n;

  std::string six = payload;  // a rank the driver has no descriptor for
  six[hex(payload).find("01000000" "0000000000000000" "02000000") / 2 + 4 + 8] = 6;
  auto refused = decode_request(six);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("tensor_map.rank"), std::string::npos) << refused.error().message;
}
