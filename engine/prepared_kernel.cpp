#include "engine/prepared_kernel.hpp"

#include "engine/prepared_kernel_snapshot.hpp"

namespace ktune {

PreparedKernel PreparedKernel::from(KernelSpec spec) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->spec = std::move(spec);
  return PreparedKernel(std::move(snapshot));
}

const KernelSpec& PreparedKernel::spec() const noexcept { return snapshot_->spec; }

}  // namespace ktune
