#include "engine/cuda/driver_api.hpp"

#include <dlfcn.h>

#include <mutex>
#include <optional>

namespace ktune::cuda {

namespace {

using GetProcAddress = CUresult (*)(const char*, void**, int, cuuint64_t, CUdriverProcAddressQueryResult*);

Result<const DriverApi*> load_once() {
  static DriverApi api;
  // The handle is never closed: unloading the driver while contexts may exist is unsafe.
  void* handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    return make_error(Errc::no_gpu, std::string("no NVIDIA driver: cannot load libcuda.so.1 (") +
                                        (why ? why : "unknown reason") + ")");
  }
  auto get_proc = reinterpret_cast<GetProcAddress>(dlsym(handle, "cuGetProcAddress_v2"));
  auto init = reinterpret_cast<CUresult (*)(unsigned)>(dlsym(handle, "cuInit"));
  auto driver_get_version = reinterpret_cast<CUresult (*)(int*)>(dlsym(handle, "cuDriverGetVersion"));
  if (!get_proc || !init || !driver_get_version)
    return make_error(Errc::no_gpu, "the NVIDIA driver is too old: libcuda.so.1 lacks cuGetProcAddress_v2");

  CUresult rc = init(0);
  if (rc != CUDA_SUCCESS) {
    auto get_error = reinterpret_cast<CUresult (*)(CUresult, const char**)>(dlsym(handle, "cuGetErrorString"));
    const char* text = nullptr;
    if (get_error) get_error(rc, &text);
    return make_error(Errc::no_gpu, std::string("cuInit failed: ") + (text ? text : "error " + std::to_string(rc)));
  }
  driver_get_version(&api.driver_version);

  std::optional<std::string> missing;
  auto fetch = [&](const char* symbol, auto& fn) {
    void* pfn = nullptr;
    CUdriverProcAddressQueryResult status{};
    if (get_proc(symbol, &pfn, CUDA_VERSION, CU_GET_PROC_ADDRESS_DEFAULT, &status) != CUDA_SUCCESS || !pfn) {
      if (!missing) missing = symbol;
      return;
    }
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(pfn);
  };
#define KTUNE_DRIVER_FETCH(name) fetch(#name, api.name);
  KTUNE_DRIVER_FUNCTIONS(KTUNE_DRIVER_FETCH)
#undef KTUNE_DRIVER_FETCH
  if (missing) return make_error(Errc::no_gpu, "the NVIDIA driver does not provide " + *missing);
  return &api;
}

}  // namespace

Result<const DriverApi*> DriverApi::load() {
  static std::once_flag once;
  static std::optional<Result<const DriverApi*>> outcome;
  std::call_once(once, [] { outcome.emplace(load_once()); });
  return *outcome;
}

std::string DriverApi::error_text(CUresult result) const {
  const char* name = nullptr;
  const char* text = nullptr;
  if (cuGetErrorName) cuGetErrorName(result, &name);
  if (cuGetErrorString) cuGetErrorString(result, &text);
  std::string out = name ? name : "CUDA error " + std::to_string(static_cast<int>(result));
  if (text) out += std::string(": ") + text;
  return out;
}

Result<std::vector<DeviceInfo>> list_devices() {
  auto api = DriverApi::load();
  if (!api) return api.error();
  const DriverApi& d = **api;
  int count = 0;
  if (CUresult rc = d.cuDeviceGetCount(&count); rc != CUDA_SUCCESS)
    return make_error(Errc::no_gpu, "cuDeviceGetCount failed: " + d.error_text(rc));
  if (count == 0) return make_error(Errc::no_gpu, "the NVIDIA driver is loaded but sees no GPU");
  std::vector<DeviceInfo> devices;
  for (int i = 0; i < count; ++i) {
    CUdevice dev = 0;
    if (CUresult rc = d.cuDeviceGet(&dev, i); rc != CUDA_SUCCESS)
      return make_error(Errc::no_gpu, "cuDeviceGet(" + std::to_string(i) + ") failed: " + d.error_text(rc));
    DeviceInfo info;
    info.ordinal = i;
    char name[256] = {};
    d.cuDeviceGetName(name, sizeof name, dev);
    info.name = name;
    auto attr = [&](CUdevice_attribute a) {
      int v = 0;
      d.cuDeviceGetAttribute(&v, a, dev);
      return v;
    };
    info.cc_major = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
    info.cc_minor = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
    info.arch = "sm_" + std::to_string(info.cc_major) + std::to_string(info.cc_minor);
    info.multiprocessors = attr(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    info.l2_cache_bytes = attr(CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE);
    info.max_shared_memory_per_block = attr(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK);
    info.max_shared_memory_per_block_optin = attr(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
    info.max_shared_memory_per_sm = attr(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR);
    info.max_registers_per_block = attr(CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK);
    info.max_threads_per_block = attr(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
    info.max_threads_per_sm = attr(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR);
    info.max_block_dim[0] = attr(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X);
    info.max_block_dim[1] = attr(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y);
    info.max_block_dim[2] = attr(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z);
    info.max_grid_dim[0] = attr(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X);
    info.max_grid_dim[1] = attr(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y);
    info.max_grid_dim[2] = attr(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z);
    info.clock_khz = attr(CU_DEVICE_ATTRIBUTE_CLOCK_RATE);
    info.memory_clock_khz = attr(CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE);
    info.memory_bus_width_bits = attr(CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH);
    char bus[32] = {};
    if (d.cuDeviceGetPCIBusId(bus, sizeof bus, dev) == CUDA_SUCCESS) info.pci_bus_id = bus;
    d.cuDeviceTotalMem(&info.total_memory, dev);
    devices.push_back(std::move(info));
  }
  return devices;
}

}  // namespace ktune::cuda
