#include "tools/spec_loading.hpp"

#include "engine/cuda/driver_api.hpp"
#include "tools/commands.hpp"

namespace ktune::cli {

KernelSpec load_spec(const std::string& path) { return KernelSpec::from_file(path).value_or_throw(); }

Sizes parse_sizes(const std::string& text, const KernelSpec& spec) {
  auto sizes = parse_named(text);
  if (!sizes) throw CliFailure("--size: " + sizes.error().message);
  auto ordered = spec.ordered_sizes(*sizes);
  if (!ordered) throw CliFailure("--size: " + ordered.error().message);
  return std::move(*ordered);
}

DeviceSignature resolve_device(const std::string& device_name, const std::string& arch) {
  if (!device_name.empty() && !arch.empty()) return DeviceSignature{device_name, arch};
  auto devices = cuda::list_devices();
  if (!devices) {
    throw CliFailure(devices.error().message +
                     "; pass --device NAME --arch sm_XX to compute keys for another machine "
                     "(e.g. --device \"NVIDIA H100 80GB HBM3\" --arch sm_90)");
  }
  const auto& first = devices->front();
  return DeviceSignature{device_name.empty() ? first.name : device_name, arch.empty() ? first.arch : arch};
}

}  // namespace ktune::cli
