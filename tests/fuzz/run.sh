#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for a bounded time and fails if
# any of them finds a crash, a hang, a leak or a sanitizer report.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS
#
# BUILD_DIR is a build configured with -DRQS_BUILD_FUZZERS=ON whose fuzz_*
# targets are built; this script builds nothing. Each fuzzer starts from a copy
# of its committed seed corpus (tests/fuzz/corpus/<target>/), so the inputs it
# adds never touch the working tree. The targets run side by side, up to
# RQS_FUZZ_JOBS (default: nproc) at a time, each for SECONDS. A crashing input
# is kept under RQS_FUZZ_ARTIFACTS (default BUILD_DIR/fuzz-artifacts) and its
# path printed; replay it with `BUILD_DIR/tests/fuzz/fuzz_<target> FILE`.
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
fuzz_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build_dir=$(cd "$1" && pwd)
seconds=$2
jobs=${RQS_FUZZ_JOBS:-$(nproc)}
artifacts=${RQS_FUZZ_ARTIFACTS:-$build_dir/fuzz-artifacts}
targets=(answer_file study_import ratings_csv)

for target in "${targets[@]}"; do
  if [[ ! -x "$build_dir/tests/fuzz/fuzz_$target" ]]; then
    echo "run.sh: $build_dir/tests/fuzz/fuzz_$target is not built" >&2
    exit 2
  fi
done

work=$(mktemp -d /tmp/rqs-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"
# Halt on the first UB report so it is a crash libFuzzer saves, with a stack.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Runs one target; its exit status and libFuzzer's log land in $work.
run_one() {
  local target=$1
  local corpus="$work/corpus-$target"
  cp -R "$fuzz_dir/corpus/$target" "$corpus"
  local dict=()
  [[ -f "$fuzz_dir/$target.dict" ]] && dict=(-dict="$fuzz_dir/$target.dict")
  local status=0
  # -timeout: one input running 10 s is a hang, reported like a crash.
  # -rss_limit_mb: runaway allocation is a finding too, not a CI machine OOM.
  "$build_dir/tests/fuzz/fuzz_$target" "$corpus" "${dict[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$target-" >"$work/$target.log" 2>&1 || status=$?
  echo "$status" >"$work/$target.status"
}

running=0
for target in "${targets[@]}"; do
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
  run_one "$target" &
  running=$((running + 1))
done
wait

failed=0
for target in "${targets[@]}"; do
  log="$work/$target.log"
  status=$(cat "$work/$target.status")
  # libFuzzer's final stats: stat::number_of_executed_units, stat::average_exec_per_sec.
  runs=$(awk '/stat::number_of_executed_units:/ {print $2}' "$log")
  rate=$(awk '/stat::average_exec_per_sec:/ {print $2}' "$log")
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2 || true)
  seeds=$(find "$fuzz_dir/corpus/$target" -type f | wc -l)
  grown=$(find "$work/corpus-$target" -type f | wc -l)
  if [[ "$status" == 0 ]]; then
    echo "fuzz_$target: ok, ${runs:-?} runs in ${seconds}s (${rate:-?} exec/s)," \
      "coverage ${cov:-?} edges, corpus $seeds -> $grown inputs"
  else
    failed=1
    artifact=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -n 1 | cut -d' ' -f5 || true)
    echo "fuzz_$target: FAILED (exit $status) after ${runs:-?} runs;" \
      "input: ${artifact:-none saved}; log follows"
    sed -n '/==[0-9]*==\|ERROR\|invariant violated\|terminate called/,$p' "$log" | head -n 60
  fi
done
exit "$failed"
