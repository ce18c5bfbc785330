#!/usr/bin/env bash
# Checks, in a few seconds, everything a make target needs before it runs,
# and either installs what is missing (as root with apt-get: one update,
# one install) or names all of it at once with the command that installs
# it, then exits 1. `make test`, `make e2e`, `make lint` and .ci/run call
# it, so the list of what a fresh machine needs lives here only.
#
#   scripts/prereqs.sh TARGET...   TARGET: test, test-python, e2e, lint,
#                                  generate, run, bench, screenshots
#
# Environment:
#   AICONFIG_PREREQS_INSTALL  1: install missing Debian packages (needs root
#                             and apt-get); 0: only name them. Default: 1
#                             when root with apt-get, else 0.
#   PYTHON                    the Python the client's tests use (/usr/bin/python3)
#   AICONFIG_CHROMIUM         Chromium for the console's browser tests
#                             (default /usr/bin/chromium); AICONFIG_SKIP_BROWSER=1
#                             skips those tests and this check
#   AICONFIG_PREREQS_ROOT     prefix of the fixed system paths looked at
#                             (/usr/bin/chromium, /usr/lib/postgresql,
#                             /usr/local/go): for this script's own test
#   AICONFIG_PREREQS_PG       host:port of a running PostgreSQL (127.0.0.1:5432)
set -uo pipefail

root=${AICONFIG_PREREQS_ROOT:-}
python=${PYTHON:-$root/usr/bin/python3}
pg_addr=${AICONFIG_PREREQS_PG:-127.0.0.1:5432}
if [ -z "${AICONFIG_PREREQS_INSTALL:-}" ]; then
  if [ "$EUID" = 0 ] && command -v apt-get >/dev/null; then AICONFIG_PREREQS_INSTALL=1; else AICONFIG_PREREQS_INSTALL=0; fi
fi
[ $# -gt 0 ] || set -- test

want=" "
for target in "$@"; do
  case $target in
    test) want+="go pg chromium python python-django python-celery python-pip curl " ;;
    test-python) want+="go pg python python-django python-celery python-pip " ;;
    screenshots) want+="go pg chromium " ;;
    bench) want+="go pg " ;;
    e2e) want+="go pg curl " ;;
    lint|generate) want+="go protoc " ;;
    run) want+="go pg " ;;
    *) echo "prereqs.sh: unknown target $target (test, test-python, e2e, lint, generate, run, bench, screenshots)" >&2; exit 2 ;;
  esac
done
wants() { [[ $want == *" $1 "* ]]; }

# pkgs: Debian packages to install; why: one line each for the report;
# other: what apt cannot give (Go), with how to get it.
pkgs=() why=() other=()
need() { pkgs+=("$1"); why+=("  $1: $2"); }

# python_lacks MODULE...: prints each module the test Python cannot find
# (all of them if there is no such Python). One interpreter start, and
# find_spec rather than import, so the check takes well under a second.
python_lacks() {
  if [ -x "$python" ]; then
    "$python" -c 'import importlib.util, sys
for m in sys.argv[1:]:
    try:
        found = importlib.util.find_spec(m) is not None
    except Exception:
        found = False
    if not found:
        print(m)' "$@" 2>/dev/null || printf '%s\n' "$@"
  else
    printf '%s\n' "$@"
  fi
}

# A PostgreSQL server answering at pg_addr (bash's /dev/tcp, so no client
# tool is needed to know). Bash builtins only below, so the check works,
# and can be tested, with next to nothing on PATH.
pg_answers() { (exec 3<>"/dev/tcp/${pg_addr%:*}/${pg_addr##*:}") 2>/dev/null; }

# The newest /usr/lib/postgresql/N/bin, else the directory of pg_ctl on PATH.
pg_bindir() {
  local d best="" v bestv=-1
  for d in "$root"/usr/lib/postgresql/*/bin; do
    [ -d "$d" ] || continue
    v=${d%/bin}; v=${v##*/}; v=${v%%.*}
    [[ $v =~ ^[0-9]+$ ]] && [ "$v" -gt "$bestv" ] && { best=$d; bestv=$v; }
  done
  if [ -n "$best" ]; then echo "$best"; return; fi
  local p; p=$(command -v pg_ctl) && echo "${p%/*}"
}

# The Go version go.mod asks for.
go_version() {
  local line here=${BASH_SOURCE[0]%/*}
  while read -r line; do [[ $line == "go "* ]] && { echo "${line#go }"; return; }; done <"$here/../go.mod"
}

check() {
  pkgs=() why=() other=()
  if wants go && ! command -v go >/dev/null; then
    if [ -x "$root/usr/local/go/bin/go" ]; then
      other+=("  go: installed in /usr/local/go/bin, which is not on PATH: export PATH=\$PATH:/usr/local/go/bin")
    else
      other+=("  go: Go $(go_version 2>/dev/null) or newer, from https://go.dev/dl/ (then export PATH=\$PATH:/usr/local/go/bin)")
    fi
  fi
  if wants pg; then
    local bin; bin=$(pg_bindir)
    if [ -z "$bin" ] || [ ! -x "$bin/psql" ] || [ ! -x "$bin/pg_isready" ]; then
      if pg_answers; then need postgresql-client "psql and pg_isready, to reach PostgreSQL at $pg_addr"
      else need postgresql "PostgreSQL: none answers at $pg_addr, and scripts/pg.sh starts a private cluster with its server binaries"; fi
    elif ! pg_answers && { [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; }; then
      need postgresql "PostgreSQL server binaries (initdb, pg_ctl): none answers at $pg_addr"
    fi
  fi
  if wants chromium && [ "${AICONFIG_SKIP_BROWSER:-}" != 1 ]; then
    local chromium=${AICONFIG_CHROMIUM:-$root/usr/bin/chromium}
    if [ ! -x "$chromium" ]; then
      need chromium "headless Chromium for the console's browser tests ($chromium; or set AICONFIG_CHROMIUM, or AICONFIG_SKIP_BROWSER=1 to skip them)"
    fi
  fi
  if wants python; then
    [ -x "$python" ] || need python3 "$python, the Python the client's tests run with (PYTHON=...)"
    local modules=(grpc google.protobuf) lacks=" "
    wants python-django && modules+=(django)
    wants python-celery && modules+=(celery)
    wants python-pip && modules+=(pip setuptools)
    local missing_modules=()
    mapfile -t missing_modules < <(python_lacks "${modules[@]}")
    lacks+="${missing_modules[*]} "
    [[ $lacks == *" grpc "* ]] && need python3-grpcio "grpcio for $python (the Python client's tests)"
    [[ $lacks == *" google.protobuf "* ]] && need python3-protobuf "protobuf for $python (the Python client's tests)"
    [[ $lacks == *" django "* ]] && need python3-django "Django for $python (the Django import's tests)"
    [[ $lacks == *" celery "* ]] && need python3-celery "Celery for $python (the prefork worker tests)"
    [[ $lacks == *" pip "* ]] && need python3-pip "pip for $python (the client's packaging test)"
    [[ $lacks == *" setuptools "* ]] && need python3-setuptools "setuptools for $python (the client's packaging test)"
    if [ "$lacks" != " " ] && [ "$python" != "$root/usr/bin/python3" ]; then
      other+=("  (PYTHON=$python: the Debian packages serve /usr/bin/python3; unset PYTHON to use it)")
    fi
  fi
  if wants curl; then command -v curl >/dev/null || need curl "curl, for the README session's HTTP/JSON calls (make e2e)"; fi
  if wants protoc; then
    command -v protoc >/dev/null || need protobuf-compiler "protoc, for the Python stubs (make generate, make lint)"
    command -v grpc_python_plugin >/dev/null || need protobuf-compiler-grpc "grpc_python_plugin, for the Python stubs (make generate, make lint)"
  fi
}

check
if [ ${#pkgs[@]} -gt 0 ] && [ "$AICONFIG_PREREQS_INSTALL" = 1 ]; then
  echo "prereqs: installing ${pkgs[*]}" >&2
  # One update and one install for everything; the check below says what
  # is still missing if either fails.
  aptlog=$(mktemp)
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}"; } >"$aptlog" 2>&1 \
    || { echo "prereqs: apt-get install ${pkgs[*]} failed:" >&2; tail -n 20 "$aptlog" >&2; }
  rm -f "$aptlog"
  check
fi
if [ ${#pkgs[@]} -eq 0 ] && [ ${#other[@]} -eq 0 ]; then exit 0; fi

{
  echo "prereqs: make $* cannot run on this machine; missing:"
  [ ${#why[@]} -eq 0 ] || printf '%s\n' "${why[@]}"
  [ ${#other[@]} -eq 0 ] || printf '%s\n' "${other[@]}"
  if [ ${#pkgs[@]} -gt 0 ]; then
    echo "install them (Debian, Ubuntu) with:"
    echo "  sudo apt-get update && sudo apt-get install -y ${pkgs[*]}"
  fi
} >&2
exit 1
