#pragma once
// `ktune import --format kernel-tuner CACHE.json[.gz] --spec SPEC.json`: the options and the run of
// the Kernel Tuner form of `ktune import` (engine/kernel_tuner_import.hpp). Kept apart from
// store_commands.cpp so the lookup-table import stays as it is.
#include <string>

#include "tools/commands.hpp"

namespace ktune::cli {

struct KernelTunerImportArgs {
  std::string format = "ktune";  // "ktune" (an exported lookup table) or "kernel-tuner"
  std::string spec, sizes, device, arch, nvrtc;
};

void add_kernel_tuner_import_options(CLI::App& import_command, KernelTunerImportArgs& args);
// False when --format is not kernel-tuner (the caller imports a lookup table); throws on failure.
bool run_kernel_tuner_import(const KernelTunerImportArgs& args, const std::string& file, const std::string& db_option);

}  // namespace ktune::cli
