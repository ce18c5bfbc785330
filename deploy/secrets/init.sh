#!/usr/bin/env bash
# Makes the secret files deploy/compose.yaml mounts, once: a database
# password (and the pgpass line aiconfigd reads it from) and the secret key
# that seals stored API keys. Existing files are kept. They must be readable
# by the containers' user (uid 65532): compose mounts file secrets as they are.
# The backend's token comes after the first start:
#   docker compose -f deploy/compose.yaml run --rm aiconfig-migrate \
#     token create --role service --name backend > deploy/secrets/aiconfig_backend.token
set -euo pipefail
cd "$(dirname "$0")"
umask 022
[ -s postgres_password ] || head -c 24 /dev/urandom | base64 | tr -d '/+=' > postgres_password
[ -s aiconfig.pgpass ] || echo "postgres:5432:aiconfig:aiconfig:$(cat postgres_password)" > aiconfig.pgpass
[ -s aiconfig_secret.key ] || head -c 32 /dev/urandom | base64 > aiconfig_secret.key
[ -e aiconfig_previous.keys ] || : > aiconfig_previous.keys
[ -e aiconfig_backend.token ] || : > aiconfig_backend.token
chmod 0444 postgres_password aiconfig.pgpass aiconfig_secret.key aiconfig_previous.keys aiconfig_backend.token
echo "deploy/secrets: ready (keep these files out of version control)"
