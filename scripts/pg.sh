#!/usr/bin/env bash
# Finds or starts PostgreSQL and prints a connection URL for database $1
# (default: postgres), creating that database if it is missing.
# `pg.sh --drop NAME` drops database NAME instead; `pg.sh --drop-test-run ID`
# drops the template databases test run ID made (internal/pgtest: those
# commented "aiconfig test run ID") and every database cloned from them.
#   1. PostgreSQL on 127.0.0.1:5432 if it answers;
#   2. else a private cluster under .data/pg on 127.0.0.1:55432, created
#      with the installed binaries (as the postgres user when run as root:
#      initdb refuses root). AICONFIG_PG_PRIVATE=1 skips step 1.
set -euo pipefail
drop="" droprun=""
if [ "${1:-}" = --drop ]; then drop=$2; set -- postgres; fi
if [ "${1:-}" = --drop-test-run ]; then
  droprun=$2; set -- postgres
  [[ $droprun =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "pg.sh: bad test run id: $droprun" >&2; exit 2; }
fi
db=${1:-postgres}
root=$(cd "$(dirname "$0")/.." && pwd)

bindir=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do bindir=$d; break; done
if [ -z "$bindir" ] && command -v pg_ctl >/dev/null; then bindir=$(dirname "$(command -v pg_ctl)"); fi
[ -n "$bindir" ] || { echo "pg.sh: no PostgreSQL binaries found; install postgresql (apt-get install postgresql)" >&2; exit 1; }

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

host=127.0.0.1
if [ -z "${AICONFIG_PG_PRIVATE:-}" ] && "$bindir/pg_isready" -q -h "$host" -p 5432; then
  port=5432
else
  port=55432
  data="$root/.data/pg"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    mkdir -p "$data"
    chown postgres "$root/.data" "$data"
    # The postgres user must be able to reach the folder; else use /tmp.
    if ! runuser -u postgres -- test -w "$data"; then data=/tmp/aiconfig-pg; mkdir -p "$data"; chown postgres "$data"; fi
  fi
  if [ ! -s "$data/PG_VERSION" ]; then
    as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >"${data}.initdb.log" 2>&1 \
      || { cat "${data}.initdb.log" >&2; exit 1; }
  fi
  if ! "$bindir/pg_isready" -q -h "$host" -p "$port"; then
    as_pg "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
      -o "-c listen_addresses=$host -p $port -k /tmp -c max_connections=200 -c fsync=off" start >&2
  fi
fi

psql=("$bindir/psql" -h "$host" -p "$port" -U postgres -d postgres -X -q -t -A)
if [ -n "$drop" ]; then "${psql[@]}" -c "DROP DATABASE IF EXISTS \"$drop\" WITH (FORCE)" >/dev/null; exit 0; fi
if [ -n "$droprun" ]; then
  # pgtestdb names a template testdb_tpl_<hash> and its clones
  # testdb_tpl_<hash>_inst_<id>; a template must stop being one to be dropped.
  for tpl in $("${psql[@]}" -c "SELECT d.datname FROM pg_database d JOIN pg_shdescription s
      ON s.objoid = d.oid AND s.classoid = 'pg_database'::regclass
      WHERE d.datname LIKE 'testdb\_tpl\_%' AND s.description = 'aiconfig test run $droprun'"); do
    for db in $("${psql[@]}" -c "SELECT datname FROM pg_database WHERE starts_with(datname, '${tpl}_inst_')") "$tpl"; do
      "${psql[@]}" -c "ALTER DATABASE \"$db\" IS_TEMPLATE false" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
    done
  done
  exit 0
fi
if [ "$db" != postgres ] && [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
  "${psql[@]}" -c "CREATE DATABASE \"$db\"" >/dev/null
fi
echo "postgres://postgres@$host:$port/$db?sslmode=disable"
