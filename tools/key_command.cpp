// `ktune key SPEC --size M=..,N=..` — the keys ktune files a tuning result under.
#include <cstdio>

#include "engine/model/toolchain.hpp"
#include "tools/commands.hpp"
#include "tools/spec_loading.hpp"

namespace ktune::cli {

namespace {
struct KeyOptions {
  std::string spec;
  std::string sizes;
  std::string device;
  std::string arch;
  bool canonical = false;
};
}  // namespace

void add_key_command(CLI::App& app) {
  auto options = std::make_shared<KeyOptions>();
  auto* cmd = app.add_subcommand("key", "Print the kernel key and the tuning key of a spec at given sizes");
  cmd->add_option("spec", options->spec, "Kernel spec (JSON)")->required();
  cmd->add_option("--size,-s", options->sizes, "Problem sizes, e.g. M=4096,N=4096,K=4096")->required();
  cmd->add_option("--device", options->device, "Device name (default: the first GPU)");
  cmd->add_option("--arch", options->arch, "Architecture, e.g. sm_90 (default: the first GPU's)");
  cmd->add_flag("--canonical", options->canonical, "Also print the canonical forms that are hashed");
  cmd->callback([options] {
    KernelSpec spec = load_spec(options->spec);
    Sizes sizes = parse_sizes(options->sizes, spec);
    DeviceSignature device = resolve_device(options->device, options->arch);
    Toolchain toolchain = current_toolchain();
    std::printf("kernel  %s  (%s)\n", kernel_key(spec).hex().c_str(), spec.name.c_str());
    std::printf("tuning  %s  (%s on %s %s, nvrtc %s)\n", tuning_key(spec, sizes, device, toolchain).hex().c_str(),
                format_named(sizes).c_str(), device.name.c_str(), device.arch.c_str(), toolchain.nvrtc_version.c_str());
    if (options->canonical) {
      std::printf("\nkernel canonical form:\n%s\n", kernel_canonical_form(spec).c_str());
      std::printf("\ntuning canonical form:\n%s\n", tuning_canonical_form(spec, sizes, device, toolchain).c_str());
    }
  });
}

}  // namespace ktune::cli
