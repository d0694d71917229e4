#pragma once
// The MPI world of one `ktune sweep` (RAII: MPI_Init_thread in create, MPI_Finalize in the
// destructor) and the only calls the sweep needs: byte messages with a tag, sent and received
// whole. Only the thread that created it calls MPI (MPI_THREAD_FUNNELED).
#include <memory>
#include <optional>
#include <string>

#include "engine/common/result.hpp"

namespace ktune::cli {

struct MpiMessage {
  int source = 0;
  std::string bytes;
};

class MpiWorld {
 public:
  static Result<std::unique_ptr<MpiWorld>> create();
  ~MpiWorld();
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }
  int local_rank() const noexcept { return local_rank_; }  // among the ranks on this host

  void send(int destination, int tag, const std::string& bytes);
  MpiMessage receive(int source, int tag);              // blocks
  std::optional<MpiMessage> poll(int tag);              // from any rank; nothing waiting: nullopt
  std::string broadcast(const std::string& bytes, int root);  // every rank returns root's bytes
  // Ends every rank of the job (a rank that cannot take part would leave the others waiting).
  [[noreturn]] void abort(const std::string& why);

 private:
  MpiWorld() = default;
  int rank_ = 0, size_ = 1, local_rank_ = 0;
};

}  // namespace ktune::cli
