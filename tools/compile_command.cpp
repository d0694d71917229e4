// `ktune compile` — placeholder until the Workers issue lands the compile pool.
#include "tools/commands.hpp"

namespace ktune::cli {
void add_compile_command(CLI::App& app) {
  app.add_subcommand("compile", "Compile every valid configuration of a spec (not implemented yet)")
      ->callback([] { throw CliFailure("ktune compile is not implemented yet"); });
}
}  // namespace ktune::cli
