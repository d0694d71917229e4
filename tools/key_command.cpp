#include "tools/commands.hpp"
namespace ktune::cli {
void add_key_command(CLI::App&) {}
}  // namespace ktune::cli
