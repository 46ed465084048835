#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster in a directory of your choice, for tests and
# for running a server locally. Nothing else needs to be running.
#
#   deploy/pg.sh start DIR   # init (first time) and start; prints the conninfo
#   deploy/pg.sh url DIR     # prints the conninfo of the cluster in DIR
#   deploy/pg.sh stop DIR    # stops it (data stays; `start` reuses it)
#
# Also sourceable: `source deploy/pg.sh` defines rqs_pg_start / rqs_pg_url /
# rqs_pg_stop taking DIR.
#
# The cluster listens only on a Unix socket in DIR (listen_addresses = ''), with
# trust authentication for local connections, so any local user can connect as
# the printed user; keep DIR private. It holds a database named `rqs`.
# PostgreSQL refuses to run as root, so as root the cluster runs as `postgres`
# and DIR is handed to that user (its parent directories must let `postgres`
# through, as /tmp does). DIR's path must stay short (a Unix socket lives in it).
#
# Environment: RQS_PG_BIN (default /usr/lib/postgresql/15/bin),
# RQS_PG_PORT (default 5432; only names the socket file, no TCP is opened).

rqs_pg_bin=${RQS_PG_BIN:-/usr/lib/postgresql/15/bin}
rqs_pg_port=${RQS_PG_PORT:-5432}

# Runs a command as the cluster's owner.
rqs_pg_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    # From /, which `postgres` can enter whatever the caller's directory is.
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# The database superuser initdb creates: the OS user that ran it.
rqs_pg_user() {
  if [[ $(id -u) -eq 0 ]]; then echo postgres; else id -un; fi
}

# Prints DIR as an absolute path (DIR need not exist).
rqs_pg_abs() {
  if [[ -d "$1" ]]; then
    (cd "$1" && pwd)
  elif [[ "$1" == /* ]]; then
    echo "$1"
  else
    echo "$PWD/$1"
  fi
}

rqs_pg_url() {
  local dir
  dir=$(rqs_pg_abs "${1:?usage: rqs_pg_url DIR}") || return 1
  echo "host=$dir port=$rqs_pg_port user=$(rqs_pg_user) dbname=rqs"
}

rqs_pg_start() {
  local dir
  mkdir -p "${1:?usage: rqs_pg_start DIR}" || return 1
  dir=$(rqs_pg_abs "$1") || return 1
  # Unix socket paths are limited to 107 bytes.
  if (( ${#dir} > 80 )); then
    echo "pg.sh: '$dir' is too long for a Unix socket path" >&2
    return 1
  fi
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$dir"
  fi
  chmod 700 "$dir"
  local data="$dir/data"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    rqs_pg_as_owner "$rqs_pg_bin/initdb" -D "$data" -U "$(rqs_pg_user)" \
      --auth-local=trust --auth-host=reject -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      return 1
    }
  fi
  if ! rqs_pg_as_owner "$rqs_pg_bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    rqs_pg_as_owner "$rqs_pg_bin/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 \
      -o "-c listen_addresses='' -c unix_socket_directories='$dir' -p $rqs_pg_port" \
      start >/dev/null || {
      tail -n 20 "$dir/postgres.log" >&2
      return 1
    }
  fi
  local psql=("$rqs_pg_bin/psql" -X -q -h "$dir" -p "$rqs_pg_port" -U "$(rqs_pg_user)")
  local exists
  exists=$("${psql[@]}" -d postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = 'rqs'")
  if [[ $exists != 1 ]]; then
    "${psql[@]}" -d postgres -c "CREATE DATABASE rqs" >/dev/null || return 1
  fi
  rqs_pg_url "$dir"
}

rqs_pg_stop() {
  local dir
  dir=$(rqs_pg_abs "${1:?usage: rqs_pg_stop DIR}") || return 1
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    rqs_pg_as_owner "$rqs_pg_bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    start) rqs_pg_start "${2:?usage: pg.sh start DIR}" ;;
    stop) rqs_pg_stop "${2:?usage: pg.sh stop DIR}" ;;
    url) rqs_pg_url "${2:?usage: pg.sh url DIR}" ;;
    *)
      echo "usage: $0 start|stop|url DIR" >&2
      exit 2
      ;;
  esac
fi
