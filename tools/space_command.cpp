#include "tools/commands.hpp"
namespace ktune::cli {
void add_space_command(CLI::App&) {}
}  // namespace ktune::cli
