#!/usr/bin/env bash
# Installs every Debian 12 package rqs needs to build, test and run. Idempotent:
# packages already present are skipped, so a second run does nothing.
set -euo pipefail

packages=(
  # Toolchain.
  build-essential cmake ninja-build pkg-config git
  # Libraries.
  libabsl-dev libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libpqxx-dev libpq-dev libssl-dev libboost-math-dev nlohmann-json3-dev
  # Tests and benchmarks.
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev  # libFuzzer and its sanitizer runtimes (tests/fuzz).
  chromium  # Headless browser for the HTML report test (tests/e2e).
  # Database.
  postgresql postgresql-contrib
)
# Reference implementations timed beside `rqs agreement` (README figures).
if [[ "${RQS_WITH_REFERENCE_TOOLS:-0}" == 1 ]]; then
  packages+=(python3-statsmodels r-cran-psych)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
