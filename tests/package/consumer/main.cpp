// A program of another project, built against an installed ktune through find_package(ktune):
// proves the installed headers, library and CMake package are complete.
#include <cstdio>

#include "engine/engine.hpp"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  auto spec = ktune::KernelSpec::from_file(argv[1]);
  if (!spec) {
    std::fprintf(stderr, "%s\n", spec.error().message.c_str());
    return 1;
  }
  ktune::EngineOptions options;
  options.store_path = argv[2];
  auto engine = ktune::Engine::create(options);
  if (!engine) {
    std::fprintf(stderr, "%s\n", engine.error().message.c_str());
    return 1;
  }
  auto answer = (*engine)->lookup(*spec, {{"M", 4096}, {"N", 4096}, {"K", 4096}}, {"NVIDIA H100 80GB HBM3", "sm_90"});
  if (!answer) return 1;
  const auto& config = answer->entry ? answer->entry->config : spec->default_config;
  std::printf("%s (%s)\n", ktune::format_named(config).c_str(), std::string(ktune::store::to_string(answer->rule)).c_str());
  return 0;
}
