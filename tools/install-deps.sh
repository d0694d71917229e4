#!/usr/bin/env bash
# Installs what ktune builds against on Debian 12 (the CUDA toolkit itself must already be at
# /usr/local/cuda or $CUDA_HOME: it is not a Debian package). Safe to run again: installs only
# what is missing.
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config git
          libtbb-dev libsqlite3-dev nlohmann-json3-dev libxxhash-dev
          libgtest-dev libgmock-dev libcli11-dev libfmt-dev zlib1g-dev sqlite3 file
          python3 python3-dev python3-venv   # the Python package (python/): headers, a venv for its build tools
          python3-pip   # pip download of the pinned header wheels (tools/packages/install-packages.sh)
          libopenmpi-dev openmpi-bin   # optional: `mpirun ktune sweep` (tools/mpi/) and its tests
          clang libclang-rt-14-dev)   # the libFuzzer targets (tools/ci/fuzz.sh) need clang's runtime

cuda=${CUDA_HOME:-/usr/local/cuda}
if [[ ! -x $cuda/bin/nvcc && ! -f $cuda/include/nvrtc.h ]]; then
  echo "ktune: the CUDA toolkit was not found at $cuda (set CUDA_HOME); install CUDA 12.x or 13.x first" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "ktune: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Header packages a spec can name ("@cutlass"): pinned wheels, checked, unpacked into third_party/.
# Optional: without them (no network) everything else works, and a spec naming one says so.
bash "$(dirname "$0")/packages/install-packages.sh" ||
  echo "ktune: warning: the header packages were not installed; specs naming @cutlass will not load" >&2
