#!/usr/bin/env bash
# Builds rqs and runs every test: once in a normal build with warnings as
# errors, once under AddressSanitizer + UndefinedBehaviorSanitizer; runs the
# server's tests (label `pg`: the store, the server in-process and as a
# process, the fault tests) under ThreadSanitizer; then fuzzes the parsers of
# untrusted input for a minute each (clang + libFuzzer).
#
#   deploy/test.sh              # all four builds
#   RQS_TEST_BUILDS=release deploy/test.sh   # only the normal build
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash deploy/install-deps.sh
jobs=${RQS_JOBS:-$(nproc)}
builds=${RQS_TEST_BUILDS:-"release asan tsan fuzz"}

# A throwaway PostgreSQL cluster for the `pg`-labelled tests; each test creates
# and drops its own database in it.
pg_dir=$(mktemp -d /tmp/rqs-pg.XXXXXX)
trap 'deploy/pg.sh stop "$pg_dir" || true; rm -rf "$pg_dir"' EXIT
RQS_TEST_DATABASE_URL=$(deploy/pg.sh start "$pg_dir")
export RQS_TEST_DATABASE_URL
# Third-party leaks only; see the file. Server processes started by tests
# inherit it.
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

configure_and_test() {
  local name=$1; shift
  local dir="build-test-$name"
  echo "== $name build ($dir)"
  cmake -S . -B "$dir" -G Ninja -DRQS_WARNINGS_AS_ERRORS=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest --output-on-failure -j "$jobs" --timeout 600)
}

# ThreadSanitizer: the `pg`-labelled tests, which run the server's threads
# (gRPC callbacks, the worker pool, the connection pool) and clients against
# it. Debian's Abseil, gRPC, protobuf and libpqxx are not instrumented; for
# Abseil's mutexes see tests/integration/tsan_abseil_annotations.cc, and
# tests/tsan.supp explains each suppression (third-party code only). A report
# aborts the process (halt_on_error); reports of server processes that tests
# start are written under $reports and fail the build too.
configure_and_test_tsan() {
  local dir=build-test-tsan
  local reports="$root/$dir/tsan-reports"
  echo "== tsan build ($dir)"
  cmake -S . -B "$dir" -G Ninja -DRQS_WARNINGS_AS_ERRORS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DRQS_SANITIZERS=thread -DRQS_BUILD_BENCHMARKS=OFF >/dev/null
  # Only the folders that hold `pg` tests (and what they need), to keep CI short.
  cmake --build "$dir" -j "$jobs" --target tests/unit/db/all tests/integration/all tests/e2e/all
  rm -rf "$reports" && mkdir -p "$reports"
  local status=0
  (cd "$dir" && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 \
    suppressions=$root/tests/tsan.supp log_path=$reports/report" \
    ctest --output-on-failure -j "$jobs" --timeout 900 -L pg) || status=$?
  if compgen -G "$reports/report*" >/dev/null; then
    echo "ThreadSanitizer reports:" >&2
    cat "$reports"/report* >&2
    status=1
  fi
  return "$status"
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
    tsan) configure_and_test_tsan ;;
    fuzz) configure_and_fuzz ;;
    *) echo "unknown build '$build'" >&2; exit 2 ;;
  esac
done
