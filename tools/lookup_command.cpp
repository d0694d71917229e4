#include "tools/commands.hpp"
namespace ktune::cli {
void add_lookup_command(CLI::App&) {}
}  // namespace ktune::cli
