#pragma once
// The ktune CLI is one table of subcommands; each subcommand lives in its own file and adds itself
// to the app here. A subcommand reports failure by throwing (KtuneError or CliFailure); main
// prints one line and exits non-zero.
#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>

namespace ktune::cli {

// A failure already explained to the user; main prints the message and exits with `code`.
class CliFailure : public std::runtime_error {
 public:
  explicit CliFailure(const std::string& message, int code = 1) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

void add_doctor_command(CLI::App& app);
void add_space_command(CLI::App& app);
void add_check_command(CLI::App& app);    // the entry/args check alone
void add_key_command(CLI::App& app);
void add_compile_command(CLI::App& app);  // workers/
void add_store_commands(CLI::App& app);   // show, export, import, merge (store/)
void add_lookup_command(CLI::App& app);
void add_tune_command(CLI::App& app);    // tune and bench
void add_replay_command(CLI::App& app);
void add_sweep_command(CLI::App& app);   // many kernels x many sizes (engine/sweep.hpp)

}  // namespace ktune::cli
