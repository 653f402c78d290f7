#!/usr/bin/env bash
# Builds and runs every test: the unit and integration tests (Release, gcc), the same tests again
# under AddressSanitizer + UndefinedBehaviorSanitizer (clang), and each libFuzzer target for a bounded
# time. Exits non-zero when anything fails. Usage: scripts/test.sh [--quick]   (--quick: Release tests only)
# Environment: FUZZ_SECONDS (default 30) per fuzz target; FUZZ_SEED (default 1; 0 = random, for
# exploratory runs); JOBS (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1
jobs="${JOBS:-$(nproc)}"
fuzz_seconds="${FUZZ_SECONDS:-30}"
# A fixed seed makes the bounded fuzzing of a test run repeatable: a run explores the same inputs
# every time (a shorter run a prefix of them), so a result never depends on luck. Explore further with
# FUZZ_SEED=0 FUZZ_SECONDS=600 and keep what is found as a seed in fuzz/corpus/.
fuzz_seed="${FUZZ_SEED:-1}"
started=$(date +%s)
step() { printf '\n==> %s (%ds)\n' "$*" $(( $(date +%s) - started )); }

step "dependencies"
bash scripts/install-deps.sh

if [ ! -d ../shared/testdata ] && [ -z "${SLMTUNE_TESTDATA:-}" ]; then
  echo "error: ../shared/testdata not found (set SLMTUNE_TESTDATA to the test data folder)" >&2
  exit 1
fi

step "Release build (gcc)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"

step "tests (Release)"
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 600

[ "$quick" = 1 ] && { step "done (quick)"; exit 0; }

step "sanitizer + fuzzer build (clang, ASan + UBSan)"
# clang must use GCC's OpenMP runtime (libgomp), the one OpenBLAS' OpenMP flavour is built against:
# two OpenMP runtimes in one process fight over threads.
gomp="$(gcc -print-file-name=libgomp.so)"
CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DSLMTUNE_SANITIZE=ON -DSLMTUNE_FUZZ=ON \
  -DOpenMP_CXX_FLAGS="-fopenmp=libgomp" -DOpenMP_CXX_LIB_NAMES=gomp -DOpenMP_gomp_LIBRARY="$gomp" >/dev/null
cmake --build build-asan -j"$jobs"

step "tests (ASan + UBSan)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/.ci/lsan.supp:print_suppressions=0"
ctest --test-dir build-asan --output-on-failure -j"$jobs" --timeout 1200

step "fuzzing (${fuzz_seconds}s per target)"
shopt -s nullglob
failed=()
for source in fuzz/*.cpp; do
  name="$(basename "$source" .cpp)"
  corpus="$(mktemp -d)"
  seeds="fuzz/corpus/${name#fuzz_}"
  [ -d "$seeds" ] && cp -r "$seeds"/. "$corpus"/
  echo "--- $name"
  if ! build-asan/"$name" -seed="$fuzz_seed" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=0 \
        -artifact_prefix="build-asan/$name-" "$corpus" >"build-asan/$name.log" 2>&1; then
    tail -n 40 "build-asan/$name.log"
    failed+=("$name")
  else
    grep -E "^(#[0-9]+|Done)" "build-asan/$name.log" | tail -n 1 || true
  fi
  rm -rf "$corpus"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs saved as build-asan/<target>-crash-*)" >&2
  exit 1
fi

step "all tests passed"
