// ktune-runner: the GPU runner process, one per GPU (engine/runner/README.md). Reads framed
// requests on stdin, answers on stdout; everything else it or its libraries print goes to stderr.
// Exits when its parent dies, when stdin closes, and after a poisoned context.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "engine/runner/gpu_session.hpp"
#include "engine/runner/runner_protocol.hpp"
#include "workers/process/frame_io.hpp"

namespace {

using ktune::process::IoOutcome;
using ktune::runner::RunnerOp;

int g_out = -1;  // the frame channel (the original stdout)

bool send(std::uint16_t type, const std::string& payload) {
  return ktune::process::write_all(g_out, ktune::process::encode_frame(type, payload)).outcome == IoOutcome::done;
}

int serve(int device) {
  auto session = ktune::runner::GpuSession::open(device);
  ktune::runner::RunnerHello hello;
  hello.pid = static_cast<int>(getpid());
  if (!session) {
    hello.ok = false;
    hello.error = session.error().message;
    send(ktune::runner::kRunnerHelloFrame, ktune::runner::encode_hello(hello));
    return 2;
  }
  hello.ok = true;
  hello.device = (*session)->device();
  hello.cupti = (*session)->cupti_available();
  if (!send(ktune::runner::kRunnerHelloFrame, ktune::runner::encode_hello(hello))) return 1;

  for (;;) {
    auto frame = ktune::process::read_frame(STDIN_FILENO);
    if (frame.outcome == IoOutcome::eof) return 0;
    if (frame.outcome != IoOutcome::done) {
      std::fprintf(stderr, "ktune-runner: %s\n", frame.error.c_str());
      return 1;
    }
    ktune::runner::RunnerResponse response;
    if (frame.message.type != ktune::runner::kRunnerRequestFrame) {
      std::fprintf(stderr, "ktune-runner: unexpected message type %u\n", static_cast<unsigned>(frame.message.type));
      return 1;
    }
    auto request = ktune::runner::decode_request(frame.message.payload);
    if (!request) {
      response.error = request.error().message;
    } else if (request->op == RunnerOp::quit) {
      return 0;
    } else if (request->op == RunnerOp::problem) {
      auto ok = (*session)->set_problem(request->problem);
      response.ok = ok.ok();
      if (!ok) response.error = ok.error().message;
    } else {
      response.results = (*session)->measure(request->jobs, request->options);
      response.ok = true;
    }
    response.poisoned = (*session)->poisoned();
    if (!send(ktune::runner::kRunnerResponseFrame, ktune::runner::encode_response(response))) return 1;
    if (response.poisoned) return 3;  // the context cannot be used again: the engine respawns us
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Die with the parent: a runner must never outlive the engine that owns it.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 1;
  signal(SIGPIPE, SIG_IGN);
  // Waits for the GPU that outlast their busy poll sleep in pauses of tens of microseconds
  // (GpuSession::State::wait); the default 50 µs timer slack would stretch each of them.
  prctl(PR_SET_TIMERSLACK, 1000UL);
  // Frames go to the original stdout; stray prints from CUDA libraries go to stderr instead.
  g_out = dup(STDOUT_FILENO);
  if (g_out < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) return 1;

  int device = 0;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--device") == 0) device = std::atoi(argv[i + 1]);
  try {
    return serve(device);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ktune-runner: internal error: %s\n", e.what());
    return 70;
  }
}
