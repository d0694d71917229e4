// NVRTC precompiled headers in the compile workers (workers/precompiled_headers.hpp): the header
// prefix, the rewritten compile (defines after a declaration that ends the precompiled part), one PCH per prefix per worker,
// the same CUBIN as without, the worker's folder cleaned up. Real NVRTC, real worker processes; a
// small header stands in for CUTLASS (the CUTLASS compile itself is the `cutlass`-labelled test).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/helpers/scratch_dir.hpp"
#include "workers/compile_pool.hpp"
#include "workers/nvrtc_compiler.hpp"
#include "workers/precompiled_headers.hpp"

namespace ktune::workers {
namespace {

using ktune::testing::ScratchDir;
namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::size_t entries(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) (void)e, ++n;
  return n;
}

class PrecompiledHeadersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write(dir_ / "include/more.h", "#pragma once\n__device__ inline int plus_one(int x) { return x + 1; }\n");
    write(dir_ / "include/heavy.h",
          "#pragma once\ntemplate <int N> struct Twice { static constexpr int value = 2 * N; };\n"
          "template <int N> __device__ int twice() { return Twice<N>::value; }\n");
  }
  CompileJob job(int bs) const {
    CompileJob j;
    j.source = "// a kernel\n#include \"heavy.h\"\n\n#include <more.h>\n"
               "extern \"C\" __global__ void k(int* out) { out[threadIdx.x] = twice<BS>() + EXTRA; }\n";
    j.source_name = "k.cu";
    j.name_expressions = {"k"};
    j.defines = {"BS=" + std::to_string(bs), "-DEXTRA"};
    j.options = {"-I" + (dir_ / "include").string()};
    j.arch = "sm_90";
    j.use_nvrtc_cache = false;
    j.use_pch = true;
    return j;
  }
  ScratchDir dir_;
};

TEST(HeaderPrefix, IsTheLeadingIncludeLinesWithBlankAndCommentLines) {
  EXPECT_EQ(header_prefix_length("#include <a.h>\n\n// c\n  #  include \"b.h\"\nint x;\n"), 40u);
  EXPECT_EQ(header_prefix_length("int x;\n#include <a.h>\n"), 0u);
  EXPECT_EQ(header_prefix_length("// only comments\n\nint x;\n"), 0u);     // no include: nothing to precompile
  EXPECT_EQ(header_prefix_length("#include <a.h>\n#define X 1\n#include <b.h>\n"), 15u);  // a define ends it
  EXPECT_EQ(header_prefix_length("#include <a.h>"), 0u);  // a last line without a newline is not taken
}

TEST_F(PrecompiledHeadersTest, TheDefinesMoveAfterTheHeaderStopAndTheLineNumbersStay) {
  const PchCompile form = pch_compile_form(job(64));
  EXPECT_EQ(form.prefix, "// a kernel\n#include \"heavy.h\"\n\n#include <more.h>\n");
  EXPECT_EQ(form.source, form.prefix + "struct ktune_header_stop;\n#define BS 64\n#define EXTRA 1\n#line 5 \"k.cu\"\n" +
                             "extern \"C\" __global__ void k(int* out) { out[threadIdx.x] = twice<BS>() + EXTRA; }\n");
  for (const auto& option : form.options) EXPECT_FALSE(option.starts_with("-D")) << option;
}

TEST_F(PrecompiledHeadersTest, OnePchPerPrefixInAWorkerAndTheSameCubinAsWithout) {
  auto opened = PrecompiledHeaders::open(dir_ / "pch");
  ASSERT_TRUE(opened) << opened.error().message;
  PrecompiledHeaders pch = std::move(*opened);
  for (int bs : {64, 128, 64}) {
    const CompileResult with = compile_with_nvrtc(job(bs), &pch);
    ASSERT_TRUE(with.ok()) << with.log;
    // A PCH that could not be used says why in the log (--pch-verbose); a used one says nothing.
    EXPECT_EQ(with.log.find("precompiled header"), std::string::npos) << with.log;
    CompileJob plain = job(bs);
    plain.use_pch = false;
    const CompileResult without = compile_with_nvrtc(plain);
    ASSERT_TRUE(without.ok()) << without.log;
    EXPECT_EQ(with.cubin, without.cubin) << "BS=" << bs;
    EXPECT_EQ(with.lowered_names, without.lowered_names);
  }
  EXPECT_EQ(pch.created_count(), 1u);  // created by the first job, used by the other two
  EXPECT_TRUE(fs::exists(pch.folder() / "0.pch"));
}

TEST_F(PrecompiledHeadersTest, ACompileErrorKeepsTheSourcesLineNumbers) {
  auto pch = PrecompiledHeaders::open(dir_ / "pch");
  ASSERT_TRUE(pch);
  CompileJob bad = job(64);
  bad.source += "this is not C++;\n";
  const CompileResult r = compile_with_nvrtc(bad, &*pch);
  EXPECT_EQ(r.status, CompileStatus::compile_error);
  EXPECT_NE(r.log.find("k.cu(6)"), std::string::npos) << r.log;
}

TEST_F(PrecompiledHeadersTest, TheWorkersFolderGoesWithItAndADeadWorkersFolderWithTheNextOne) {
  fs::path folder;
  {
    auto pch = PrecompiledHeaders::open(dir_ / "pch");
    ASSERT_TRUE(pch);
    folder = pch->folder();
    EXPECT_TRUE(fs::is_directory(folder));
  }
  EXPECT_FALSE(fs::exists(folder));
  // A killed worker leaves its folder; a pid that no longer runs is cleaned up by the next open.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);
  const fs::path dead = dir_ / "pch" / ("worker-" + std::to_string(child) + "-abcdef");
  write(dead / "0.pch", "left behind");
  auto next = PrecompiledHeaders::open(dir_ / "pch");
  ASSERT_TRUE(next);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_EQ(entries(dir_ / "pch"), 1u);
}

TEST_F(PrecompiledHeadersTest, ThePoolsWorkersCompileWithAPchFolderAndGiveTheSameCubins) {
  CompilePoolOptions o;
  o.workers = 2;
  o.worker_path = KTUNE_WORKER;
  o.pch_dir = dir_ / "pch";
  std::vector<CompileResult> with;
  {
    auto pool = CompilePool::create(o);
    ASSERT_TRUE(pool) << pool.error().message;
    for (int bs : {32, 64, 128, 256}) with.push_back((*pool)->submit(job(bs)).get());
    EXPECT_GE(entries(dir_ / "pch"), 1u);  // one folder per worker while they run
    EXPECT_LE(entries(dir_ / "pch"), 2u);
  }
  EXPECT_EQ(entries(dir_ / "pch"), 0u);  // and gone with them
  std::size_t i = 0;
  for (int bs : {32, 64, 128, 256}) {
    ASSERT_TRUE(with[i].ok()) << with[i].log;
    CompileJob plain = job(bs);
    plain.use_pch = false;
    EXPECT_EQ(with[i].cubin, compile_with_nvrtc(plain).cubin) << "BS=" << bs;
    ++i;
  }
}

}  // namespace
}  // namespace ktune::workers
