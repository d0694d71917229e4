#include "tools/kernel_tuner_import_command.hpp"

#include <cstdio>

#include "engine/kernel_tuner_import.hpp"
#include "engine/store_file.hpp"
#include "tools/spec_loading.hpp"

namespace ktune::cli {

void add_kernel_tuner_import_options(CLI::App& cmd, KernelTunerImportArgs& args) {
  cmd.add_option("--format", args.format, "ktune (an exported lookup table, the default) or kernel-tuner (a Kernel Tuner cache file, .json or .json.gz)")
      ->check(CLI::IsMember({"ktune", "kernel-tuner"}));
  cmd.add_option("--spec", args.spec, "kernel-tuner: the ktune spec of the cache's kernel and search space");
  cmd.add_option("--sizes", args.sizes, "kernel-tuner: problem sizes, e.g. W=4096,H=4096 (default: the cache's problem_size, in the spec's size order)");
  cmd.add_option("--device", args.device, "kernel-tuner: the GPU's name (default: the cache's device_name)");
  cmd.add_option("--arch", args.arch, "kernel-tuner: its architecture, e.g. sm_86 (default: unknown; Kernel Tuner does not record it)");
  cmd.add_option("--nvrtc", args.nvrtc, "kernel-tuner: the toolchain to file the measurements under (default: this build's NVRTC)");
}

bool run_kernel_tuner_import(const KernelTunerImportArgs& args, const std::string& file, const std::string& db_option) {
  if (args.format != "kernel-tuner") {
    if (!args.spec.empty() || !args.sizes.empty() || !args.device.empty() || !args.arch.empty() || !args.nvrtc.empty())
      throw CliFailure("--spec, --sizes, --device, --arch and --nvrtc belong to --format kernel-tuner");
    return false;
  }
  if (args.spec.empty()) throw CliFailure("--format kernel-tuner needs --spec: the ktune spec of the cache's kernel");
  if (file == "-") throw CliFailure("--format kernel-tuner reads a file, not standard input");
  const KernelSpec spec = load_spec(args.spec);
  KernelTunerImportOptions options;
  if (!args.sizes.empty()) options.sizes = parse_sizes(args.sizes, spec);
  options.device = args.device;
  if (!args.arch.empty()) options.arch = args.arch;
  if (!args.nvrtc.empty()) options.toolchain = Toolchain{args.nvrtc};
  const std::filesystem::path store_path = default_store_path(db_option);
  auto summary = import_kernel_tuner_cache(file, spec, store_path, options);
  if (!summary) throw CliFailure(summary.error().message);
  std::string counts;
  for (const auto& [status, n] : summary->by_status) counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + status;
  std::printf("imported %zu measurements of %s (%s) at %s on %s (%s, nvrtc %s) into %s\n", summary->entries, spec.name.c_str(),
              counts.c_str(), format_named(summary->sizes).c_str(), summary->device.name.c_str(), summary->device.arch.c_str(),
              summary->toolchain.nvrtc_version.c_str(), store_path.c_str());
  return true;
}

}  // namespace ktune::cli
