#include "tools/spec_loading.hpp"

#include <cstdio>

#include "engine/cuda/driver_api.hpp"
#include "engine/compile_service.hpp"
#include "engine/kernel_check.hpp"
#include "engine/model/instantiate.hpp"
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

std::string choose_compile_arch(const std::string& requested, const KernelSpec& spec) {
  std::string device_arch;
  if (requested.empty())
    if (auto devices = cuda::list_devices(); devices && !devices->empty()) device_arch = devices->front().arch;
  auto arch = ktune::choose_arch(requested, device_arch, spec);
  if (!arch) throw CliFailure("--arch: " + arch.error().message);
  return *arch;
}

std::string check_entry_and_args(const KernelSpec& spec, const std::string& arch, CompileService* service,
                                 bool tolerate_compiler_failure, const Sizes* sizes) {
  const std::string origin = spec.spec_path.empty() ? spec.name : spec.spec_path.string();
  // Such a source may need its sizes to compile at all: without them the check is not made, and
  // that is said rather than passed over.
  if (spec.sizes_to_preprocessor && sizes == nullptr) {
    const std::string why = check_kernel_signatures(spec, arch, nullptr, nullptr).error().message;
    std::fprintf(stderr, "ktune: warning: %s: the entry and args were not checked: %s\n", origin.c_str(), why.c_str());
    return "not checked: " + why;
  }
  std::unique_ptr<CompileService> own;
  if (service == nullptr) {
    CompileServiceOptions options;
    options.workers = 1;
    options.use_cubin_cache = false;
    own = CompileService::create(options).value_or_throw();
    if (auto ready = own->wait_ready(); !ready) throw CliFailure("the compile workers did not start: " + ready.error().message);
    service = own.get();
  }
  auto signatures = check_kernel_signatures(spec, arch, service, sizes);
  if (!signatures && tolerate_compiler_failure && signatures.error().code == Errc::internal) {
    std::fprintf(stderr, "ktune: warning: %s: the entry and args were not checked: %s\n", origin.c_str(),
                 signatures.error().message.c_str());
    return "not checked: " + signatures.error().message;
  }
  if (!signatures) throw CliFailure(origin + ": " + signatures.error().message);
  std::string out;
  for (const auto& signature : *signatures)
    out += (out.empty() ? "" : "; ") + signature.name_expression + " -> " + signature.lowered_name + ", " +
           std::to_string(signature.params.size()) + " parameters match args";
  return out;
}

}  // namespace ktune::cli
