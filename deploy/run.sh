#!/usr/bin/env bash
# The README's main job: installs what is missing, builds rqs, and scores the
# paper's worked example with `rqs score`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash deploy/install-deps.sh
build=${RQS_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "${RQS_JOBS:-$(nproc)}" --target rqs
echo "== rqs score deploy/demo/worked_example.json"
"$build/client/rqs" score --pretty deploy/demo/worked_example.json
