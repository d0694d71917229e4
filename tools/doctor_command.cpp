#include "tools/commands.hpp"
namespace ktune::cli {
void add_doctor_command(CLI::App&) {}
}  // namespace ktune::cli
