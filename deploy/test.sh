#!/usr/bin/env bash
# Builds rqs and runs every test: once in a normal build with warnings as
# errors, once under AddressSanitizer + UndefinedBehaviorSanitizer.
#
#   deploy/test.sh              # both builds
#   RQS_TEST_BUILDS=release deploy/test.sh   # only the normal build
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash deploy/install-deps.sh
jobs=${RQS_JOBS:-$(nproc)}
builds=${RQS_TEST_BUILDS:-"release asan"}

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

for build in $builds; do
  case $build in
    release) configure_and_test release -DCMAKE_BUILD_TYPE=RelWithDebInfo ;;
    asan) configure_and_test asan -DCMAKE_BUILD_TYPE=Debug -DRQS_SANITIZERS=address,undefined \
            -DRQS_BUILD_BENCHMARKS=OFF ;;
    *) echo "unknown build '$build'" >&2; exit 2 ;;
  esac
done
