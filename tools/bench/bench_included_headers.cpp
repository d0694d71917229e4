// What hashing included headers costs (issue #14, "Stale"): the digest is taken once when a spec is
// loaded (KernelSpec::headers_digest); the key itself only hashes the digest. Timed for a kernel
// without includes, a typical tree of headers (1 + 8 + 32 headers of 4 KiB), and a tree at the
// bounds (256 headers, 16 MiB in all). Median of repeated computations, warm page cache.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/model/included_headers.hpp"
#include "engine/model/key.hpp"

namespace {

namespace fs = std::filesystem;

std::string padding(std::size_t bytes) {
  std::string out;
  while (out.size() < bytes) out += "__device__ inline float helper_" + std::to_string(out.size()) + "(float x) { return x * 2.0f; }\n";
  return out;
}

// A tree: top.cuh includes `fan` headers, each of which includes `leaves` headers.
void write_tree(const fs::path& dir, int fan, int leaves, std::size_t bytes_each) {
  fs::create_directories(dir);
  std::string top = "#pragma once\n";
  for (int i = 0; i < fan; ++i) {
    top += "#include \"mid" + std::to_string(i) + ".cuh\"\n";
    std::string mid = "#pragma once\n";
    for (int j = 0; j < leaves; ++j) {
      const std::string leaf = "leaf" + std::to_string(i) + "_" + std::to_string(j) + ".cuh";
      mid += "#include \"" + leaf + "\"\n";
      std::ofstream(dir / leaf) << "#pragma once\n" << padding(bytes_each);
    }
    std::ofstream(dir / ("mid" + std::to_string(i) + ".cuh")) << mid << padding(bytes_each);
  }
  std::ofstream(dir / "top.cuh") << top << padding(bytes_each);
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

ktune::KernelSpec spec_with(const fs::path& dir, bool includes) {
  const std::string source = std::string(includes ? "#include \"top.cuh\"\n#include <cuda_fp16.h>\n" : "") +
                             "__global__ void k(float* y, int n) { int i = blockIdx.x * BS + threadIdx.x; if (i < n) y[i] = 1; }\n";
  const std::string json = R"j({"ktune_spec": 1, "name": "k", "source": {"code": )j" + json_string(source) +
                           R"j(}, "entry": "k", "sizes": ["n"], "params": {"BS": [64, 128]}, "default": {"BS": 64},
      "compile": {"include_dirs": ["."]}, "launch": {"grid": ["ceil_div(n, BS)"], "block": ["BS"]},
      "args": [{"name": "y", "type": "float*", "count": "n", "output": true}, {"name": "n", "type": "int", "value": "n"}]})j";
  return ktune::KernelSpec::from_json_text(json, dir).value_or_throw();
}

double median_us(int runs, const auto& work) {
  std::vector<double> us;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    work();
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(us.begin(), us.begin() + runs / 2, us.end());
  return us[static_cast<std::size_t>(runs / 2)];
}

}  // namespace

int main() {
  const fs::path root = fs::temp_directory_path() / "ktune-bench-headers";
  fs::remove_all(root);
  write_tree(root / "typical", 8, 4, 4096);
  write_tree(root / "bounds", 15, 16, 64 * 1024);  // 1 + 15 + 240 = 256 headers, ~16 MiB
  const auto plain = spec_with(root / "typical", false);
  const auto typical = spec_with(root / "typical", true);
  const auto bounds = spec_with(root / "bounds", true);
  for (const auto* spec : {&plain, &typical, &bounds}) {
    const auto headers = ktune::included_headers(*spec);
    const int runs = spec == &bounds ? 21 : 1001;
    const double walk = median_us(runs, [&] { (void)ktune::included_headers(*spec); });
    const double key = median_us(runs, [&] { (void)ktune::kernel_key(*spec); });
    std::printf("%-8s %3zu headers %9zu bytes%s: header digest (spec load) %9.1f us, kernel key %7.1f us (median of %d)\n",
                spec == &plain ? "none" : spec == &typical ? "typical" : "bounds", headers.headers, headers.bytes,
                headers.truncated ? " (truncated)" : "", walk, key, runs);
  }
  fs::remove_all(root);
}
