#!/usr/bin/env bash
# make run: database (AICONFIG_DATABASE_URL, else found or started by
# scripts/pg.sh), migrations, a dev admin token on stderr, then serve.
set -euo pipefail
cd "$(dirname "$0")/.."
export AICONFIG_DATABASE_URL=${AICONFIG_DATABASE_URL:-$(scripts/pg.sh aiconfig)}
# A dev secret key, made once and reused, so stored API keys stay readable
# across restarts. Production sets AICONFIG_SECRET_KEY(_FILE) itself.
if [ -z "${AICONFIG_SECRET_KEY:-}${AICONFIG_SECRET_KEY_FILE:-}" ]; then
  mkdir -p .data
  [ -s .data/secret.key ] || (umask 077 && head -c 32 /dev/urandom | base64 > .data/secret.key)
  export AICONFIG_SECRET_KEY_FILE=$PWD/.data/secret.key
fi
bin/aiconfigd migrate up
token=$(bin/aiconfigd token create --role admin --name "dev-admin-$(date +%Y%m%d-%H%M%S)")
cat >&2 <<MSG
aiconfigd: dev admin token (shown once; keep it out of shell history in production):
  export TOKEN=$token
aiconfigd: console at http://${AICONFIG_HTTP_LISTEN:-127.0.0.1:8080}/ (sign in with the token)
MSG
exec bin/aiconfigd serve
