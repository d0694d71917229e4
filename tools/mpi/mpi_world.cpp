#include "tools/mpi/mpi_world.hpp"

#include <mpi.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace ktune::cli {

namespace {

// MPI's default error handler aborts the job, which is the failure semantics the sweep relies on
// (docs/sweep.md); a count beyond int is a broken invariant, not a run's failure.
int count_of(const std::string& bytes) {
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw std::length_error("an MPI message over 2 GiB: " + std::to_string(bytes.size()) + " bytes");
  return static_cast<int>(bytes.size());
}

MpiMessage receive_probed(const MPI_Status& status, int tag) {
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  MpiMessage message;
  message.source = status.MPI_SOURCE;
  message.bytes.resize(static_cast<std::size_t>(count));
  MPI_Recv(message.bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return message;
}

}  // namespace

Result<std::unique_ptr<MpiWorld>> MpiWorld::create() {
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    return make_error(Errc::internal, "MPI_Init_thread failed");
  std::unique_ptr<MpiWorld> world(new MpiWorld());
  if (provided < MPI_THREAD_FUNNELED)
    return make_error(Errc::unsupported, "this MPI library does not allow threads beside the one calling MPI");
  MPI_Comm_rank(MPI_COMM_WORLD, &world->rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &world->size_);
  MPI_Comm host;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world->rank_, MPI_INFO_NULL, &host);
  MPI_Comm_rank(host, &world->local_rank_);
  MPI_Comm_free(&host);
  return world;
}

MpiWorld::~MpiWorld() { MPI_Finalize(); }

void MpiWorld::send(int destination, int tag, const std::string& bytes) {
  MPI_Send(bytes.data(), count_of(bytes), MPI_BYTE, destination, tag, MPI_COMM_WORLD);
}

MpiMessage MpiWorld::receive(int source, int tag) {
  MPI_Status status;
  MPI_Probe(source, tag, MPI_COMM_WORLD, &status);
  return receive_probed(status, tag);
}

std::optional<MpiMessage> MpiWorld::poll(int tag) {
  int waiting = 0;
  MPI_Status status;
  MPI_Iprobe(MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &waiting, &status);
  if (!waiting) return std::nullopt;
  return receive_probed(status, tag);
}

std::string MpiWorld::broadcast(const std::string& bytes, int root) {
  std::uint64_t size = bytes.size();
  MPI_Bcast(&size, 1, MPI_UINT64_T, root, MPI_COMM_WORLD);
  std::string out = rank_ == root ? bytes : std::string(size, '\0');
  if (size > static_cast<std::uint64_t>(std::numeric_limits<int>::max()))
    throw std::length_error("an MPI broadcast over 2 GiB");
  MPI_Bcast(out.data(), static_cast<int>(size), MPI_BYTE, root, MPI_COMM_WORLD);
  return out;
}

void MpiWorld::abort(const std::string& why) {
  std::fprintf(stderr, "ktune: error: rank %d: %s; ending every rank of the sweep\n", rank_, why.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);
}

}  // namespace ktune::cli
