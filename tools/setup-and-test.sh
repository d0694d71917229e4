#!/usr/bin/env bash
# Installs the dependencies, builds everything with warnings as errors, and runs the whole test
# suite. GPU tests skip with a message where there is no driver. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKTUNE_WERROR=ON
cmake --build build -j2
ctest --test-dir build -j2 --output-on-failure --timeout 120
