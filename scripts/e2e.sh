#!/usr/bin/env bash
# Runs the README's grpcurl session, verbatim, against a real server on a
# fresh database, and checks what it printed. Every listener (gRPC, HTTP,
# metrics) binds port 0, so the run never collides with `make run` or
# another e2e; the addresses come from the server's log. If the server
# exits or a check fails, the server's log is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:$(go env GOPATH)/bin

# The binary under test (the README session itself runs bin/aiconfigd).
aiconfigd=${AICONFIG_BIN:-bin/aiconfigd}
db=aiconfig_e2e_$$
export AICONFIG_DATABASE_URL=$(scripts/pg.sh "$db")
log=$(mktemp); out=$(mktemp)
cleanup() {
  local status=$?
  [ -n "${pid:-}" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  if [ "$status" != 0 ] && [ -s "$log" ]; then
    echo "e2e: failed; the server's log:"; cat "$log"
  fi
  scripts/pg.sh --drop "$db" || true
  rm -f "$log" "$out" "$out.sh"
}
trap cleanup EXIT

# logged NAME: the listen address of the server's log line whose msg is
# NAME ("serving" for gRPC, "serving HTTP", "metrics").
logged() { sed -n 's/.*"msg":"'"$1"'".*"listen":"\([^"]*\)".*/\1/p' "$log" | tail -n 1; }

# start_server [serve flags...]: starts serve in the background on free
# ports and waits (30 s at most) until it serves gRPC; ADDR and HTTP are
# then its addresses. If serve exits first, say so at once.
start_server() {
  : >"$log"
  AICONFIG_LISTEN=127.0.0.1:0 AICONFIG_HTTP_LISTEN=127.0.0.1:0 AICONFIG_METRICS_LISTEN=127.0.0.1:0 \
    "$aiconfigd" serve "$@" 2>"$log" &
  pid=$!
  for _ in $(seq 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" || true; pid=""
      echo "e2e: aiconfigd serve exited before serving"; exit 1
    fi
    ADDR=$(logged serving)
    [ -n "$ADDR" ] && break
    sleep 0.1
  done
  [ -n "$ADDR" ] || { echo "e2e: aiconfigd serve did not serve within 30 s"; exit 1; }
  HTTP=$(logged "serving HTTP")
  export ADDR HTTP
}

export AICONFIG_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
"$aiconfigd" migrate up
export TOKEN=$("$aiconfigd" token create --role admin --name e2e-admin)
start_server
[ -n "$HTTP" ] && [ -n "$(logged metrics)" ] || { echo "e2e: the log does not name the HTTP and metrics listeners"; exit 1; }
# What orchestrators run: the standard health probe (SERVING once the
# preload is done).
for _ in $(seq 100); do grpc-health-probe -connect-timeout=1s -addr="$ADDR" >/dev/null 2>&1 && break; sleep 0.1; done
grpc-health-probe -connect-timeout=1s -addr="$ADDR" 2>&1 | grep -q "status: SERVING" || { echo "e2e: grpc-health-probe does not see SERVING at $ADDR"; exit 1; }

# The sessions exactly as the README shows them: the bash blocks between
# e2e:start and e2e:end markers, in order.
awk '/<!-- e2e:start -->/ {on=1; next} /<!-- e2e:end -->/ {on=0} on && !/^```/' README.md > "$out.sh"
bash -euo pipefail "$out.sh" > "$out" 2>&1 || { cat "$out"; echo "e2e: the README session failed"; exit 1; }

fail=0
expect() { grep -qF -- "$1" "$out" || { echo "e2e: expected output to contain: $1"; fail=1; }; }
expect 'aiconfig.v1.ConfigService'
expect '"apiKeyHint": "…cdef"'
expect '"model": "gpt-4.1"'
expect '"temperature": "SOURCE_ACCOUNT"'
expect '"apiKey": "sk-demo-0123456789abcdef"'
expect '"overridesSuppressed": true'
expect 'PLAN_UPGRADE_REQUIRED'
# grpcurl prints JSON with <, > and & escaped; the value itself came back as given.
expect '"text": "Group by search intent: seo audit\nlink building \u003cb\u003e\u0026\u003c/b\u003e"'
expect '"action": "customize"'
expect '"action": "reset"'
# The same server over HTTP/JSON: every field (empty ones too), and an
# error's reason and field as plain JSON.
expect '"apiKey":""'
expect '"reason":"VALIDATION_FAILED"'
expect '"field":"override.temperature"'
expect '"id": "expert-practitioner"'
expect '"tone": "warm, brief"'
expect '"defaultAuthorProfileId": "acme-voice"'
expect '"promptType": "content_generation"'
expect '"id": "pillar-cluster-seo"'
expect '"language": "en-GB"'
expect '"action": "create"'
# The key reaches only the worker's GetModelConfig and GetGenerationContext.
[ "$(grep -c 'sk-demo-0123456789abcdef' "$out")" = 2 ] || { echo "e2e: the API key was printed other than to the worker"; fail=1; }
if grep -q 'sk-demo-0123456789abcdef' "$log" || grep -q "$TOKEN" "$log"; then echo "e2e: the server log holds a secret"; fail=1; fi
[ $fail = 0 ] || { cat "$out"; exit 1; }
kill -TERM "$pid"; wait "$pid"; pid=""
grep -q '"msg":"shutting down"' "$log" || { echo "e2e: no graceful shutdown"; cat "$log"; exit 1; }

# Secret key rotation with the real binary: rotate, then serve with the new
# key alone and check a worker still receives the key; a wrong key stops serve.
old_key=$AICONFIG_SECRET_KEY
export AICONFIG_SECRET_KEY=$(head -c 32 /dev/urandom | base64) AICONFIG_PREVIOUS_SECRET_KEYS=$old_key
"$aiconfigd" secrets rotate | grep -q '^re-sealed 1 API keys' || { echo "e2e: rotate did not re-seal the key"; exit 1; }
unset AICONFIG_PREVIOUS_SECRET_KEYS
start_server
grpcurl -plaintext -H "authorization: Bearer $("$aiconfigd" token create --role service --name e2e-worker)" \
  -d '{"account_id": "acme", "function": "generate_content"}' "$ADDR" aiconfig.v1.ConfigService/GetModelConfig \
  | grep -qF '"apiKey": "sk-demo-0123456789abcdef"' || { echo "e2e: key unreadable after rotation"; exit 1; }
kill -TERM "$pid"; wait "$pid"; pid=""
if AICONFIG_SECRET_KEY=$old_key AICONFIG_LISTEN=127.0.0.1:0 AICONFIG_HTTP_LISTEN= AICONFIG_METRICS_LISTEN= timeout 30 "$aiconfigd" serve 2>"$log"; then
  echo "e2e: serve started with the retired key"; exit 1
fi
grep -q 'cannot be opened' "$log" || { echo "e2e: no clear error for a wrong key"; cat "$log"; exit 1; }
echo "e2e: README session passed (1 passed, 0 failed)"
