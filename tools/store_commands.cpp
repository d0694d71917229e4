// `ktune show|export|import` — placeholder until the Store issue lands the store.
#include "tools/commands.hpp"

namespace ktune::cli {
void add_store_commands(CLI::App&) {}
}  // namespace ktune::cli
