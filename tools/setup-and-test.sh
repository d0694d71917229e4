#!/usr/bin/env bash
# Installs the dependencies, builds everything with warnings as errors, and runs the whole test
# suite: the CPU tests (GPU tests skip with a message where there is no driver), then the whole
# CPU suite again under AddressSanitizer + UndefinedBehaviorSanitizer and the concurrent parts
# under ThreadSanitizer (tools/ci/sanitizers.sh, docs/sanitizers.md), then every libFuzzer target
# for a bounded time (tools/ci/fuzz.sh, docs/fuzzing.md). This is what CI runs (.ci/run).
#
#   KTUNE_TEST_SANITIZERS=0   skip the sanitizer builds (they take most of the time on 2 cores)
#   KTUNE_TEST_FUZZ=0         skip the fuzzers
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
started=$SECONDS

# The Python package (python/) is built and its pytest suite runs in ctest (python_pytest); its
# build and test tools come from PyPI, pinned, into a venv (Debian's python3 is externally managed).
python3 -m venv build-venv
build-venv/bin/python -m pip install -q --disable-pip-version-check nanobind==3.1.0 pytest==9.2.0 numpy==2.2.6
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKTUNE_WERROR=ON \
  -DKTUNE_PYTHON=ON -DPython_EXECUTABLE="$PWD/build-venv/bin/python"
cmake --build build -j2
ctest --test-dir build -j2 --output-on-failure --timeout 120
echo "setup-and-test: CPU suite passed ($((SECONDS - started)) s so far)"

if [[ ${KTUNE_TEST_SANITIZERS:-1} != 0 ]]; then
  KTUNE_SANITIZER_JOBS=2 bash tools/ci/sanitizers.sh
  echo "setup-and-test: sanitizers passed ($((SECONDS - started)) s so far)"
fi
if [[ ${KTUNE_TEST_FUZZ:-1} != 0 ]]; then
  KTUNE_FUZZ_JOBS=2 bash tools/ci/fuzz.sh
  echo "setup-and-test: fuzzers passed ($((SECONDS - started)) s so far)"
fi
echo "setup-and-test: everything passed in $((SECONDS - started)) s"
