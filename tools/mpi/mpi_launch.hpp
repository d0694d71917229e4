#pragma once
// Whether this process was started by an MPI launcher as one of several ranks — read from the
// environment the launchers set, so it needs no MPI library (and is answered the same in a ktune
// built without MPI, which then says so instead of running N independent sweeps).
#include <cstdlib>
#include <string>

namespace ktune::cli {

// The number of ranks the launcher started: OpenMPI's mpirun (OMPI_COMM_WORLD_SIZE), or a PMI/PMIx
// launcher such as Slurm's srun (PMI_SIZE, PMIX_SIZE); 1 when not launched by one.
inline int mpi_launch_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"})
    if (const char* value = std::getenv(name)) {
      try {
        return std::max(1, std::stoi(value));
      } catch (const std::exception&) {
      }
    }
  return 1;
}

}  // namespace ktune::cli
