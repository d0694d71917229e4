#!/usr/bin/env bash
# Installs the header packages a spec can name in compile.include_dirs ("@cutlass"; docs/spec.md
# "Packages") from pinned PyPI wheels, checked against their SHA-256, into third_party/<name>/
# (ignored by git; $KTUNE_PACKAGES_DIR elsewhere). Nothing is downloaded at configure or build
# time: tools/install-deps.sh runs this. Safe to run again: a package already installed at its
# pinned version is left alone. A machine with no network gets the folder copied with the tree
# (it holds only headers and ktune-package.json).
#
#   tools/install-packages.sh [--dir DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dest=${KTUNE_PACKAGES_DIR:-$root/third_party}
[[ ${1:-} == --dir ]] && dest=$2

# name  pip requirement  wheel SHA-256  include folder inside the wheel  NVRTC options
cutlass_version=4.2.0.0
cutlass_sha256=f9599ada45c7bcb6bf53f7d3f0a7d154183e53451c01bfa59eecd37dd4a693f6

install_cutlass() {
  local target=$dest/cutlass
  if [[ -f $target/ktune-package.json ]] &&
     grep -q "\"version\": \"$cutlass_version\"" "$target/ktune-package.json" &&
     grep -q "$cutlass_sha256" "$target/ktune-package.json"; then
    return 0
  fi
  mkdir -p "$dest"
  local work
  work=$(mktemp -d "$dest/.cutlass.XXXXXX")
  trap 'rm -rf "$work"' RETURN
  echo "ktune: installing the CUTLASS headers (nvidia-cutlass==$cutlass_version) into $target"
  python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    "nvidia-cutlass==$cutlass_version" -d "$work/wheel"
  local wheel
  wheel=$(ls "$work"/wheel/nvidia_cutlass-"$cutlass_version"-*.whl)
  local got
  got=$(sha256sum "$wheel" | cut -d' ' -f1)
  if [[ $got != "$cutlass_sha256" ]]; then
    echo "ktune: $(basename "$wheel") has SHA-256 $got, expected $cutlass_sha256: not installed" >&2
    return 1
  fi
  python3 -m zipfile -e "$wheel" "$work/unpacked"
  mkdir -p "$work/cutlass"
  cp -r "$work/unpacked/cutlass_library/source/include" "$work/cutlass/include"
  cp "$root/tools/packages/cutlass_nvrtc_shim.h" "$work/cutlass/ktune_nvrtc_shim.h"
  # What ktune reads (engine/model/packages.cpp): the identity that joins the kernel key instead of
  # the ~1000 headers, the include folders and the NVRTC options every compile of the package gets.
  # -DNDEBUG: CUTLASS's device asserts are extern calls that make ptxas serialise wgmma.
  cat > "$work/cutlass/ktune-package.json" <<JSON
{
  "name": "cutlass",
  "version": "$cutlass_version",
  "wheel": "$(basename "$wheel")",
  "sha256": "$cutlass_sha256",
  "include_dirs": ["include"],
  "pre_includes": ["ktune_nvrtc_shim.h"],
  "nvrtc_options": ["-default-device", "-DNDEBUG"]
}
JSON
  rm -rf "$target"
  mv "$work/cutlass" "$target"
}

install_cutlass
