// Standalone harness for examples/cutlass/gemm_sm90.cu before ktune runs it: loads NVRTC-built
// cubins (nvrtc_compile.py), encodes the TMA descriptors with cuTensorMapEncodeTiled exactly as the
// spec's tensor_map args describe (examples/cutlass/gemm_sm90.json), runs the setup kernel and the
// GEMM with the spec's launch (grid, block, shared memory, cluster), checks every element against
// the naive reference kernel (gemm_reference.cu) and times it: CUDA events, median of 50 launches.
//
//   cutlass_gemm_bench --reference REF.cubin --dtype bf16|fp16 --shapes MxNxK[,MxNxK...]
//                      [--geometry FILE] NAME=CUBIN:TM,TN,TK,CM,CN,STAGES,coop|pp|ws [...]
// --geometry: spec_geometry.py's lines (the spec's own launch and tensor maps), run instead of the
// formulas below, which are then only compared with them.
// Prints one line per (configuration, shape): TFLOP/s, median ms, verification.
// Build: g++ -std=c++20 -O2 cutlass_gemm_bench.cpp -I$CUDA/include -L$CUDA/lib64/stubs -lcuda
#include <cuda.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

void check(CUresult r, const char* what) {
  if (r == CUDA_SUCCESS) return;
  const char* name = nullptr;
  cuGetErrorName(r, &name);
  std::fprintf(stderr, "error: %s: %s\n", what, name ? name : "?");
  std::exit(1);
}
#define CK(x) check((x), #x)

struct Config {
  std::string name, cubin, schedule;
  int tm = 0, tn = 0, tk = 0, cm = 1, cn = 1, stages = 0;
};

struct Shape { int m, n, k; };

std::vector<char> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) { std::fprintf(stderr, "error: cannot read %s\n", path.c_str()); std::exit(1); }
  return {std::istreambuf_iterator<char>(f), {}};
}

int ceil_div(int a, int b) { return (a + b - 1) / b; }

// The spec's tensor_map arg: dims/strides in elements, innermost first; box; swizzle bytes.
struct TensorMapSpec {
  std::vector<uint64_t> dims, strides;
  std::vector<uint32_t> box;
  int swizzle = 0;
};

CUtensorMap encode(const TensorMapSpec& s, CUtensorMapDataType type, size_t element_bytes,
                   CUdeviceptr address, const char* what) {
  std::vector<uint64_t> byte_strides;
  for (uint64_t e : s.strides) byte_strides.push_back(e * element_bytes);
  std::vector<uint32_t> element_strides(s.dims.size(), 1);
  CUtensorMapSwizzle swizzle = s.swizzle == 128  ? CU_TENSOR_MAP_SWIZZLE_128B
                               : s.swizzle == 64 ? CU_TENSOR_MAP_SWIZZLE_64B
                               : s.swizzle == 32 ? CU_TENSOR_MAP_SWIZZLE_32B
                                                 : CU_TENSOR_MAP_SWIZZLE_NONE;
  CUtensorMap map;
  check(cuTensorMapEncodeTiled(&map, type, static_cast<cuuint32_t>(s.dims.size()),
                               reinterpret_cast<void*>(address), s.dims.data(),
                               byte_strides.data(), s.box.data(), element_strides.data(),
                               CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle,
                               CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
                               CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
        what);
  return map;
}

// These three functions are the spec's formulas (gemm_sm90.json), written once more in C++. Rank 3
// (K or N, rows, batch L = 1) with a packed batch stride, box truncated by the multicast, as
// CuTe's make_tma_copy encodes them (print_cute_tma.cu prints CuTe's own calls).
TensorMapSpec spec_map_A(const Config& c, const Shape& p) {
  return {{uint64_t(p.k), uint64_t(p.m), 1}, {uint64_t(p.k), uint64_t(p.m) * p.k},
          {uint32_t(c.tk), uint32_t(c.tm / c.cn), 1}, c.tk * 2};
}
TensorMapSpec spec_map_W(const Config& c, const Shape& p) {
  return {{uint64_t(p.k), uint64_t(p.n), 1}, {uint64_t(p.k), uint64_t(p.n) * p.k},
          {uint32_t(c.tk), uint32_t(c.tn / c.cm), 1}, c.tk * 2};
}
TensorMapSpec spec_map_D(const Config& c, const Shape& p) {
  const int epi_m = std::min(c.tm, c.schedule == "coop" ? 128 : 64);
  return {{uint64_t(p.n), uint64_t(p.m), 1}, {uint64_t(p.n), uint64_t(p.m) * p.n},
          {32u, uint32_t(epi_m), 1}, 64};
}
// Persistent schedules (coop, pp): at most ctas CTAs, cluster-aligned, raster along M (the setup
// kernel asks for it): grid (x, CN). Plain TMA-WS: one CTA a tile, rounded up to the cluster.
void spec_grid(const Config& c, const Shape& p, int ctas, unsigned grid[3]) {
  const int tiles_m = ceil_div(ceil_div(p.m, c.tm), c.cm) * c.cm;
  const int tiles_n = ceil_div(ceil_div(p.n, c.tn), c.cn) * c.cn;
  if (c.schedule == "ws") {
    grid[0] = unsigned(tiles_m); grid[1] = unsigned(tiles_n); grid[2] = 1;
    return;
  }
  const int clusters = std::min(ctas / (c.cm * c.cn), tiles_m * tiles_n / (c.cm * c.cn));
  grid[0] = unsigned(clusters * c.cm); grid[1] = unsigned(c.cn); grid[2] = 1;
}
unsigned spec_block(const Config& c) { return c.schedule == "ws" ? 256u : 384u; }

// What the spec JSON itself gives (spec_geometry.py evaluates it): when present, it is what runs, and
// the formulas above are only compared with it.
struct Geometry {
  unsigned grid[3], block, smem, cluster[2];
  TensorMapSpec maps[3];
};

std::map<std::string, Geometry> read_geometry(const std::string& path) {
  std::map<std::string, Geometry> out;
  if (path.empty()) return out;
  std::ifstream f(path);
  if (!f) { std::fprintf(stderr, "error: cannot read %s\n", path.c_str()); std::exit(1); }
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string name;
    int m, n, k;
    Geometry g{};
    in >> name >> m >> n >> k >> g.grid[0] >> g.grid[1] >> g.grid[2] >> g.block >> g.smem >> g.cluster[0] >> g.cluster[1];
    for (auto& map : g.maps) {
      map.dims.resize(3); map.strides.resize(2); map.box.resize(3);
      for (auto& d : map.dims) in >> d;
      for (auto& st : map.strides) in >> st;
      for (auto& b : map.box) in >> b;
      in >> map.swizzle;
    }
    if (!in) { std::fprintf(stderr, "error: %s: bad line: %s\n", path.c_str(), line.c_str()); std::exit(1); }
    out[name + " " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k)] = g;
  }
  return out;
}

bool same_map(const TensorMapSpec& a, const TensorMapSpec& b) {
  return a.dims == b.dims && a.strides == b.strides && a.box == b.box && a.swizzle == b.swizzle;
}

double median(std::vector<float> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

float to_float(uint16_t bits, bool bf16) {
  if (bf16) {
    uint32_t u = uint32_t(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  // IEEE half to float
  const uint32_t sign = (bits >> 15) & 1, exp = (bits >> 10) & 0x1f, man = bits & 0x3ff;
  float mag = exp == 0 ? std::ldexp(float(man), -24)
              : exp == 31 ? (man ? NAN : INFINITY)
                          : std::ldexp(float(man | 0x400), int(exp) - 25);
  return sign ? -mag : mag;
}

uint16_t from_float(float f, bool bf16) {
  if (bf16) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return uint16_t((u + 0x7fff + ((u >> 16) & 1)) >> 16);
  }
  // values used here are small multiples of 1/64 in [-1, 1]: exact in half
  const float a = std::fabs(f);
  if (a == 0.0f) return f < 0 ? 0x8000 : 0;
  int e;
  const float m = std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  const uint16_t exp = uint16_t(e - 1 + 15);
  const uint16_t man = uint16_t(std::lround((m * 2.0f - 1.0f) * 1024.0f));
  return uint16_t((f < 0 ? 0x8000 : 0) | (exp << 10) | man);
}

}  // namespace

int main(int argc, char** argv) {
  std::string reference_path, dtype = "bf16", shapes_text, geometry_path;
  std::vector<Config> configs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--reference" && i + 1 < argc) reference_path = argv[++i];
    else if (a == "--dtype" && i + 1 < argc) dtype = argv[++i];
    else if (a == "--shapes" && i + 1 < argc) shapes_text = argv[++i];
    else if (a == "--geometry" && i + 1 < argc) geometry_path = argv[++i];
    else {
      Config c;
      const auto eq = a.find('='), colon = a.find(':', eq);
      if (eq == std::string::npos || colon == std::string::npos) {
        std::fprintf(stderr, "error: expected NAME=CUBIN:TM,TN,TK,CM,CN,STAGES,SCHED, got %s\n", a.c_str());
        return 2;
      }
      c.name = a.substr(0, eq);
      c.cubin = a.substr(eq + 1, colon - eq - 1);
      std::string rest = a.substr(colon + 1);
      for (char& ch : rest) if (ch == ',') ch = ' ';
      std::istringstream in(rest);
      in >> c.tm >> c.tn >> c.tk >> c.cm >> c.cn >> c.stages >> c.schedule;
      configs.push_back(c);
    }
  }
  const bool bf16 = dtype == "bf16";
  const std::map<std::string, Geometry> geometry = read_geometry(geometry_path);
  std::vector<Shape> shapes;
  {
    std::string s = shapes_text;
    for (char& ch : s) if (ch == ',' || ch == 'x') ch = ' ';
    std::istringstream in(s);
    Shape p;
    while (in >> p.m >> p.n >> p.k) shapes.push_back(p);
  }
  CK(cuInit(0));
  CUdevice dev;
  CK(cuDeviceGet(&dev, 0));
  CUcontext ctx;
  CK(cuDevicePrimaryCtxRetain(&ctx, dev));
  CK(cuCtxSetCurrent(ctx));
  int sm_count = 0;
  CK(cuDeviceGetAttribute(&sm_count, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev));
  char device_name[256];
  CK(cuDeviceGetName(device_name, sizeof device_name, dev));
  std::printf("device %s, %d SMs, dtype %s\n", device_name, sm_count, dtype.c_str());

  std::vector<char> ref_image = read_file(reference_path);
  CUmodule ref_module;
  CK(cuModuleLoadData(&ref_module, ref_image.data()));
  CUfunction ref_kernel;
  CK(cuModuleGetFunction(&ref_kernel, ref_module, "gemm_reference"));

  struct Loaded { CUmodule module; CUfunction setup, gemm, info; unsigned long long info_values[4]; };
  std::vector<Loaded> loaded;
  for (const Config& c : configs) {
    std::vector<char> image = read_file(c.cubin);
    Loaded l{};
    CK(cuModuleLoadData(&l.module, image.data()));
    CK(cuModuleGetFunction(&l.setup, l.module, "cutlass_gemm_setup"));
    CK(cuModuleGetFunction(&l.gemm, l.module, "cutlass_gemm"));
    CK(cuModuleGetFunction(&l.info, l.module, "cutlass_gemm_info"));
    CUdeviceptr out;
    CK(cuMemAlloc(&out, 4 * sizeof(unsigned long long)));
    void* info_args[] = {&out};
    CK(cuLaunchKernel(l.info, 1, 1, 1, 1, 1, 1, 0, nullptr, info_args, nullptr));
    CK(cuMemcpyDtoH(l.info_values, out, sizeof l.info_values));
    CK(cuMemFree(out));
    int regs = 0;
    CK(cuFuncGetAttribute(&regs, CU_FUNC_ATTRIBUTE_NUM_REGS, l.gemm));
    std::printf("%s: params %llu B, shared memory %llu B, %llu threads, %llu stages, %d registers\n",
                c.name.c_str(), l.info_values[0], l.info_values[1], l.info_values[2],
                l.info_values[3], regs);
    if (l.info_values[2] != spec_block(c))
      std::printf("  MISMATCH: spec block %u != kernel's %llu\n", spec_block(c), l.info_values[2]);
    CK(cuFuncSetAttribute(l.gemm, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 232448));
    CK(cuFuncSetAttribute(l.gemm, CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1));
    loaded.push_back(l);
  }

  const CUtensorMapDataType type = bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
  // Multiples of 1/64 in [-1, 1] (exact in bf16 and fp16), from a cheap generator: a few hundred
  // million values a shape.
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto value = [&state]() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return int((state >> 33) % 129) - 64;
  };
  CUevent start, stop;
  CK(cuEventCreate(&start, 0));
  CK(cuEventCreate(&stop, 0));

  for (const Shape& p : shapes) {
    const size_t a_count = size_t(p.m) * p.k, w_count = size_t(p.n) * p.k, d_count = size_t(p.m) * p.n;
    std::vector<uint16_t> host_a(a_count), host_w(w_count);
    for (auto& x : host_a) x = from_float(value() / 64.0f, bf16);
    for (auto& x : host_w) x = from_float(value() / 64.0f, bf16);
    CUdeviceptr A, W, D, R, params;
    CK(cuMemAlloc(&A, a_count * 2));
    CK(cuMemAlloc(&W, w_count * 2));
    CK(cuMemAlloc(&D, d_count * 2));
    CK(cuMemAlloc(&R, d_count * 2));
    CK(cuMemAlloc(&params, 1 << 16));
    CK(cuMemcpyHtoD(A, host_a.data(), a_count * 2));
    CK(cuMemcpyHtoD(W, host_w.data(), w_count * 2));
    {
      int m = p.m, n = p.n, k = p.k, ctas = sm_count;
      CUtensorMap unused{};  // the reference takes the spec's whole argument list, reads no map
      void* args[] = {&A, &W, &R, &params, &unused, &unused, &unused, &m, &n, &k, &ctas};
      CK(cuLaunchKernel(ref_kernel, ceil_div(p.n, 32), ceil_div(p.m, 8), 1, 32, 8, 1, 0, nullptr, args, nullptr));
      CK(cuCtxSynchronize());
    }
    std::vector<uint16_t> host_r(d_count), host_d(d_count);
    CK(cuMemcpyDtoH(host_r.data(), R, d_count * 2));
    const double flops = 2.0 * p.m * p.n * p.k;

    for (size_t ci = 0; ci < configs.size(); ++ci) {
      const Config& c = configs[ci];
      Loaded& l = loaded[ci];
      TensorMapSpec maps[3] = {spec_map_A(c, p), spec_map_W(c, p), spec_map_D(c, p)};
      unsigned grid[3], block = spec_block(c), smem = unsigned(l.info_values[1]);
      unsigned cluster_dims[2] = {unsigned(c.cm), unsigned(c.cn)};
      spec_grid(c, p, sm_count, grid);
      const std::string key = c.name + " " + std::to_string(p.m) + "x" + std::to_string(p.n) + "x" + std::to_string(p.k);
      if (auto g = geometry.find(key); g != geometry.end()) {
        const Geometry& sg = g->second;
        for (int i = 0; i < 3; ++i)
          if (!same_map(maps[i], sg.maps[i])) std::printf("  %s: tensor map %d differs from the harness's formula\n", key.c_str(), i);
        if (sg.grid[0] != grid[0] || sg.grid[1] != grid[1] || sg.grid[2] != grid[2] || sg.block != block ||
            sg.cluster[0] != cluster_dims[0] || sg.cluster[1] != cluster_dims[1])
          std::printf("  %s: the spec's launch differs from the harness's formula\n", key.c_str());
        if (sg.smem < smem) {
          std::printf("RESULT %s %s: the spec's shared_memory %u < the kernel's %u\n", dtype.c_str(), key.c_str(), sg.smem, smem);
          continue;
        }
        for (int i = 0; i < 3; ++i) maps[i] = sg.maps[i];
        std::copy(sg.grid, sg.grid + 3, grid);
        block = sg.block; smem = sg.smem;
        cluster_dims[0] = sg.cluster[0]; cluster_dims[1] = sg.cluster[1];
        std::printf("  %s: launching the spec's geometry (grid, block, shared memory %u, cluster, tensor maps)\n", key.c_str(), smem);
      }
      CUtensorMap map_a = encode(maps[0], type, 2, A, "tma_A");
      CUtensorMap map_w = encode(maps[1], type, 2, W, "tma_W");
      CUtensorMap map_d = encode(maps[2], type, 2, D, "tma_D");
      int m = p.m, n = p.n, k = p.k, ctas = sm_count;
      // The spec's argument list, in order: every kernel of the spec takes all of it.
      void* spec_args[] = {&A, &W, &D, &params, &map_a, &map_w, &map_d, &m, &n, &k, &ctas};
      CK(cuLaunchKernel(l.setup, 1, 1, 1, 32, 1, 1, 0, nullptr, spec_args, nullptr));
      CK(cuMemsetD8(D, 0, d_count * 2));
      CUlaunchAttribute cluster{};
      cluster.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
      cluster.value.clusterDim.x = cluster_dims[0];
      cluster.value.clusterDim.y = cluster_dims[1];
      cluster.value.clusterDim.z = 1;
      CUlaunchConfig launch{};
      launch.gridDimX = grid[0]; launch.gridDimY = grid[1]; launch.gridDimZ = grid[2];
      launch.blockDimX = block; launch.blockDimY = 1; launch.blockDimZ = 1;
      launch.sharedMemBytes = smem;
      launch.attrs = &cluster;
      launch.numAttrs = 1;
      CK(cuLaunchKernelEx(&launch, l.gemm, spec_args, nullptr));
      CUresult r = cuCtxSynchronize();
      if (r != CUDA_SUCCESS) {
        const char* name = nullptr;
        cuGetErrorName(r, &name);
        std::printf("%s %dx%dx%d: launch failed: %s\n", c.name.c_str(), p.m, p.n, p.k, name);
        return 1;
      }
      CK(cuMemcpyDtoH(host_d.data(), D, d_count * 2));
      size_t wrong = 0, first_wrong = 0;
      double max_error = 0;
      for (size_t i = 0; i < d_count; ++i) {
        const float x = to_float(host_d[i], bf16), ref = to_float(host_r[i], bf16);
        const double err = std::fabs(double(x) - ref);
        max_error = std::max(max_error, err);
        if (!(err <= 1e-2 * std::fabs(ref) + 2e-2)) { if (!wrong) first_wrong = i; ++wrong; }
      }
      for (int i = 0; i < 5; ++i) CK(cuLaunchKernelEx(&launch, l.gemm, spec_args, nullptr));
      std::vector<float> ms;
      for (int i = 0; i < 50; ++i) {
        CK(cuEventRecord(start, nullptr));
        CK(cuLaunchKernelEx(&launch, l.gemm, spec_args, nullptr));
        CK(cuEventRecord(stop, nullptr));
        CK(cuEventSynchronize(stop));
        float t;
        CK(cuEventElapsedTime(&t, start, stop));
        ms.push_back(t);
      }
      const double med = median(ms);
      std::printf("RESULT %s %s %dx%dx%d grid [%u,%u,%u] cluster [%d,%d] median %.4f ms %.1f TFLOP/s "
                  "verify %s (max abs error %.3g",
                  dtype.c_str(), c.name.c_str(), p.m, p.n, p.k, grid[0], grid[1], grid[2], int(cluster_dims[0]),
                  int(cluster_dims[1]), med, flops / med / 1e9, wrong ? "FAILED" : "ok", max_error);
      if (wrong)
        std::printf(", %zu wrong, first at row %zu col %zu: %g vs %g", wrong, first_wrong / p.n,
                    first_wrong % p.n, to_float(host_d[first_wrong], bf16), to_float(host_r[first_wrong], bf16));
      std::printf(")\n");
      std::fflush(stdout);
    }
    CK(cuMemFree(A)); CK(cuMemFree(W)); CK(cuMemFree(D)); CK(cuMemFree(R)); CK(cuMemFree(params));
  }
  return 0;
}
