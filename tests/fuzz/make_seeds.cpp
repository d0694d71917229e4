// Writes the binary seeds of the wire and runner-protocol fuzz targets with the real encoders:
//   fuzz_make_seeds tests/fuzz/corpus
// writes corpus/wire/seed-*.bin (whole frames) and corpus/runner_protocol/seed-*.bin (payloads)
// and the runner protocol's regression-*.bin (the bugs found in its JSON days, in today's encoding).
// Run it again after a protocol change, and commit what changed (docs/fuzzing.md).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "engine/runner/runner_protocol.hpp"
#include "tests/helpers/h100_device.hpp"
#include "workers/compile_protocol.hpp"

namespace {

namespace wire = ktune::workers;
namespace runner = ktune::runner;

bool write(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) std::fprintf(stderr, "cannot write %s\n", path.c_str());
  return static_cast<bool>(out);
}

wire::CompileJob job() {
  wire::CompileJob j;
  j.source = "extern \"C\" __global__ void scale(float* x, float a, int n) { int i = threadIdx.x; if (i < n) x[i] *= a; }";
  j.source_name = "scale.cu";
  j.name_expressions = {"scale", "sgemm<64, 64>"};
  j.options = {"-std=c++17", "-I/tmp/include"};
  j.defines = {"-DBM=64", "TN=4"};
  j.arch = "sm_90a";
  j.use_nvrtc_cache = false;
  return j;
}

wire::CompileResult result(wire::CompileStatus status) {
  wire::CompileResult r;
  r.status = status;
  if (status == wire::CompileStatus::ok) r.cubin = std::string("\x7f" "ELF\x02\x01\x01\x00\x00\x00", 10) + std::string(22, '\0');
  r.lowered_names = {"scale", "_Z5sgemmILi64ELi64EEvPKfS1_Pfiii"};
  r.log = status == wire::CompileStatus::ok ? "" : "kernel.cu(3): error: identifier \"BM\" is undefined\n";
  r.compile_seconds = 0.125;
  return r;
}

runner::RunnerHello hello() {
  return ktune::testing::h100_hello(4242, "NVIDIA H100 80GB HBM3", "0000:19:00.0", 85'045'231'616, 52'428'800);
}

runner::RunnerRequest problem_request() {
  runner::RunnerRequest r;
  r.op = runner::RunnerOp::problem;
  runner::BufferPlan a{"A", ktune::ElementType::f32, 1024, 4096, {}, false, {}, 0, 0};
  a.init.kind = runner::BufferInit::Kind::random;
  a.init.seed = 0x6b74756e65;
  runner::BufferPlan c{"C", ktune::ElementType::f16, 512, 1024, {}, true, {}, 1e-2, 1e-2};
  r.problem.buffers = {a, c};
  r.problem.args = {{true, 0}, {true, 1}, {false, 0}};
  r.problem.total_bytes = 5120;
  return r;
}

// Every input kind of protocol 4: a file, normal and integer data, a copy, an answer file, a constant.
runner::RunnerRequest data_problem_request() {
  runner::RunnerRequest r;
  r.op = runner::RunnerOp::problem;
  runner::BufferPlan a{"A", ktune::ElementType::f32, 16, 64, {}, false, {}, 0, 0};
  a.init.kind = runner::BufferInit::Kind::file;
  a.init.file = {"/data/a.npy", ktune::DataFormat::npy, "0123456789abcdef0123456789abcdef"};
  runner::BufferPlan b{"B", ktune::ElementType::f64, 16, 128, {}, false, {}, 0, 0};
  b.init.kind = runner::BufferInit::Kind::normal;
  b.init.mean = 1;
  b.init.stddev = 0.5;
  runner::BufferPlan idx{"I", ktune::ElementType::i32, 16, 64, {}, false, {}, 0, 0};
  idx.init.kind = runner::BufferInit::Kind::integers;
  idx.init.int_low = 0;
  idx.init.int_high = 15;
  runner::BufferPlan c{"C", ktune::ElementType::f32, 16, 64, {}, true, {}, 1e-4, 1e-5};
  c.init.kind = runner::BufferInit::Kind::copy;
  c.init.source = 0;
  c.answer = runner::DataFileRef{"/data/c.bin", ktune::DataFormat::raw, "fedcba9876543210fedcba9876543210"};
  r.problem.buffers = {a, b, idx, c};
  r.problem.args = {{true, 0}, {true, 1}, {true, 2}, {true, 3}, {false, 0}};
  runner::ConstantPlan filter{"d_filter", ktune::ElementType::f32, 9, 36, {}};
  filter.init.kind = runner::BufferInit::Kind::random;
  r.problem.constants = {filter};
  return r;
}

runner::RunnerRequest measure_request() {
  runner::RunnerRequest r;
  r.op = runner::RunnerOp::measure;
  r.options.best_median_ns = 12345.5;
  r.options.verify = runner::VerifyMode::compare;
  runner::KernelJob job;
  job.label = "BM=64 BN=64";
  job.cubin = "\x7f" "ELF cubin bytes";
  job.lowered_name = "sgemm";
  job.launch.shape.grid = {16, 16, 1};
  job.launch.shape.block = {256, 1, 1};
  job.launch.shape.dynamic_shared_bytes = 8192;
  runner::ScalarArg n;
  n.integer = 1024;
  runner::ScalarArg alpha;
  alpha.type = ktune::ElementType::f32;
  alpha.floating = 2.5;
  alpha.is_floating = true;
  job.launch.scalars = {n, alpha};
  r.jobs = {job, job};
  r.jobs[1].label = "BM=128 BN=32";
  r.jobs[1].cubin = "second";
  return r;
}

// A two-kernel pipeline: the problem's later kernel's arguments, each job's later kernel and its
// shape, a setup kernel, a reference kernel's own arguments, and each kernel's time in the response.
runner::RunnerRequest pipeline_problem_request() {
  runner::RunnerRequest r = problem_request();
  r.problem.args = {{true, 0}, {true, 1}, {false, 0}};
  r.problem.stage_args = {{{true, 1}, {false, 0}}};
  r.problem.setup_args = {{{true, 1}}};  // a setup kernel (protocol 6)
  return r;
}

runner::RunnerRequest pipeline_measure_request() {
  runner::RunnerRequest r = measure_request();
  r.jobs[0].stage_lowered_names = {"reduce_final"};
  r.jobs[0].launch.stage_shapes = {{{1, 1, 1}, {256, 1, 1}, 0}};
  r.jobs[0].setup_lowered_names = {"fill_table"};
  r.jobs[0].launch.setup_shapes = {{{1, 1, 1}, {32, 1, 1}, 0}};
  r.jobs[1].own_args = std::vector<runner::ArgSlot>{{true, 0}, {true, 1}, {false, 0}};
  return r;
}

// Protocol 6: a TMA descriptor argument and a cluster launch.
runner::RunnerRequest tensor_map_problem_request() {
  runner::RunnerRequest r = problem_request();
  r.problem.args = {{false, 0, true}, {true, 0}, {true, 1}};
  return r;
}

runner::RunnerRequest tensor_map_measure_request() {
  runner::RunnerRequest r = measure_request();
  runner::TensorMapPlan map;
  map.rank = 2;
  map.dims = {1024, 512, 0, 0, 0};
  map.stride_bytes = {4096, 0, 0, 0};
  map.box = {32, 8, 0, 0, 0};
  map.element_strides = {1, 1, 0, 0, 0};
  map.swizzle_bytes = 128;
  r.jobs[0].launch.tensor_maps = {map};
  r.jobs[0].launch.shape.cluster = {2, 1, 1};
  return r;
}

runner::RunnerResponse response() {
  runner::RunnerResponse r;
  r.ok = true;
  runner::KernelMeasurement ok;
  ok.stats = {10500.0, 10000.0, 10600.0, 120.0, 0.011, 50};
  ok.timer = "cupti";
  ok.registers = 64;
  ok.static_shared_bytes = 16384;
  ok.sm_clock_mhz = 1980;
  ok.wall_seconds = 0.05;
  runner::KernelMeasurement wrong = ok;
  wrong.status = ktune::MeasurementStatus::wrong_result;
  wrong.message = "C[17]: 1.5 vs 1.25";
  wrong.max_abs_error = 0.25;
  wrong.max_rel_error = 0.2;
  r.results = {ok, wrong};
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_FOLDER (tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root = argv[1];
  const auto w = root / "wire";
  const auto r = root / "runner_protocol";
  bool ok = true;

  wire::Hello h;
  h.pid = 31337;
  h.nvrtc_version = "13.0";
  ok &= write(w / "seed-hello.bin", wire::encode_frame(wire::MessageType::hello, wire::encode_hello(h)));
  h.test_faults = true;
  ok &= write(w / "seed-hello-test-faults.bin", wire::encode_frame(wire::MessageType::hello, wire::encode_hello(h)));
  ok &= write(w / "seed-job.bin", wire::encode_frame(wire::MessageType::compile_request, wire::encode_job(job())));
  ok &= write(w / "seed-job-empty.bin", wire::encode_frame(wire::MessageType::compile_request, wire::encode_job({})));
  ok &= write(w / "seed-result-ok.bin",
              wire::encode_frame(wire::MessageType::compile_result, wire::encode_result(result(wire::CompileStatus::ok))));
  ok &= write(w / "seed-result-compile-error.bin",
              wire::encode_frame(wire::MessageType::compile_result,
                                 wire::encode_result(result(wire::CompileStatus::compile_error))));
  ok &= write(w / "seed-cache-entry.bin",
              wire::encode_frame(wire::MessageType::cache_entry,
                                 wire::encode_cache_entry({"0123456789abcdef0123456789abcdef", result(wire::CompileStatus::ok)})));
  // Headers whose length field is past the cap (by one, and 4 GiB): refused without allocating.
  std::string huge = wire::encode_frame(wire::MessageType::cache_entry, "");
  huge[8] = '\x01';
  huge[11] = '\x10';
  ok &= write(w / "seed-length-cap-plus-one.bin", huge);
  huge[8] = huge[9] = huge[10] = huge[11] = '\xff';
  ok &= write(w / "seed-length-4gib.bin", huge);

  ok &= write(r / "seed-hello.bin", runner::encode_hello(hello()));
  runner::RunnerHello no_gpu;
  no_gpu.error = "no CUDA driver (libcuda.so.1 not found)";
  ok &= write(r / "seed-hello-no-gpu.bin", runner::encode_hello(no_gpu));
  ok &= write(r / "seed-request-quit.bin", runner::encode_request({}));
  ok &= write(r / "seed-request-problem.bin", runner::encode_request(problem_request()));
  ok &= write(r / "seed-request-measure.bin", runner::encode_request(measure_request()));
  ok &= write(r / "seed-request-problem-data.bin", runner::encode_request(data_problem_request()));
  ok &= write(r / "seed-response.bin", runner::encode_response(response()));
  ok &= write(r / "seed-request-problem-pipeline.bin", runner::encode_request(pipeline_problem_request()));
  ok &= write(r / "seed-request-measure-pipeline.bin", runner::encode_request(pipeline_measure_request()));
  ok &= write(r / "seed-request-problem-tensor-map.bin", runner::encode_request(tensor_map_problem_request()));
  ok &= write(r / "seed-request-measure-tensor-map.bin", runner::encode_request(tensor_map_measure_request()));
  auto pipeline_response = response();
  pipeline_response.results[0].stage_stats = {{8000.0, 7900.0, 8050.0, 90.0, 0.011, 0, 50}, {2400.0, 2300.0, 2450.0, 30.0, 0.012, 0, 50}};
  ok &= write(r / "seed-response-pipeline.bin", runner::encode_response(pipeline_response));
  runner::RunnerResponse poisoned;
  poisoned.error = "CUDA_ERROR_ILLEGAL_ADDRESS: the context is lost";
  poisoned.poisoned = true;
  ok &= write(r / "seed-response-poisoned.bin", runner::encode_response(poisoned));
  // Regression inputs, in the binary encoding, of the bugs the JSON encoding had:
  //   a buffer whose count x element size wraps to its byte size (2^62 halfs are 0 bytes mod 2^64);
  auto wraps = problem_request();
  wraps.problem.buffers = {{"W", ktune::ElementType::f16, 1ULL << 62, 0, {}, true, {}, 0, 0}};
  wraps.problem.args = {{true, 0}};
  ok &= write(r / "regression-buffer-count-times-size-wraps.bin", runner::encode_request(wraps));
  //   a value of the wrong kind where an enum is read (a float read as an int in the JSON days):
  //   the verify mode byte of a measure request set to 0xff.
  std::string bad_enum = runner::encode_request(measure_request());
  bad_enum[1 + 11 * 8 + 1 + 1 + 8 + 8 + 8] = '\xff';  // op, rule, flush_l2, has_best, best, timeout, warm-up
  if (auto refused = runner::decode_request(bad_enum); refused.ok() || refused.error().message.find("verify") == std::string::npos) {
    std::fprintf(stderr, "the verify byte moved: regression-float-read-as-int.bin would not test it\n");
    ok = false;
  }
  ok &= write(r / "regression-float-read-as-int.bin", bad_enum);
  return ok ? 0 : 1;
}
