// A tuning session in its own process, for tests/test_sweep_resume.cpp: a TuningSession with the
// replay evaluator (real H100 measurements of examples/sgemm.json at M=N=K=2048, recorded in
// tests/data/h100-sgemm.db) writing a real store, so the test can SIGKILL it half-way and rerun it.
//
//   tuning_child STORE exhaustive|coordesc KILL_AFTER LOG [DELAY_MS]
//
// Every finished evaluation is appended to LOG as one line (its configuration) from the session's
// on_evaluation hook, with write(2) so a kill loses no logged line. With KILL_AFTER = k > 0 the
// process raises SIGKILL on itself right after logging the k-th evaluation; DELAY_MS sleeps in the
// hook, standing in for GPU time, so a kill from outside lands in the middle of the run.
// On completion it prints "evaluated N", "from_store M", "best CONFIG", "best_ns T" (one per line)
// and exits 0; on an error it prints the error on stderr and exits 1.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "tests/helpers/replayed_sgemm.hpp"

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: tuning_child STORE exhaustive|coordesc KILL_AFTER LOG [DELAY_MS]\n");
    return 2;
  }
  using namespace ktune;
  const std::string store_path = argv[1];
  const std::string strategy_name = argv[2];
  const long kill_after = std::atol(argv[3]);
  const int log_fd = ::open(argv[4], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const long delay_ms = argc == 6 ? std::atol(argv[5]) : 0;
  if (log_fd < 0) {
    std::perror("tuning_child: cannot open the log");
    return 1;
  }
  try {
    ktune::testing::ReplayedSgemm session;
    auto store = store::Store::open(store_path).value_or_throw();
    std::unique_ptr<Strategy> strategy = session.strategy(strategy_name);

    long seen = 0;
    TuneHooks hooks;
    hooks.on_evaluation = [&](const Evaluation& e) {
      if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      const std::string line = format_named(e.measurement.config) + "\n";
      if (::write(log_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) std::abort();
      if (++seen == kill_after) ::raise(SIGKILL);
    };
    auto ledger = MeasurementLedger::open(session.question, &store).value_or_throw();
    auto report = TuningSession(session.question, session.space, *strategy, *session.evaluator, ledger, {}, hooks).run();
    if (!report) {
      std::fprintf(stderr, "tuning_child: %s\n", report.error().message.c_str());
      return 1;
    }
    std::printf("evaluated %zu\nfrom_store %zu\nbest %s\nbest_ns %.3f\n", report->evaluated, report->from_store,
                format_named(report->best).c_str(), report->best_ns);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tuning_child: %s\n", e.what());
    return 1;
  }
}
