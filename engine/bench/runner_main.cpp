// ktune-runner: the GPU runner process, one per GPU (engine/bench/README.md). Reads framed
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

#include "engine/bench/gpu_session.hpp"
#include "engine/bench/runner_protocol.hpp"
#include "workers/frame_io.hpp"
#include "workers/wire.hpp"

namespace {

using ktune::bench::RunnerOp;
using ktune::workers::IoOutcome;
using ktune::workers::MessageType;

int g_out = -1;  // the frame channel (the original stdout)

bool send(MessageType type, const std::string& payload) {
  return ktune::workers::write_all(g_out, ktune::workers::encode_frame(type, payload)).outcome == IoOutcome::done;
}

int serve(int device) {
  auto session = ktune::bench::GpuSession::open(device);
  ktune::bench::RunnerHello hello;
  hello.pid = static_cast<int>(getpid());
  if (!session) {
    hello.ok = false;
    hello.error = session.error().message;
    send(MessageType::runner_hello, ktune::bench::encode_hello(hello));
    return 2;
  }
  hello.ok = true;
  hello.device = (*session)->device();
  hello.cupti = (*session)->cupti_available();
  if (!send(MessageType::runner_hello, ktune::bench::encode_hello(hello))) return 1;

  for (;;) {
    auto frame = ktune::workers::read_frame(STDIN_FILENO);
    if (frame.outcome == IoOutcome::eof) return 0;
    if (frame.outcome != IoOutcome::done) {
      std::fprintf(stderr, "ktune-runner: %s\n", frame.error.c_str());
      return 1;
    }
    ktune::bench::RunnerResponse response;
    auto request = ktune::bench::decode_request(frame.message.payload);
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
    if (!send(MessageType::runner_response, ktune::bench::encode_response(response))) return 1;
    if (response.poisoned) return 3;  // the context cannot be used again: the engine respawns us
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Die with the parent: a runner must never outlive the engine that owns it.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 1;
  signal(SIGPIPE, SIG_IGN);
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
