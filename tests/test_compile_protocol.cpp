// The worker wire protocol: the byte layout is pinned (a worker and a pool from different builds
// must agree or refuse), and decoding survives any input.
#include <gtest/gtest.h>

#include <random>

#include "tests/helpers/hex.hpp"
#include "workers/compile_protocol.hpp"

using namespace ktune::workers;
using ktune::testing::hex;

namespace {

CompileJob small_job() {
  CompileJob job;
  job.source = "k";
  job.source_name = "a.cu";
  job.name_expressions = {"f"};
  job.defines = {"-DX=1"};
  job.arch = "sm_90";
  job.use_nvrtc_cache = true;
  return job;
}

}  // namespace

TEST(Wire, GoldenCompileRequestFrame) {
  const std::string frame = encode_frame(MessageType::compile_request, encode_job(small_job()));
  const std::string expected =
      "4b54574b" "0100" "0200" "31000000"  // magic "KTWK", version 1, type 2, 49 payload bytes
      "01000000" "6b"                      // source "k"
      "04000000" "612e6375"                // source_name "a.cu"
      "01000000" "01000000" "66"           // name_expressions ["f"]
      "00000000"                           // options []
      "01000000" "05000000" "2d44583d31"   // defines ["-DX=1"]
      "05000000" "736d5f3930"              // arch "sm_90"
      "01";                                // flags: use_nvrtc_cache
  EXPECT_EQ(hex(frame), expected);
}

TEST(Wire, GoldenCompileResultPayload) {
  CompileResult r;
  r.status = CompileStatus::compile_error;
  r.cubin = "";
  r.lowered_names = {};
  r.log = "e";
  r.compile_seconds = 0.5;
  EXPECT_EQ(hex(encode_result(r)),
            "01"                     // status compile_error
            "00000000"               // cubin ""
            "00000000"               // lowered_names []
            "01000000" "65"          // log "e"
            "000000000000e03f");     // 0.5 as IEEE-754 little-endian
}

TEST(Wire, RoundTripsEveryMessage) {
  CompileJob job = small_job();
  job.options = {"-std=c++17", "-I/x"};
  job.use_nvrtc_cache = false;
  auto decoded_job = decode_job(encode_job(job));
  ASSERT_TRUE(decoded_job.ok()) << decoded_job.error().message;
  EXPECT_EQ(decoded_job->source, job.source);
  EXPECT_EQ(decoded_job->options, job.options);
  EXPECT_EQ(decoded_job->defines, job.defines);
  EXPECT_FALSE(decoded_job->use_nvrtc_cache);

  CompileResult r;
  r.status = CompileStatus::ok;
  r.cubin = std::string("\x7f" "ELF\0\1\2", 7);
  r.lowered_names = {"_Z1kILi1EEvPf", "plain"};
  r.log = "warning";
  r.compile_seconds = 0.125;
  auto decoded = decode_result(encode_result(r));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->cubin, r.cubin);
  EXPECT_EQ(decoded->lowered_names, r.lowered_names);
  EXPECT_EQ(decoded->compile_seconds, 0.125);

  Hello h{kWireVersion, 1234, "13.0", true};
  auto decoded_hello = decode_hello(encode_hello(h));
  ASSERT_TRUE(decoded_hello.ok());
  EXPECT_EQ(decoded_hello->pid, 1234U);
  EXPECT_EQ(decoded_hello->nvrtc_version, "13.0");
  EXPECT_TRUE(decoded_hello->test_faults);
}

TEST(Wire, HeaderRejectsBadMagicVersionTypeAndLength) {
  const std::string good = encode_frame(MessageType::hello, "");
  ASSERT_TRUE(decode_frame_header(good).ok());

  std::string bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_EQ(decode_frame_header(bad_magic).error().code, ktune::Errc::corrupt);

  std::string other_version = good;
  other_version[4] = 2;
  auto v = decode_frame_header(other_version);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, ktune::Errc::unsupported);
  EXPECT_NE(v.error().message.find("version 2"), std::string::npos);

  std::string unknown_type = good;
  unknown_type[6] = 99;
  EXPECT_FALSE(decode_frame_header(unknown_type).ok());

  std::string huge = good;
  huge[8] = huge[9] = huge[10] = huge[11] = '\xff';  // 4 GiB - 1: over the cap, never allocated
  EXPECT_FALSE(decode_frame_header(huge).ok());

  EXPECT_FALSE(decode_frame_header(good.substr(0, 11)).ok());
  EXPECT_FALSE(decode_frame(good + "x", MessageType::hello).ok());  // length mismatch
  EXPECT_FALSE(decode_frame(good, MessageType::compile_result).ok());
}

TEST(Wire, EveryTruncationAndTrailingByteIsAnError) {
  CompileJob job = small_job();
  job.options = {"-O3"};
  const std::string payload = encode_job(job);
  for (std::size_t n = 0; n < payload.size(); ++n) EXPECT_FALSE(decode_job(payload.substr(0, n)).ok()) << n;
  EXPECT_FALSE(decode_job(payload + '\0').ok());
}

TEST(Wire, RejectsOutOfRangeEnumsAndHostileCounts) {
  CompileResult r;
  r.status = CompileStatus::ok;
  std::string payload = encode_result(r);
  payload[0] = 42;  // no such status
  EXPECT_FALSE(decode_result(payload).ok());

  // A string list claiming 2^32-1 entries in a 9-byte payload must fail without allocating.
  std::string hostile = std::string("\0\0\0\0", 4) + std::string("\0\0\0\0", 4) + "\xff\xff\xff\xff";
  EXPECT_FALSE(decode_job(hostile).ok());
}

TEST(Wire, RandomBytesNeverCrashTheDecoders) {
  std::mt19937_64 rng(7);
  const std::string seed_payload = encode_job(small_job());
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = seed_payload;
    // Mutate a valid payload (finds deeper paths than pure noise) or use noise.
    if (i % 2 == 0) {
      for (int k = 0; k < 3; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    } else {
      bytes.resize(rng() % 64);
      for (auto& c : bytes) c = static_cast<char>(rng());
    }
    (void)decode_job(bytes);
    (void)decode_result(bytes);
    (void)decode_hello(bytes);
    (void)decode_cache_entry(bytes);
    (void)decode_frame_header(bytes);
  }
  SUCCEED();
}
