#include "engine/model/compile_plan.hpp"

#include <cctype>
#include <cstdlib>
#include <filesystem>

namespace ktune {

Result<std::string> choose_arch(const std::string& requested, const std::string& device_arch, const KernelSpec& spec) {
  std::string arch = !requested.empty() ? requested : !device_arch.empty() ? device_arch : "sm_90";
  bool well_formed = arch.rfind("sm_", 0) == 0 && arch.size() >= 5;
  for (std::size_t i = 3; well_formed && i < arch.size(); ++i)
    well_formed = std::isdigit(static_cast<unsigned char>(arch[i])) || (i + 1 == arch.size() && arch[i] == 'a');
  if (!well_formed)
    return make_error(Errc::invalid_argument, "expected a real architecture such as sm_90, got '" + arch + "'");
  if (spec.arch_specific && arch.back() != 'a') arch += 'a';
  return arch;
}

namespace {
// NVRTC ships a few headers built in (cuda_fp16.h, ...) but not the toolkit's others (mma.h,
// cuda/pipeline, ...); kernels include those as they would with nvcc, so the toolkit's include
// folder is always on the path: $CUDA_HOME, else where this build found the toolkit.
std::string toolkit_include_dir() {
  static const std::string dir = [] {
    if (const char* home = std::getenv("CUDA_HOME"); home && *home && std::filesystem::exists(std::filesystem::path(home) / "include/cuda.h"))
      return (std::filesystem::path(home) / "include").string();
    return std::string(KTUNE_CUDA_INCLUDE_DIR);
  }();
  return dir;
}
}  // namespace

workers::CompileJob make_compile_job(const KernelSpec& spec, const Config& config, const std::string& arch,
                                     bool use_nvrtc_cache) {
  workers::CompileJob job;
  job.source = spec.source;
  job.source_name = spec.source_path.empty() ? spec.name + ".cu" : spec.source_path.filename().string();
  job.name_expressions = {spec.name_expression_for(config)};
  job.defines = spec.defines_for(config);
  job.options = spec.compile_options;
  for (const auto& dir : spec.include_dirs) job.options.push_back("-I" + dir.string());
  job.options.push_back("-I" + toolkit_include_dir());
  job.arch = arch;
  job.use_nvrtc_cache = use_nvrtc_cache;
  return job;
}

}  // namespace ktune
