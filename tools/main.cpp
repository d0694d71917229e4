// ktune: the command-line tool. One table of subcommands (commands.hpp); every error is one line
// on stderr and a non-zero exit status.
#include <cstdio>
#include <exception>

#include "engine/common/printable.hpp"
#include "engine/common/result.hpp"
#include "engine/version.hpp"
#include "tools/commands.hpp"
#include "tools/text_output.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ktune: autotune CUDA kernels — compile the candidate configurations in parallel, "
               "benchmark them on the GPU, remember the winner.",
               "ktune"};
  app.set_version_flag("--version", std::string("ktune ") + ktune::version_string());
  app.require_subcommand(1);
  app.fallthrough();

  ktune::cli::add_doctor_command(app);
  ktune::cli::add_space_command(app);
  ktune::cli::add_check_command(app);
  ktune::cli::add_key_command(app);
  ktune::cli::add_compile_command(app);
  ktune::cli::add_store_commands(app);
  ktune::cli::add_lookup_command(app);
  ktune::cli::add_tune_command(app);
  ktune::cli::add_replay_command(app);
  ktune::cli::add_sweep_command(app);

  try {
    app.parse(argc, argv);
    // A command that printed into a full disk or a closed pipe has not done its job.
    ktune::cli::finish_standard_output();
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; real usage errors get one line.
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "ktune: error: %s (see ktune --help)\n", ktune::printable(e.what()).c_str());
    return 2;
  } catch (const ktune::cli::CliFailure& e) {
    std::fprintf(stderr, "ktune: error: %s\n", ktune::printable(e.what()).c_str());
    return e.code();
  } catch (const ktune::KtuneError& e) {
    std::fprintf(stderr, "ktune: error: %s\n", ktune::printable(e.what()).c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ktune: internal error: %s\n", ktune::printable(e.what()).c_str());
    return 70;
  }
  return 0;
}
