// `ktune check SPEC [--size ...]` — the checks before any launch, alone: the spec parses, NVRTC
// resolves its entry for the default configuration (an entry that names parameters: each kernel it
// resolves to), and its args match the kernel's parameter list
// (engine/kernel_check.hpp; `ktune space` and `ktune compile` run the same check first).
#include <cstdio>
#include <optional>

#include "engine/kernel_check.hpp"

#include "tools/commands.hpp"
#include "tools/spec_loading.hpp"

namespace ktune::cli {

void add_check_command(CLI::App& app) {
  struct CheckOptions {
    std::string spec, arch, sizes;
  };
  auto options = std::make_shared<CheckOptions>();
  auto* cmd = app.add_subcommand("check", "Check a spec against its kernel: NVRTC resolves the entry, args match its parameters");
  cmd->add_option("spec", options->spec, "Kernel spec (JSON)")->required();
  cmd->add_option("--arch", options->arch, "Architecture to compile the check for (default: the first GPU's, else sm_90)");
  cmd->add_option("--size,-s", options->sizes,
                  "Problem sizes, e.g. W=4096,H=4096: a spec with sizes_to_preprocessor is checked at them (and needs them); "
                  "entries that name parameters are checked over the configurations valid at them");
  cmd->footer("Exit status: 0 when the spec matches its kernel, 1 with one line naming the field otherwise, 2 for a usage error.");
  cmd->callback([options] {
    const KernelSpec spec = load_spec(options->spec);
    std::optional<Sizes> sizes;
    if (!options->sizes.empty()) sizes = parse_sizes(options->sizes, spec);
    const std::string arch = choose_compile_arch(options->arch, spec);
    // `check` exists to say whether the spec matches its kernel: one it cannot check is a usage error.
    if (spec.sizes_to_preprocessor && !sizes)
      throw CliFailure(options->spec + ": " + check_kernel_signatures(spec, arch).error().message, 2);
    std::printf("%s: ok, %s\n", options->spec.c_str(),
                check_entry_and_args(spec, arch, nullptr, false, sizes ? &*sizes : nullptr).c_str());
  });
}

}  // namespace ktune::cli
