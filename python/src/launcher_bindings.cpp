// The launcher's native half: a tuned kernel's cubin loaded into the caller's process through the
// CUDA driver API (loaded at run time, engine/cuda/driver_api.hpp) in the device's primary context
// — the one PyTorch and CuPy use — and launched with pointers the caller passes on the caller's
// stream. Everything that does not change between calls (the function, the geometry, the scalar
// arguments' bytes) is prepared once, so a call packs the pointers and calls cuLaunchKernel.
#include "launcher_bindings.hpp"

#include <nanobind/ndarray.h>
#include <nanobind/stl/array.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <optional>
#include <string>
#include <vector>

#include "engine/common/element_type.hpp"
#include "engine/cuda/driver_api.hpp"
#include "engine/model/instantiate.hpp"
#include "errors.hpp"
#include "named_values.hpp"
#include "spec_bindings.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace ktune::python {
namespace {

constexpr int kDefaultDynamicSharedLimit = 48 * 1024;  // above it a kernel must opt in

[[noreturn]] void driver_failed(const cuda::DriverApi& api, CUresult rc, const std::string& what) {
  throw KtuneError(make_error(Errc::internal, what + ": " + api.error_text(rc)));
}

// One argument of the kernel as the launcher passes it: a pointer the caller gives, or a scalar
// whose bytes the spec fixes at the sizes.
struct Slot {
  bool is_buffer = false;
  std::vector<std::byte> scalar;  // the scalar's bytes in its own type
};

class LoadedKernel {
 public:
  LoadedKernel(const nb::bytes& cubin, const std::string& entry, int device, std::array<unsigned, 3> grid,
               std::array<unsigned, 3> block, unsigned shared_bytes, std::vector<std::optional<nb::bytes>> scalars)
      : grid_(grid), block_(block), shared_bytes_(shared_bytes) {
    api_ = unwrap(cuda::DriverApi::load());
    for (const auto& s : scalars) {
      Slot slot;
      slot.is_buffer = !s.has_value();
      if (s) {
        const auto* data = static_cast<const std::byte*>(s->data());
        slot.scalar.assign(data, data + s->size());
      } else {
        ++buffers_;
      }
      slots_.push_back(std::move(slot));
    }
    CUdevice dev = 0;
    if (CUresult rc = api_->cuDeviceGet(&dev, device); rc != CUDA_SUCCESS) driver_failed(*api_, rc, "cuDeviceGet(" + std::to_string(device) + ")");
    if (CUresult rc = api_->cuDevicePrimaryCtxRetain(&context_, dev); rc != CUDA_SUCCESS)
      driver_failed(*api_, rc, "cuDevicePrimaryCtxRetain");
    device_ = dev;
    if (CUresult rc = api_->cuCtxSetCurrent(context_); rc != CUDA_SUCCESS) driver_failed(*api_, rc, "cuCtxSetCurrent");
    if (CUresult rc = api_->cuLibraryLoadData(&library_, cubin.c_str(), nullptr, nullptr, 0, nullptr, nullptr, 0);
        rc != CUDA_SUCCESS)
      driver_failed(*api_, rc, "cuLibraryLoadData (the tuned cubin)");
    CUkernel kernel = nullptr;
    if (CUresult rc = api_->cuLibraryGetKernel(&kernel, library_, entry.c_str()); rc != CUDA_SUCCESS)
      driver_failed(*api_, rc, "cuLibraryGetKernel(" + entry + ")");
    if (CUresult rc = api_->cuKernelGetFunction(&function_, kernel); rc != CUDA_SUCCESS)
      driver_failed(*api_, rc, "cuKernelGetFunction(" + entry + ")");
    if (shared_bytes_ > kDefaultDynamicSharedLimit) {
      if (CUresult rc = api_->cuFuncSetAttribute(function_, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                                 static_cast<int>(shared_bytes_));
          rc != CUDA_SUCCESS)
        driver_failed(*api_, rc, "cuFuncSetAttribute(max dynamic shared memory " + std::to_string(shared_bytes_) + ")");
    }
  }
  LoadedKernel(const LoadedKernel&) = delete;
  LoadedKernel& operator=(const LoadedKernel&) = delete;
  ~LoadedKernel() {
    if (library_) api_->cuLibraryUnload(library_);
    if (context_) api_->cuDevicePrimaryCtxRelease(device_);
  }

  // pointers: one device address per buffer argument, in the kernel's order.
  void launch(std::uintptr_t stream, const nb::sequence& pointers) {
    const std::size_t given = nb::len(pointers);
    if (given != buffers_)
      throw KtuneError(make_error(Errc::invalid_argument, "the kernel takes " + std::to_string(buffers_) +
                                                              " buffers, " + std::to_string(given) + " given"));
    std::array<void*, 64> small{};
    std::vector<void*> large;
    std::array<std::uint64_t, 64> addresses{};
    std::vector<std::uint64_t> large_addresses;
    void** params = small.data();
    std::uint64_t* address = addresses.data();
    if (slots_.size() > small.size()) {
      large.resize(slots_.size());
      large_addresses.resize(slots_.size());
      params = large.data();
      address = large_addresses.data();
    }
    std::size_t b = 0;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].is_buffer) {
        address[i] = nb::cast<std::uint64_t>(pointers[b++]);
        params[i] = &address[i];
      } else {
        params[i] = const_cast<std::byte*>(slots_[i].scalar.data());
      }
    }
    CUresult rc = CUDA_SUCCESS;
    {
      nb::gil_scoped_release unlocked;
      rc = api_->cuCtxSetCurrent(context_);  // the primary context, as the frameworks use it
      if (rc == CUDA_SUCCESS)
        rc = api_->cuLaunchKernel(function_, grid_[0], grid_[1], grid_[2], block_[0], block_[1], block_[2], shared_bytes_,
                                  reinterpret_cast<CUstream>(stream), params, nullptr);
    }
    if (rc != CUDA_SUCCESS) driver_failed(*api_, rc, "cuLaunchKernel");
  }

  // Copies host bytes into a __constant__ symbol of the loaded cubin (the spec's `constants`).
  void set_constant(const std::string& symbol, const nb::bytes& data) {
    CUdeviceptr address = 0;
    std::size_t size = 0;
    if (CUresult rc = api_->cuLibraryGetGlobal(&address, &size, library_, symbol.c_str()); rc != CUDA_SUCCESS)
      throw KtuneError(make_error(Errc::invalid_argument, "no __constant__ symbol named " + symbol + " in the cubin"));
    if (data.size() > size)
      throw KtuneError(make_error(Errc::invalid_argument, "__constant__ " + symbol + " holds " + std::to_string(size) +
                                                              " bytes, its data is " + std::to_string(data.size()) + " bytes"));
    if (CUresult rc = api_->cuCtxSetCurrent(context_); rc != CUDA_SUCCESS) driver_failed(*api_, rc, "cuCtxSetCurrent");
    if (CUresult rc = api_->cuMemcpyHtoD(address, data.c_str(), data.size()); rc != CUDA_SUCCESS)
      driver_failed(*api_, rc, "cuMemcpyHtoD(__constant__ " + symbol + ")");
  }

  std::size_t buffers() const { return buffers_; }

 private:
  const cuda::DriverApi* api_ = nullptr;
  std::array<unsigned, 3> grid_{}, block_{};
  unsigned shared_bytes_ = 0;
  std::vector<Slot> slots_;
  std::size_t buffers_ = 0;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  CUlibrary library_ = nullptr;
  CUfunction function_ = nullptr;
};

// The spec's arguments at these sizes for this configuration: (name, type, is_buffer, count of a
// buffer or None, bytes of a scalar or None).
nb::list launch_arguments(const Spec& spec, const nb::handle& config, const nb::handle& sizes) {
  const KernelSpec& kernel = spec.kernel.spec();
  Sizes ordered = unwrap(kernel.ordered_sizes(named_from_dict(sizes, "sizes")));
  Config chosen = named_from_dict(config, "config");
  runner::Problem problem = unwrap(make_problem(kernel, ordered));
  runner::LaunchPlan plan = unwrap(plan_launch(kernel, chosen, ordered));
  nb::list out;
  for (std::size_t a = 0; a < kernel.args.size(); ++a) {
    const Argument& arg = kernel.args[a];
    const runner::ArgSlot& slot = problem.args[a];
    if (slot.is_tensor_map)
      throw std::invalid_argument("args." + arg.name + ": tensor_map arguments are not supported by the Python launcher yet");
    if (slot.is_buffer) {
      out.append(nb::make_tuple(arg.name, element_type_name(arg.type), true, problem.buffers[slot.index].count, nb::none()));
    } else {
      std::vector<std::byte> bytes = plan.scalars[slot.index].bytes();
      out.append(nb::make_tuple(arg.name, element_type_name(arg.type), false, nb::none(),
                                nb::bytes(bytes.data(), bytes.size())));
    }
  }
  return out;
}

}  // namespace

void bind_launcher(nb::module_& m) {
  nb::class_<LoadedKernel>(m, "LoadedKernel",
                           "A cubin loaded into this process (the device's primary context), launched with device "
                           "pointers on a stream the caller names (ktune.Kernel wraps it).")
      .def(nb::init<const nb::bytes&, const std::string&, int, std::array<unsigned, 3>, std::array<unsigned, 3>, unsigned,
                    std::vector<std::optional<nb::bytes>>>(),
           "cubin"_a, "entry"_a, "device"_a, "grid"_a, "block"_a, "shared_bytes"_a, "scalars"_a)
      .def("launch", &LoadedKernel::launch, "stream"_a, "pointers"_a)
      .def("set_constant", &LoadedKernel::set_constant, "symbol"_a, "data"_a)
      .def_prop_ro("buffers", &LoadedKernel::buffers);

  m.def("launch_arguments", &launch_arguments, "spec"_a, "config"_a, "sizes"_a,
        "The spec's arguments for this configuration at these sizes: (name, type, is_buffer, count, scalar bytes).");

  m.def(
      "dlpack_pointer",
      [](nb::ndarray<nb::ro> array) {
        return nb::make_tuple(reinterpret_cast<std::uintptr_t>(array.data()), array.device_type(), array.size(),
                              array.dtype().code, array.dtype().bits);
      },
      "array"_a,
      "(address, DLPack device type, element count, dtype code, dtype bits) of a DLPack-capable array.");
}

}  // namespace ktune::python
