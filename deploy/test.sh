#!/usr/bin/env bash
# Builds rqs and runs every test: once in a normal build with warnings as
# errors, once under AddressSanitizer + UndefinedBehaviorSanitizer; then fuzzes
# the parsers of untrusted input for a minute each (clang + libFuzzer).
#
#   deploy/test.sh              # all three builds
#   RQS_TEST_BUILDS=release deploy/test.sh   # only the normal build
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash deploy/install-deps.sh
jobs=${RQS_JOBS:-$(nproc)}
builds=${RQS_TEST_BUILDS:-"release asan fuzz"}

# A throwaway PostgreSQL cluster for the `pg`-labelled tests; each test creates
# and drops its own database in it.
pg_dir=$(mktemp -d /tmp/rqs-pg.XXXXXX)
trap 'deploy/pg.sh stop "$pg_dir" || true; rm -rf "$pg_dir"' EXIT
RQS_TEST_DATABASE_URL=$(deploy/pg.sh start "$pg_dir")
export RQS_TEST_DATABASE_URL

configure_and_test() {
  local name=$1; shift
  local dir="build-test-$name"
  echo "== $name build ($dir)"
  cmake -S . -B "$dir" -G Ninja -DRQS_WARNINGS_AS_ERRORS=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest --output-on-failure -j "$jobs" --timeout 600)
}

# Builds only the libFuzzer targets (and the libraries they link) with clang,
# then runs each for 60 s from its committed corpus (tests/fuzz/run.sh).
# --no-warn-unused-cli: the project is C++ only, but the C compiler is pinned
# too so that no dependency check falls back to gcc.
configure_and_fuzz() {
  local dir=build-test-fuzz
  echo "== fuzz build ($dir)"
  cmake -S . -B "$dir" -G Ninja --no-warn-unused-cli -DRQS_WARNINGS_AS_ERRORS=ON \
    -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DRQS_BUILD_FUZZERS=ON \
    -DRQS_BUILD_TESTS=OFF -DRQS_BUILD_BENCHMARKS=OFF >/dev/null
  cmake --build "$dir" -j "$jobs" --target fuzz_answer_file fuzz_study_import fuzz_ratings_csv
  tests/fuzz/run.sh "$dir" 60
}

for build in $builds; do
  case $build in
    release) configure_and_test release -DCMAKE_BUILD_TYPE=RelWithDebInfo ;;
    asan) configure_and_test asan -DCMAKE_BUILD_TYPE=Debug -DRQS_SANITIZERS=address,undefined \
            -DRQS_BUILD_BENCHMARKS=OFF ;;
    fuzz) configure_and_fuzz ;;
    *) echo "unknown build '$build'" >&2; exit 2 ;;
  esac
done
