#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, docs/fuzzing.md) with clang, ASan and UBSan in
# build-fuzz, and runs each for a bounded time on a copy of its corpus (the committed corpus never
# grows by itself). Fails, naming the target and the saved input, on any crash, sanitizer report,
# leak, timeout, out-of-memory or violated property.
#
#   KTUNE_FUZZ_SECONDS   seconds per target (default 30, at most 60)
#   KTUNE_FUZZ_TARGETS   space-separated subset (default: every tests/fuzz/fuzz_*.cpp)
#   KTUNE_FUZZ_BUILD     build folder (default: build-fuzz at the repository root)
#   KTUNE_FUZZ_JOBS      build parallelism (default: nproc)
#   CXX / CC             clang to use (default: clang++ / clang, else clang++-14 / clang-14)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${KTUNE_FUZZ_BUILD:-$root/build-fuzz}
seconds=${KTUNE_FUZZ_SECONDS:-30}
jobs=${KTUNE_FUZZ_JOBS:-$(nproc)}

fail() { echo "fuzz.sh: $*" >&2; exit 1; }

[[ $seconds =~ ^[0-9]+$ && $seconds -ge 1 ]] || fail "KTUNE_FUZZ_SECONDS=$seconds: expected a whole number of seconds"
if (( seconds > 60 )); then
  echo "fuzz.sh: KTUNE_FUZZ_SECONDS=$seconds is above the CI cap; using 60 (run a fuzzer by hand for longer: docs/fuzzing.md)"
  seconds=60
fi

pick() {  # the first of the given compilers that exists
  for candidate in "$@"; do
    if [[ -n $candidate ]] && command -v "$candidate" >/dev/null 2>&1; then command -v "$candidate"; return 0; fi
  done
  return 1
}
cxx=$(pick "${CXX:-}" clang++ clang++-14) || fail "no clang++ found (libFuzzer needs clang); set CXX"
cc=$(pick "${CC:-}" clang clang-14) || fail "no clang found; set CC"
"$cxx" --version | head -n 1 | grep -qi clang || fail "$cxx is not clang (libFuzzer needs clang); set CXX"

if [[ -n ${KTUNE_FUZZ_TARGETS:-} ]]; then
  read -r -a targets <<<"$KTUNE_FUZZ_TARGETS"
else
  targets=()
  for source in "$root"/tests/fuzz/fuzz_*.cpp; do
    name=$(basename "$source" .cpp)
    targets+=("${name#fuzz_}")
  done
fi
(( ${#targets[@]} > 0 )) || fail "no fuzz targets found under tests/fuzz"

start=$SECONDS
echo "== configure $build ($cxx)"
# -O1 without NDEBUG: asserts (nlohmann's too) and _GLIBCXX_ASSERTIONS stay on while fuzzing.
mkdir -p "$build"
cmake -S "$root" -B "$build" -G Ninja -DKTUNE_FUZZ=ON -DKTUNE_BUILD_TESTS=ON \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" >"$build/fuzz-configure.log" 2>&1 ||
  { cat "$build/fuzz-configure.log" >&2; fail "configuring $build failed"; }

echo "== build ${targets[*]/#/fuzz_}"
cmake --build "$build" -j "$jobs" --target "${targets[@]/#/fuzz_}"
build_seconds=$((SECONDS - start))

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
summary=()
for name in "${targets[@]}"; do
  binary="$build/tests/fuzz/fuzz_$name"
  seeds="$root/tests/fuzz/corpus/$name"
  work="$build/fuzz-runs/$name"
  [[ -x $binary ]] || fail "$binary was not built"
  [[ -d $seeds ]] || fail "no corpus folder $seeds (every target needs seeds)"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -R "$seeds/." "$work/corpus/"

  echo "== fuzz_$name: ${seconds}s on a copy of tests/fuzz/corpus/$name ($(find "$seeds" -type f | wc -l) inputs)"
  # -timeout: one input running this long is a hang. -malloc_limit_mb: one allocation this big is
  # a length field trusted before it was checked. The runs stop at the first finding.
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256
           -artifact_prefix="$work/artifacts/" -print_final_stats=1)
  dict="$root/tests/fuzz/dict/$name.dict"
  [[ -f $dict ]] && options+=(-dict="$dict")
  status=0
  (cd "$work" && "$binary" "${options[@]}" "$work/corpus" >"$work/log" 2>&1) || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -n 1)
  summary+=("$(printf '%-16s %10s runs %8s exec/s  exit %s' "$name" "${execs:-?}" "${rate:-?}" "$status")")
  if (( status != 0 )); then
    failed+=("$name")
    echo "!! fuzz_$name FAILED (exit $status). The end of its log ($work/log):"
    tail -n 60 "$work/log" | sed 's/^/   /'
    found=0
    for input in "$work/artifacts"/*; do
      [[ -e $input ]] || continue
      found=1
      echo "!! input that fails: $input"
      echo "   reproduce:  $binary $input"
      echo "   after the fix, keep it: cp $input $seeds/regression-<what-it-broke>"
    done
    (( found )) || echo "!! no input was saved (see the log above)"
  else
    echo "   ok: ${execs:-?} runs, ${rate:-?} exec/s"
  fi
done

echo "== summary (build ${build_seconds}s, total $((SECONDS - start))s)"
printf '   %s\n' "${summary[@]}"
if (( ${#failed[@]} > 0 )); then
  fail "fuzzing found problems in: ${failed[*]} (inputs and logs under $build/fuzz-runs/)"
fi
echo "fuzz.sh: all ${#targets[@]} targets ran ${seconds}s each without a finding"
