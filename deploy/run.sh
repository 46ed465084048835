#!/usr/bin/env bash
# The README's main job, on an embedded default that needs no database:
#   1. installs what is missing and builds rqs and rqs-server;
#   2. creates (first run) or reuses a private PostgreSQL cluster in ./var/pg,
#      listening only on a Unix socket;
#   3. starts rqs-server on localhost:50051 (RQS_LISTEN to change);
#   4. on the first run, loads a demo review (deploy/demo) through the CLI;
#   5. runs until Ctrl-C, then stops the server and the database cleanly.
# A second run reuses ./var: same data, same tokens.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash deploy/install-deps.sh
build=${RQS_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "${RQS_JOBS:-$(nproc)}" --target rqs rqs-server
rqs="$root/$build/client/rqs"
server="$root/$build/server/rqs-server"

var="$root/var"
mkdir -p "$var"
# The cluster runs as `postgres` when started as root: it must be able to
# traverse ./var; the token files inside stay private (mode 600).
chmod 711 "$var"
database_url=$(bash deploy/pg.sh start "$var/pg")
listen=${RQS_LISTEN:-localhost:50051}
server_pid=
stop() {
  trap - INT TERM EXIT
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
  bash deploy/pg.sh stop "$var/pg" >/dev/null || true
  echo "rqs: server and database stopped; data kept in $var"
}
trap stop INT TERM EXIT

# The first admin's token: made once, kept private in ./var.
if [[ ! -s "$var/admin.token" ]]; then
  (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed 's/^/rqs_/' \
    > "$var/admin.token")
fi
"$server" --database-url "$database_url" --listen "$listen" \
  --admin-token-file "$var/admin.token" > "$var/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q 'listening on' "$var/server.log" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$var/server.log"; exit 1; }
  sleep 0.1
done
grep 'listening on' "$var/server.log"
export RQS_SERVER=$listen

if [[ ! -s "$var/demo.review" ]]; then
  echo "== loading the demo review and running its Delphi rounds (first run)"
  bash deploy/demo/load.sh "$rqs" "$(cat "$var/admin.token")" "$var/tokens" > "$var/demo.review"
fi
review=$(cat "$var/demo.review")
RQS_TOKEN=$(cat "$var/admin.token") "$rqs" progress --review "$review"

cat <<TXT

rqs-server is running on $listen with the demo review $review. In another shell:
  export RQS_SERVER=$listen
  export RQS_TOKEN=\$(cat $var/admin.token)      # the coordinator; raters' tokens are in $var/tokens/
  $rqs consensus --review $review                # consensus score and attained RRL per study
  $rqs summary --review $review                  # the summary a review publishes
  $rqs report --review $review --html report.html
  $rqs watch --review $review --after 0          # the review's events, live
  RQS_TOKEN=\$(cat $var/tokens/alice) $rqs assignments $review
Press Ctrl-C to stop.
TXT
wait "$server_pid"
