#!/usr/bin/env bash
# Bundles this machine's OpenMPI (Debian 12: 4.1 with PMIx 4) into BUILD_DIR/device-mpi, so that
# `mpirun -n 2 ktune sweep ...` can run on the GPU machine, which has neither MPI nor a package
# registry (../shared/device/README.md: build here, carry the build). The bundle keeps OpenMPI's
# own layout under one prefix, so OPAL_PREFIX relocates it; the network transports for
# InfiniBand/UCX/libfabric are left out (one host needs only shared memory and TCP), and so are
# their libraries. On the GPU machine:
#
#   source BUILD_DIR/device-mpi/env.sh      # OPAL_PREFIX, PMIX_INSTALL_PREFIX, PATH, LD_LIBRARY_PATH
#   mpirun --oversubscribe -n 2 BUILD_DIR/tools/ktune sweep ...
set -euo pipefail
build=${1:?usage: tools/device/pack-openmpi.sh BUILD_DIR}
arch=x86_64-linux-gnu
ompi=/usr/lib/$arch/openmpi
pmix=/usr/lib/$arch/pmix2
[[ -d $ompi/lib && -d $pmix/lib ]] || { echo "pack-openmpi: OpenMPI is not installed here (tools/install-deps.sh)" >&2; exit 1; }

dest=$build/device-mpi
rm -rf "$dest"
mkdir -p "$dest/bin" "$dest/lib/$arch" "$dest/share" "$dest/deps"
cp -L /usr/bin/orterun "$dest/bin/mpirun"
cp -L /usr/bin/orted "$dest/bin/orted"
cp -a "$ompi" "$dest/lib/$arch/"
cp -a "$pmix" "$dest/lib/$arch/"
cp -a /usr/share/openmpi "$dest/share/"
cp -a /usr/share/pmix "$dest/share/" 2>/dev/null || true
rm -rf "$dest/lib/$arch/openmpi/include" "$dest/lib/$arch/openmpi/lib/pkgconfig" "$dest/lib/$arch"/openmpi/lib/*java* \
       "$dest/lib/$arch"/openmpi/lib/*.a "$dest/lib/$arch"/pmix2/lib/*.a "$dest/lib/$arch"/pmix2/include 2>/dev/null || true
# Transports for fabrics a single host does not use: their libraries are large and absent there.
( cd "$dest/lib/$arch/openmpi/lib/openmpi3" &&
  rm -f ./*ucx* ./*ofi* ./*psm* ./*openib* ./*usnic* ./*uct* ./*verbs* ./*portals* ./*java* )
rm -f "$dest/lib/$arch"/openmpi/lib/libmca_common_{ucx,ofi,verbs,psm*}.so*

# Every shared library the bundle needs that is not part of the C/C++ runtime.
find "$dest" -type f \( -name '*.so*' -o -path "$dest/bin/*" \) -print0 |
  xargs -0 ldd 2>/dev/null | awk '/=> \//{print $3}' | sort -u |
  grep -v -E '/(libc|libm|libdl|libpthread|librt|ld-linux-x86-64|libstdc\+\+|libgcc_s)\.so' |
  while read -r lib; do
    case $lib in "$dest"/*) continue ;; esac
    cp -Ln "$lib" "$dest/deps/" 2>/dev/null || true
  done

cat > "$dest/env.sh" <<'ENV'
# Sourced on the GPU machine: makes the bundled OpenMPI find itself.
_ktune_mpi=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export OPAL_PREFIX=$_ktune_mpi
export PMIX_INSTALL_PREFIX=$_ktune_mpi/lib/x86_64-linux-gnu/pmix2
# PMIx looks for its plugins where it was built unless told (a host with another PMIx there
# printed "unable to open ... pmix_mca_pcompress_zlib" warnings).
export PMIX_MCA_mca_base_component_path=$_ktune_mpi/lib/x86_64-linux-gnu/pmix2/lib/pmix
export PATH=$_ktune_mpi/bin:$PATH
export LD_LIBRARY_PATH=$_ktune_mpi/lib/x86_64-linux-gnu/openmpi/lib:$_ktune_mpi/lib/x86_64-linux-gnu/pmix2/lib:$_ktune_mpi/deps:${LD_LIBRARY_PATH:-}
# One host: shared memory and TCP; root is allowed (the GPU machine runs commands as root).
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader,tcp OMPI_MCA_mtl=^ofi,psm,psm2 OMPI_MCA_osc=^ucx
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ENV
du -sh "$dest"
