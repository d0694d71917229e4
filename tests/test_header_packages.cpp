// Header packages ("@cutlass" in compile.include_dirs, engine/model/packages.hpp): resolved from an
// installed folder (ktune-package.json), a clear error naming the install command when missing, and
// keyed by the package's identity instead of its headers. Real files in a scratch folder, the real
// spec parser and key; a fake package, so the test does not need the wheel. When the real CUTLASS
// package is installed (tools/packages/install-packages.sh), its resolution is checked too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/model/included_headers.hpp"
#include "engine/model/instantiate.hpp"
#include "engine/model/key.hpp"
#include "engine/model/packages.hpp"
#include "tests/helpers/scratch_dir.hpp"

namespace ktune {
namespace {

using testing::ScratchDir;
namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string manifest(const std::string& version, const std::string& sha256) {
  return R"({"name": "fakelib", "version": ")" + version + R"(", "wheel": "fakelib.whl", "sha256": ")" + sha256 +
         R"(", "include_dirs": ["include"], "pre_includes": ["shim.h"], "nvrtc_options": ["-default-device"]})";
}

// KTUNE_PACKAGES_DIR set for one test, restored after.
class PackagesDir {
 public:
  explicit PackagesDir(const fs::path& dir) {
    if (const char* old = std::getenv("KTUNE_PACKAGES_DIR")) old_ = old, had_ = true;
    setenv("KTUNE_PACKAGES_DIR", dir.c_str(), 1);
  }
  ~PackagesDir() {
    if (had_) setenv("KTUNE_PACKAGES_DIR", old_.c_str(), 1);
    else unsetenv("KTUNE_PACKAGES_DIR");
  }
  PackagesDir(const PackagesDir&) = delete;
  PackagesDir& operator=(const PackagesDir&) = delete;

 private:
  std::string old_;
  bool had_ = false;
};

class HeaderPackagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write(dir_ / "packages/fakelib/ktune-package.json", manifest("1.2.3", "aa11"));
    write(dir_ / "packages/fakelib/shim.h", "#pragma once\n");
    write(dir_ / "packages/fakelib/include/fake/gemm.hpp", "#pragma once\n__device__ float twice(float x) { return 2 * x; }\n");
    write(dir_ / "kernel.cu",
          "#include <fake/gemm.hpp>\n"
          "__global__ void scale(float* y, int n) { int i = blockIdx.x * BS + threadIdx.x; if (i < n) y[i] = twice(y[i]); }\n");
    write_spec("@fakelib");
  }
  void write_spec(const std::string& include_dir) {
    write(dir_ / "spec.json", R"j({"ktune_spec": 1, "name": "scale", "source": "kernel.cu", "entry": "scale",
      "sizes": ["n"], "params": {"BS": [64, 128]}, "default": {"BS": 64},
      "compile": {"include_dirs": [")j" + include_dir + R"j("]}, "launch": {"grid": ["ceil_div(n, BS)"], "block": ["BS"]},
      "args": [{"name": "y", "type": "float*", "count": "n", "output": true}, {"name": "n", "type": "int", "value": "n"}]})j");
  }
  Result<KernelSpec> load() { return KernelSpec::from_file(dir_ / "spec.json"); }

  ScratchDir dir_;
};

TEST_F(HeaderPackagesTest, AnInstalledPackageGivesItsIncludeFoldersOptionsAndIdentity) {
  auto package = read_header_package(dir_ / "packages", "fakelib");
  ASSERT_TRUE(package) << package.error().message;
  EXPECT_EQ(package->version, "1.2.3");
  ASSERT_EQ(package->include_dirs.size(), 1u);
  EXPECT_EQ(package->include_dirs[0], dir_ / "packages/fakelib/include");
  ASSERT_EQ(package->nvrtc_options.size(), 2u);
  EXPECT_EQ(package->nvrtc_options[0], "-default-device");
  EXPECT_EQ(package->nvrtc_options[1], "--pre-include=" + (dir_ / "packages/fakelib/shim.h").string());
  EXPECT_TRUE(package->identity.starts_with("fakelib 1.2.3 sha256:aa11 pre:")) << package->identity;
}

TEST_F(HeaderPackagesTest, TheSpecNamesThePackageAndTheCompileGetsItsFoldersAndOptions) {
  PackagesDir env(dir_ / "packages");
  auto spec = load();
  ASSERT_TRUE(spec) << spec.error().message;
  ASSERT_EQ(spec->packages.size(), 1u);
  const auto job = make_compile_job(*spec, {{"BS", 64}}, "sm_90", true);
  auto has = [&](const std::string& option) {
    return std::find(job.options.begin(), job.options.end(), option) != job.options.end();
  };
  EXPECT_TRUE(has("-I" + (dir_ / "packages/fakelib/include").string()));
  EXPECT_TRUE(has("-default-device"));
  EXPECT_TRUE(has("--pre-include=" + (dir_ / "packages/fakelib/shim.h").string()));
}

TEST_F(HeaderPackagesTest, AMissingPackageIsAnErrorNamingWhereItLookedAndTheInstallCommand) {
  PackagesDir env(dir_ / "packages");
  write_spec("@nosuchlib");
  auto spec = load();
  ASSERT_FALSE(spec);
  const std::string& message = spec.error().message;
  EXPECT_NE(message.find("compile.include_dirs[0]"), std::string::npos) << message;
  EXPECT_NE(message.find("package @nosuchlib is not installed"), std::string::npos) << message;
  EXPECT_NE(message.find((dir_ / "packages").string()), std::string::npos) << message;
  EXPECT_NE(message.find("tools/packages/install-packages.sh"), std::string::npos) << message;
}

TEST_F(HeaderPackagesTest, ABrokenManifestIsAnErrorNamingIt) {
  PackagesDir env(dir_ / "packages");
  write(dir_ / "packages/fakelib/ktune-package.json", R"({"name": "fakelib"})");
  auto spec = load();
  ASSERT_FALSE(spec);
  EXPECT_NE(spec.error().message.find("ktune-package.json"), std::string::npos) << spec.error().message;
}

// The key holds the package's identity, not its headers: a new version or wheel is a new kernel key,
// the package's header files are never read (CUTLASS has ~1000 of them, beyond the 256 bound).
TEST_F(HeaderPackagesTest, ThePackageIsKeyedByItsIdentityNotItsHeaders) {
  PackagesDir env(dir_ / "packages");
  auto key = [&] { return kernel_key(load().value_or_throw()).hex(); };
  const std::string first = key();
  EXPECT_FALSE(load().value_or_throw().headers_digest.empty());
  EXPECT_EQ(included_headers(load().value_or_throw()).headers, 0u);

  write(dir_ / "packages/fakelib/include/fake/gemm.hpp", "#pragma once\n__device__ float twice(float x) { return x + x; }\n");
  EXPECT_EQ(key(), first);

  write(dir_ / "packages/fakelib/ktune-package.json", manifest("1.2.4", "aa11"));
  const std::string new_version = key();
  EXPECT_NE(new_version, first);
  write(dir_ / "packages/fakelib/ktune-package.json", manifest("1.2.4", "bb22"));
  EXPECT_NE(key(), new_version);
  const std::string new_wheel = key();
  write(dir_ / "packages/fakelib/shim.h", "#pragma once\n// changed\n");
  EXPECT_NE(key(), new_wheel);
}

// The real package, where tools/packages/install-packages.sh has put it (skips elsewhere).
TEST(InstalledCutlass, ResolvesToThePinnedWheelWithItsShim) {
  auto package = find_header_package("cutlass");
  if (!package) GTEST_SKIP() << package.error().message;
  EXPECT_EQ(package->version, "4.2.0.0");
  ASSERT_FALSE(package->include_dirs.empty());
  EXPECT_TRUE(fs::exists(package->include_dirs[0] / "cute/tensor.hpp"));
  EXPECT_TRUE(fs::exists(package->include_dirs[0] / "cutlass/gemm/collective/collective_builder.hpp"));
  EXPECT_NE(package->identity.find("sha256:f9599ada45c7bcb6bf53f7d3f0a7d154183e53451c01bfa59eecd37dd4a693f6"), std::string::npos);
}

}  // namespace
}  // namespace ktune
