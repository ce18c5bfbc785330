#!/usr/bin/env bash
# Runs the aiconfigd image (make image) the way a deployment does, against
# PostgreSQL on this machine, on a fresh database: migrate up, token create,
# serve with the secret key from a mounted file; health SERVING checked by
# `aiconfigd health` inside the container; a GetModelConfig call that
# returns the API key sealed under that key; SIGTERM: NOT_SERVING while
# calls are still answered, then exit 0 within the grace period. Also: the
# image is under 40 MB, carries its version label and runs as non-root.
# Host network (no bridge needed); every listener on a port the kernel
# picks, read back from the server's log (others run servers here too).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:$(go env GOPATH)/bin

ENGINE=${ENGINE:-podman --runtime runc --cgroup-manager cgroupfs}
IMAGE=${IMAGE:-aiconfigd:latest}
VERSION=${VERSION:-}
MAX_BYTES=$((40 * 1000 * 1000))
DRAIN=5   # AICONFIG_DRAIN_DELAY, seconds: room for a call after NOT_SERVING is seen
GRACE=35  # what deploy/ gives a replica to stop: stop_grace_period, terminationGracePeriodSeconds
UID_WANT=65532

fail() { echo "image-test: $*" >&2; exit 1; }
engine() { $ENGINE "$@"; }
# These machines refuse podman's default open-files limit: say it.
limits=(--ulimit nofile=1024:1024 --ulimit nproc=1000:1000)

db=aiconfig_image_test_$$
url=$(scripts/pg.sh "$db")
work=$(mktemp -d)
name=aiconfigd-image-test-$$
cleanup() {
  engine rm -f "$name" >/dev/null 2>&1 || true
  scripts/pg.sh --drop "$db" >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The image itself.
engine image inspect "$IMAGE" >/dev/null 2>&1 || fail "no image $IMAGE: run make image first"
size=$(engine image inspect --format '{{.Size}}' "$IMAGE")
[ "$size" -lt "$MAX_BYTES" ] || fail "image is $size bytes, not under $MAX_BYTES"
user=$(engine image inspect --format '{{.Config.User}}' "$IMAGE")
[ "${user%%:*}" = "$UID_WANT" ] || fail "image runs as user '$user', want $UID_WANT"
label=$(engine image inspect --format '{{index .Labels "org.opencontainers.image.version"}}' "$IMAGE")
[ -n "$label" ] && { [ -z "$VERSION" ] || [ "$label" = "$VERSION" ]; } || fail "version label '$label', want '$VERSION'"
engine run --rm "${limits[@]}" "$IMAGE" version | grep -qF "aiconfigd $label" || fail "aiconfigd version in the image does not say $label"
echo "image-test: $IMAGE: $size bytes, user $user, version $label"

# The secret key as a file, the way compose secrets and Kubernetes mount it.
head -c 32 /dev/urandom | base64 > "$work/secret.key"
chmod 0444 "$work/secret.key"
run() {
  engine run --rm --network host "${limits[@]}" \
    -v "$work/secret.key:/run/secrets/aiconfig_secret_key:ro" \
    -e AICONFIG_DATABASE_URL="$url" -e AICONFIG_SECRET_KEY_FILE=/run/secrets/aiconfig_secret_key \
    "$@"
}

run "$IMAGE" migrate up
run "$IMAGE" migrate version | grep -q "dirty=false" || fail "migrate version after migrate up"
admin=$(run "$IMAGE" token create --role admin --name image-test-admin)
worker=$(run "$IMAGE" token create --role service --name image-test-worker)
[[ $admin == aic_* && $worker == aic_* ]] || fail "token create printed no token"

# serve, detached (not --rm: its exit code is checked).
engine run -d --name "$name" --network host "${limits[@]}" \
  -v "$work/secret.key:/run/secrets/aiconfig_secret_key:ro" \
  -e AICONFIG_DATABASE_URL="$url" -e AICONFIG_SECRET_KEY_FILE=/run/secrets/aiconfig_secret_key \
  -e AICONFIG_LISTEN=127.0.0.1:0 -e AICONFIG_METRICS_LISTEN=127.0.0.1:0 -e AICONFIG_HTTP_LISTEN= \
  -e AICONFIG_DRAIN_DELAY=${DRAIN}s \
  "$IMAGE" serve >/dev/null
addr=""; metrics=""
for _ in $(seq 300); do
  logs=$(engine logs "$name" 2>&1 || true)
  addr=$(sed -n 's/.*"msg":"serving","listen":"\([^"]*\)".*/\1/p' <<<"$logs" | head -1)
  metrics=$(sed -n 's/.*"msg":"metrics","listen":"\([^"]*\)".*/\1/p' <<<"$logs" | head -1)
  [ -n "$addr" ] && break
  [ "$(engine inspect --format '{{.State.Running}}' "$name")" = true ] || { echo "$logs"; fail "serve exited"; }
  sleep 0.2
done
[ -n "$addr" ] || { engine logs "$name"; fail "serve did not log its address"; }
echo "image-test: serving on $addr, metrics on $metrics"

# Non-root: the process itself, as the kernel sees it.
pid=$(engine inspect --format '{{.State.Pid}}' "$name")
uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
[ "$uids" = "$UID_WANT $UID_WANT $UID_WANT $UID_WANT" ] || fail "serve runs with uids $uids, want $UID_WANT"

# Health, checked inside the container by the image's own binary.
ok=""
for _ in $(seq 60); do
  if engine exec "$name" aiconfigd health --address "$addr" >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.5
done
[ -n "$ok" ] || { engine logs "$name"; fail "health never SERVING"; }
engine exec "$name" aiconfigd health --address "$addr" --service aiconfig.writes | grep -qx SERVING || fail "writes not SERVING"

# A worker's call: the API key set by an admin comes back to the SERVICE
# token, sealed and opened with the key from the mounted file.
auth=(-H "authorization: Bearer $admin")
grpcurl -plaintext "${auth[@]}" -d '{"account": {"id": "acme", "name": "Acme Inc", "plan": "PLAN_STARTER"}}' \
  "$addr" aiconfig.v1.AccountService/UpsertAccount >/dev/null
grpcurl -plaintext "${auth[@]}" -d '{"settings": {"openai": {"api_key": "sk-image-test-0123456789"}}, "update_mask": {"paths": ["openai.api_key"]}}' \
  "$addr" aiconfig.v1.ConfigService/UpdateGlobalSettings >/dev/null
call() {
  grpcurl -plaintext -H "authorization: Bearer $worker" -d '{"account_id": "acme", "function": "generate_content"}' \
    "$addr" aiconfig.v1.ConfigService/GetModelConfig
}
call | grep -qF '"apiKey": "sk-image-test-0123456789"' || { call || true; fail "GetModelConfig did not answer with the key"; }
if [ -n "$metrics" ]; then
  m=$(curl -fsS "http://$metrics/metrics")
  grep -q "aiconfig_build_info{.*version=\"$label\"" <<<"$m" || fail "/metrics lacks aiconfig_build_info for $label"
fi
echo "image-test: health SERVING, GetModelConfig answered"

# SIGTERM: reads go NOT_SERVING at once, calls are still answered through
# the drain delay, then the process exits 0 within the grace period.
host_bin=bin/image/aiconfigd
start=$(date +%s%3N)
engine kill --signal TERM "$name" >/dev/null
notserving=""
for _ in $(seq 20); do
  if ! "$host_bin" health --address "$addr" --timeout 1s >/dev/null 2>&1; then notserving=1; break; fi
  sleep 0.1
done
[ -n "$notserving" ] || fail "health still SERVING after SIGTERM"
call | grep -qF '"apiKey"' || fail "a call during the drain delay was not answered"
code=$(timeout $GRACE $ENGINE wait "$name") || fail "serve still running ${GRACE}s after SIGTERM"
elapsed_ms=$(( $(date +%s%3N) - start ))
elapsed=$((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000)))
[ "$code" = 0 ] || { engine logs "$name"; fail "serve exited $code after SIGTERM"; }
engine logs "$name" 2>&1 | grep -q '"msg":"shutting down"' || fail "serve did not log its shutdown"
[ "$elapsed_ms" -ge $((DRAIN * 1000)) ] || fail "serve exited after ${elapsed}s, before the ${DRAIN}s drain delay"
echo "image-test: SIGTERM: NOT_SERVING, drained, exit 0 after ${elapsed}s (drain ${DRAIN}s, grace ${GRACE}s)"
echo "image-test: ok"
