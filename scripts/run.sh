#!/usr/bin/env bash
# make run: database (AICONFIG_DATABASE_URL, created if missing, else found
# or started by scripts/pg.sh), migrations, .data/env for a second shell,
# a dev admin token on stderr, then serve.
set -euo pipefail
cd "$(dirname "$0")/.."
export AICONFIG_DATABASE_URL=${AICONFIG_DATABASE_URL:-$(scripts/pg.sh aiconfig)}
mkdir -p .data
# A dev secret key, made once and reused, so stored API keys stay readable
# across restarts. Production sets AICONFIG_SECRET_KEY(_FILE) itself.
if [ -z "${AICONFIG_SECRET_KEY:-}${AICONFIG_SECRET_KEY_FILE:-}" ]; then
  [ -s .data/secret.key ] || (umask 077 && head -c 32 /dev/urandom | base64 > .data/secret.key)
  export AICONFIG_SECRET_KEY_FILE=$PWD/.data/secret.key
fi
bin/aiconfigd migrate up --create-database

# What another shell needs to use this database and key with the CLI:
# `source .data/env`. The key goes in by path only; a key given in
# AICONFIG_SECRET_KEY is not copied into a file.
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }  # single-quoted for sh
rm -f .data/env
(
  umask 077
  {
    echo "# Written by make run: source .data/env to use this database and secret key from another shell."
    echo "export AICONFIG_DATABASE_URL=$(q "$AICONFIG_DATABASE_URL")"
    if [ -n "${AICONFIG_SECRET_KEY_FILE:-}" ]; then
      echo "export AICONFIG_SECRET_KEY_FILE=$(q "$(realpath "$AICONFIG_SECRET_KEY_FILE")")"
    else
      echo "# AICONFIG_SECRET_KEY was set in the shell that ran make run: set it here too."
    fi
  } > .data/env
)

token=$(bin/aiconfigd token create --role admin --name "dev-admin-$(date +%Y%m%d-%H%M%S)")
# A password in the URL is not printed (the file has it).
shown=$(grep '^export' .data/env | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#')
cat >&2 <<MSG
aiconfigd: dev admin token (shown once; keep it out of shell history in production):
  export TOKEN=$token
aiconfigd: console at http://${AICONFIG_HTTP_LISTEN:-127.0.0.1:8080}/ (sign in with the token)
aiconfigd: another shell uses this database and key with \`source .data/env\`, which holds:
$(sed 's/^/  /' <<<"$shown")
  e.g. source .data/env && bin/aiconfigd token create --role service --name worker-1
MSG
exec bin/aiconfigd serve
