// `ktune check SPEC` — the checks before any launch, alone: the spec parses, NVRTC resolves its
// entry for the default configuration, and its args match the kernel's parameter list
// (engine/kernel_check.hpp; `ktune space` and `ktune compile` run the same check first).
#include <cstdio>

#include "tools/commands.hpp"
#include "tools/spec_loading.hpp"

namespace ktune::cli {

void add_check_command(CLI::App& app) {
  struct CheckOptions {
    std::string spec, arch;
  };
  auto options = std::make_shared<CheckOptions>();
  auto* cmd = app.add_subcommand("check", "Check a spec against its kernel: NVRTC resolves the entry, args match its parameters");
  cmd->add_option("spec", options->spec, "Kernel spec (JSON)")->required();
  cmd->add_option("--arch", options->arch, "Architecture to compile the check for (default: the first GPU's, else sm_90)");
  cmd->footer("Exit status: 0 when the spec matches its kernel, 1 with one line naming the field otherwise, 2 for a usage error.");
  cmd->callback([options] {
    const KernelSpec spec = load_spec(options->spec);
    std::printf("%s: ok, %s\n", options->spec.c_str(), check_entry_and_args(spec, choose_compile_arch(options->arch, spec)).c_str());
  });
}

}  // namespace ktune::cli
