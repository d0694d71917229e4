#pragma once
// Moving frames (frame.hpp) over pipe descriptors, with an optional deadline and a stop descriptor so a
// pool thread waiting on a worker can be woken for shutdown.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "engine/common/result.hpp"
#include "workers/process/frame.hpp"

namespace ktune::process {

using Deadline = std::optional<std::chrono::steady_clock::time_point>;

struct Message {
  std::uint16_t type = 0;  // the protocol's message type
  std::string payload;
};

enum class IoOutcome : std::uint8_t {
  done,
  eof,       // the peer closed its end before a whole frame arrived (or before any byte: clean)
  timeout,   // the deadline passed
  stopped,   // stop_fd became readable
  error,     // a system call failed or the frame was malformed; see message
};

struct ReadResult {
  IoOutcome outcome = IoOutcome::error;
  Message message;
  std::string error;  // for eof (clean or mid-frame) and error
};

// Blocks until a whole frame arrived. stop_fd < 0 means none.
ReadResult read_frame(int fd, Deadline deadline = std::nullopt, int stop_fd = -1);

// Writes all bytes. A closed reader gives IoOutcome::eof (EPIPE), never a SIGPIPE: the signal is
// blocked in the calling thread for the duration of the write.
struct WriteResult {
  IoOutcome outcome = IoOutcome::error;
  std::string error;
};
WriteResult write_all(int fd, std::string_view bytes, Deadline deadline = std::nullopt, int stop_fd = -1);

}  // namespace ktune::process
