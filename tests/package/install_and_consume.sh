#!/usr/bin/env bash
# Installs this build into a scratch prefix, builds tests/package/consumer against it with
# find_package(ktune), and runs it on the example spec.
#   install_and_consume.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
cmake -S "$source/tests/package/consumer" -B "$scratch/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/consumer" >/dev/null
"$scratch/consumer/consumer" "$source/examples/sgemm.json" "$scratch/store.db"
"$scratch/prefix/bin/ktune" --version
"$scratch/prefix/bin/ktune" doctor | grep "compile worker"
