#!/usr/bin/env bash
# Load benchmark of rqs-server against PostgreSQL's own ceiling, on a throwaway
# database (deploy/pg.sh) that nothing else uses:
#   1. starts PostgreSQL and the real rqs-server (port 0, --pool-size);
#   2. R interleaved rounds (LOAD_ROUNDS, 3), each of D seconds:
#      a. load_gen: C concurrent raters submit full 42-criterion RQS 2.0
#         assessments (throughput, p50/p95/p99 latency);
#      b. pgbench on the same database at the same concurrency
#         (-c C -j 2 -T D): one transaction inserts one assessment and its 42
#         answers into the real schema (bench/load_pgbench.sql); its latency
#         percentiles come from its per-transaction log;
#      on a machine whose speed drifts (a shared host), alternating the two
#      compares each server round with a pgbench round run next to it;
#   3. open-loop rounds (LOAD_OPEN_PERCENTS, "25 50"): both sides offered
#      the same Poisson arrivals at that percentage of pgbench's median tps
#      (load_gen --rate, pgbench --rate), latency counted from each
#      scheduled arrival: the latency a user sees at a given load, where a
#      closed loop of C clients only measures C / throughput;
#   4. samples the server's peak memory (VmHWM in /proc/PID/status);
#   5. load_gen --mode read: a review of 2,000 studies x 3 raters loaded
#      through the API, then GetReviewSummary, GetSummary and GetAgreement
#      timed (the last two print "not available yet" if unimplemented);
#   6. prints every round, then checks the median closed-loop round against the
#      targets: throughput >= 50 % of pgbench's, p99 < 50 ms; and peak RSS
#      < 200 MB, reads < 300 ms.
#
#   bench/load.sh [BUILD_DIR]     # default: build; needs rqs-server and load_gen built
#
# Environment: LOAD_CONCURRENCY (16), LOAD_ROUNDS (3), LOAD_DURATION (10 s per
# round and side), LOAD_WARMUP (2 s, before each load_gen round),
# LOAD_POOL_SIZE (server --pool-size; default: the server's own, twice the
# hardware threads and at least 4), LOAD_READ_STUDIES (2000),
# LOAD_READ_RATERS (3), LOAD_OPEN_PERCENTS ("25 50"; "" skips step 3),
# LOAD_SKIP_READ=1 to skip step 5.
# Exit status: 0 all targets met, 1 a target missed or a step failed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${1:-build}
server_bin="$build/server/rqs-server"
load_gen="$build/bench/load_gen"
for binary in "$server_bin" "$load_gen"; do
  [[ -x $binary ]] || { echo "load.sh: $binary not built (cmake --build $build --target rqs-server load_gen)" >&2; exit 1; }
done
concurrency=${LOAD_CONCURRENCY:-16}
rounds=${LOAD_ROUNDS:-3}
duration=${LOAD_DURATION:-10}
warmup=${LOAD_WARMUP:-2}
pool_size=${LOAD_POOL_SIZE:-$(( $(nproc) * 2 > 4 ? $(nproc) * 2 : 4 ))}
read_studies=${LOAD_READ_STUDIES:-2000}
read_raters=${LOAD_READ_RATERS:-3}
read -r -a open_percents <<< "${LOAD_OPEN_PERCENTS-25 50}"
pg_bin=${RQS_PG_BIN:-/usr/lib/postgresql/15/bin}

work=$(mktemp -d /tmp/rqs-load.XXXXXX)
chmod 711 "$work"  # The cluster runs as `postgres` when we are root.
server_pid=
measured=0  # Set once every step ran: a FAIL verdict is not a broken run.
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  elif [[ -n $server_pid ]]; then
    local status=0
    wait "$server_pid" 2>/dev/null || status=$?
    echo "load.sh: rqs-server (pid $server_pid) exited before the end, status $status" >&2
  fi
  # A step that broke off the run may have been the server's doing: show
  # what it said.
  if ((measured == 0)) && [[ -s $work/server.err ]]; then
    echo "load.sh: the end of rqs-server's stderr:" >&2
    tail -n 20 "$work/server.err" >&2
  fi
  deploy/pg.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

url=$(deploy/pg.sh start "$work/pg")
psql=("$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 "$url")
(umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed 's/^/rqs_load_/' \
  > "$work/admin.token")
"$server_bin" --database-url "$url" --listen 127.0.0.1:0 --pool-size "$pool_size" \
  --admin-token-file "$work/admin.token" > "$work/server.log" 2> "$work/server.err" &
server_pid=$!
address=
for _ in $(seq 1 300); do
  address=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$work/server.log")
  [[ -n $address ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; exit 1; }
  sleep 0.1
done
[[ -n $address ]] || { echo "load.sh: server did not start" >&2; cat "$work/server.err" >&2; exit 1; }
echo "== rqs-server pid $server_pid on $address, --pool-size $pool_size"

# Reads key=value lines of FILE; prints VALUE of KEY.
value() { sed -n "s/^$2=//p" "$1" | tail -n 1; }
peak_rss_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status"; }
# Prints the median of its arguments (of an even number, the lower middle).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# pgbench's own review: one rater per client and a block of studies per
# client, created in SQL (ids contiguous on this otherwise idle database).
# Round k uses part k of each block.
per_round=$(( (duration + 5) * 100 ))
per_client=$(( (rounds + ${#open_percents[@]}) * per_round ))
echo "== pgbench setup: $concurrency raters x $per_client studies"
"${psql[@]}" -tA -v clients="$concurrency" -v per_client="$per_client" <<'SQL' > "$work/pgbench.vars"
BEGIN;
INSERT INTO users (name) VALUES ('pgbench-coordinator');
INSERT INTO reviews (name, instrument_id, target_rrl, created_by)
  SELECT 'pgbench ceiling', 'rqs2', 0, id FROM users WHERE name = 'pgbench-coordinator'
  RETURNING id AS review \gset
INSERT INTO users (name)
  SELECT 'pgbench-rater-' || g FROM generate_series(0, :clients - 1) AS g ORDER BY g;
INSERT INTO review_members (review_id, user_id, role)
  SELECT :review, id, 'RATER' FROM users WHERE name LIKE 'pgbench-rater-%';
INSERT INTO studies (review_id, title, study_type)
  SELECT :review, 'pgbench study ' || g, 'HCR'
  FROM generate_series(0, :clients * :per_client - 1) AS g ORDER BY g;
INSERT INTO assignments (review_id, study_id, rater_id)
  SELECT :review, s.id, u.id
  FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM studies WHERE review_id = :review) s
  JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS c FROM users
        WHERE name LIKE 'pgbench-rater-%') u ON s.k / :per_client = u.c;
COMMIT;
SELECT 'review=' || :review;
SELECT 'study_base=' || min(id) || E'\nstudy_span=' || (max(id) - min(id) + 1) || E'\nstudy_count=' || count(*)
  FROM studies WHERE review_id = :review;
SELECT 'rater_base=' || min(id) || E'\nrater_span=' || (max(id) - min(id) + 1)
  FROM users WHERE name LIKE 'pgbench-rater-%';
SQL
# Statistics for the tables just filled, and only those: analysed while
# still empty, the assessment tables would be known empty, and the plans
# each connection caches on first use (scans of a table of one page) would
# serve until autovacuum analyses them again, up to a minute later.
"${psql[@]}" -c "ANALYZE users, reviews, review_members, studies, assignments"
sed -i 's/^ *//' "$work/pgbench.vars"
review=$(value "$work/pgbench.vars" review)
study_base=$(value "$work/pgbench.vars" study_base)
rater_base=$(value "$work/pgbench.vars" rater_base)
if [[ $(value "$work/pgbench.vars" study_span) != $(value "$work/pgbench.vars" study_count) ||
      $(value "$work/pgbench.vars" rater_span) != "$concurrency" ]]; then
  echo "load.sh: pgbench's study or rater ids are not contiguous" >&2; exit 1
fi

# Runs pgbench for one round: tag $1 names its files, block $2 is the part of
# each client's block of studies it uses, $3 is its number of threads,
# further arguments go to pgbench.
# Writes $work/pgbench.$1.txt, and pgbench's tps and latency percentiles to
# $work/pgbench_figures.$1.txt ("tps p50 p95 p99").
run_pgbench() {
  local tag=$1 block=$2 threads=$3 tps failed_tx
  shift 3
  "$pg_bin/pgbench" -n -M prepared -c "$concurrency" -j "$threads" -T "$duration" "$@" \
    -l --log-prefix="$work/pgbench_log.$tag" -f bench/load_pgbench.sql -D n=0 -D review="$review" \
    -D study_base="$(( study_base + block * per_round ))" -D per_client="$per_client" \
    -D rater_base="$rater_base" "$url" 2>&1 | tee "$work/pgbench.$tag.txt"
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench.$tag.txt" | tail -n 1)
  [[ -n $tps ]] || { echo "load.sh: pgbench failed" >&2; exit 1; }
  failed_tx=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/pgbench.$tag.txt")
  if [[ ${failed_tx:-0} != 0 ]]; then echo "load.sh: pgbench transactions failed" >&2; exit 1; fi
  # Ranked as load_gen ranks the server's latencies; third field of the
  # per-transaction log: latency in microseconds (with --rate, from each
  # transaction's scheduled start, as load_gen --rate measures).
  cat "$work/pgbench_log.$tag".* | awk '{print $3 / 1000}' | sort -n | awk -v tps="$tps" '
    { latency[NR] = $1 }
    END { if (NR == 0) exit; n = NR - 1
          printf "%s %.2f %.2f %.2f\n", tps, latency[int(0.50 * n) + 1],
                 latency[int(0.95 * n) + 1], latency[int(0.99 * n) + 1] }' \
    > "$work/pgbench_figures.$tag.txt"
}

# Runs closed-loop round $1: load_gen, then pgbench, each as fast as its
# clients go. Writes $work/write.$1.txt and pgbench's files of tag $1.
run_round() {
  local k=$1
  echo "== round $((k + 1))/$rounds: load_gen, $concurrency raters submitting for ${duration} s (after ${warmup} s warm-up)"
  "$load_gen" --server "$address" --admin-token-file "$work/admin.token" --mode write \
    --concurrency "$concurrency" --duration "$duration" --warmup "$warmup" | tee "$work/write.$k.txt"
  echo "== round $((k + 1))/$rounds: pgbench -c $concurrency -j 2 -T $duration, one assessment + 42 answers per transaction"
  run_pgbench "$k" "$k" 2
}
for (( k = 0; k < rounds; k++ )); do run_round "$k"; done

pgbench_tps_median=$(median $(for (( k = 0; k < rounds; k++ )); do
  cut -d' ' -f1 "$work/pgbench_figures.$k.txt"; done))
# Runs the open-loop round of percent $1: both sides offered the same
# Poisson arrivals, that percentage of pgbench's median closed-loop tps,
# latency counted from each scheduled arrival (load_gen --rate, pgbench
# --rate). Writes $work/write.open$1.txt and pgbench's files of tag open$1;
# $2 is the round's block of studies.
run_open_round() {
  local percent=$1 block=$2 rate
  rate=$(awk -v t="$pgbench_tps_median" -v p="$percent" 'BEGIN { printf "%.1f", t * p / 100 }')
  echo "== open loop at $percent % of pgbench's median ($rate/s offered): load_gen --rate $rate"
  "$load_gen" --server "$address" --admin-token-file "$work/admin.token" --mode write \
    --concurrency "$concurrency" --duration "$duration" --warmup "$warmup" --rate "$rate" \
    | tee "$work/write.open$percent.txt"
  echo "== open loop at $percent % of pgbench's median: pgbench -c $concurrency -j 1 --rate $rate"
  # One thread: one Poisson schedule that the free clients take from, as
  # load_gen's raters do (pgbench gives each thread a schedule of its own).
  run_pgbench "open$percent" "$block" 1 --rate "$rate"
}
block=$rounds
for percent in "${open_percents[@]}"; do
  run_open_round "$percent" "$block"
  block=$(( block + 1 ))
done
rss_after_write_kb=$(peak_rss_kb)
stored=$("${psql[@]}" -tA -c "SELECT count(*) FROM assessments WHERE review_id = $review AND status = 'SUBMITTED'")
echo "pgbench stored $stored submitted assessments"

if [[ ${LOAD_SKIP_READ:-0} != 1 ]]; then
  echo "== load_gen --mode read: $read_studies studies x $read_raters raters"
  "$load_gen" --server "$address" --admin-token-file "$work/admin.token" --mode read \
    --concurrency "$concurrency" --read-studies "$read_studies" --read-raters "$read_raters" \
    --server-pid "$server_pid" | tee "$work/read.txt"
else
  : > "$work/read.txt"
fi
rss_final_kb=$(peak_rss_kb)

measured=1

# --- Verdict ---------------------------------------------------------------
verdict=0
check() {  # check NAME VALUE OP LIMIT UNIT
  if awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { exit !((op == "<" && v < l) || (op == ">=" && v >= l)) }'; then
    printf '  %-34s %12s %s   target %s %s %s   PASS\n' "$1" "$2" "$5" "$3" "$4" "$5"
  else
    printf '  %-34s %12s %s   target %s %s %s   FAIL\n' "$1" "$2" "$5" "$3" "$4" "$5"
    verdict=1
  fi
}
rss_mb=$(awk -v k="$rss_final_kb" 'BEGIN { printf "%.1f", k / 1024 }')
rss_write_mb=$(awk -v k="$rss_after_write_kb" 'BEGIN { printf "%.1f", k / 1024 }')
echo
echo "== Results ($concurrency clients, $rounds rounds of ${duration} s each side, server --pool-size $pool_size, $(nproc) cores)"
printf '  %-6s %-36s %-36s %s\n' round "server /s, p50 / p95 / p99 ms" "pgbench tps, p50 / p95 / p99 ms" "ratio"
ratios=() p99s=() errors=0 exhausted=0
for (( k = 0; k < rounds; k++ )); do
  write="$work/write.$k.txt"
  server_tps=$(value "$write" throughput_per_s)
  p99=$(value "$write" latency_ms_p99)
  read -r pgbench_tps pg50 pg95 pg99 < "$work/pgbench_figures.$k.txt"
  ratio=$(awk -v s="$server_tps" -v p="$pgbench_tps" 'BEGIN { printf "%.1f", 100 * s / p }')
  ratios+=("$ratio") p99s+=("$p99")
  errors=$(( errors + $(value "$write" errors) ))
  exhausted=$(( exhausted + $(value "$write" exhausted) ))
  printf '  %-6s %-36s %-36s %s %%\n' "$((k + 1))" \
    "$server_tps, $(value "$write" latency_ms_p50) / $(value "$write" latency_ms_p95) / $p99" \
    "$(printf '%.1f' "$pgbench_tps"), $pg50 / $pg95 / $pg99" "$ratio"
done
for percent in "${open_percents[@]}"; do
  write="$work/write.open$percent.txt"
  read -r pgbench_tps pg50 pg95 pg99 < "$work/pgbench_figures.open$percent.txt"
  errors=$(( errors + $(value "$write" errors) ))
  exhausted=$(( exhausted + $(value "$write" exhausted) ))
  printf '  %-6s %-36s %-36s %s\n' "open" \
    "$(value "$write" throughput_per_s), $(value "$write" latency_ms_p50) / $(value "$write" latency_ms_p95) / $(value "$write" latency_ms_p99)" \
    "$(printf '%.1f' "$pgbench_tps"), $pg50 / $pg95 / $pg99" \
    "$(value "$write" offered_per_s)/s offered ($percent % of pgbench's median)"
done
echo "  server peak RSS after writes:       $rss_write_mb MB"
if [[ -s $work/read.txt ]]; then
  echo "  server peak RSS after read setup:   $(value "$work/read.txt" server_peak_rss_mb_after_read_setup) MB"
fi
check "throughput vs pgbench (median)" "$(median "${ratios[@]}")" ">=" 50 "%"
check "p99 latency (median)" "$(median "${p99s[@]}")" "<" 50 "ms"
check "peak RSS (VmHWM, whole run)" "$rss_mb" "<" 200 "MB"
if (( errors != 0 || exhausted != 0 )); then
  echo "  write rounds had $errors errors, $exhausted raters ran out of studies   FAIL"; verdict=1
fi
for read in review_summary summary agreement; do
  state=$(value "$work/read.txt" "read_$read")
  case $state in
    ok) check "read $read (max of 5)" "$(value "$work/read.txt" "read_${read}_max_ms")" "<" 300 "ms"
        echo "    (server peak RSS after it: $(value "$work/read.txt" "server_peak_rss_mb_after_$read") MB)" ;;
    unavailable) printf '  %-34s not available yet\n' "read $read" ;;
    "") printf '  %-34s skipped\n' "read $read" ;;
    *) printf '  %-34s error   FAIL\n' "read $read"; verdict=1 ;;
  esac
done
if ((verdict == 0)); then echo "== PASS"; else echo "== FAIL"; fi
exit "$verdict"
