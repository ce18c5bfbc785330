"""The Python client's cached read: µs per call (p50, p99).

    python3 clients/python/bench.py                       # starts aiconfigd (bin/, make build) on a fresh database
    python3 clients/python/bench.py --target 127.0.0.1:50051 --token $SERVICE_TOKEN --account acme

Prints one line, e.g. "python cached model_config: p50 3.1 µs/call, p99 5.0 µs, 200000 calls"
(with --json, the same as a JSON object: make bench reads it).
With no --target it needs what the tests need (PostgreSQL as make test finds
it, /usr/bin/python3 with Debian's grpcio). Target: p50 ≤ 20 µs.
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import aiconfig  # noqa: E402


def measure(client: aiconfig.Client, account: str, calls: int):
    client.model_config(account, "generate_content")
    deadline = time.monotonic() + 10
    while not client.stats().get("in_step"):
        if time.monotonic() > deadline:
            raise SystemExit("the client's change feed did not get in step")
        time.sleep(0.01)
    client.model_config(account, "generate_content")
    misses = client.stats()["misses"]
    clock, read = time.perf_counter_ns, client.model_config
    samples = [0] * calls
    for i in range(calls):
        t = clock()
        read(account, "generate_content")
        samples[i] = clock() - t
    if client.stats()["misses"] != misses:
        raise SystemExit("reads were not all cached")
    samples.sort()
    return samples[calls // 2] / 1000, samples[calls * 99 // 100] / 1000, statistics.fmean(samples) / 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", help="a running server (plaintext); default: start one")
    ap.add_argument("--token", default=os.environ.get("AICONFIG_TOKEN"), help="a SERVICE token (env AICONFIG_TOKEN)")
    ap.add_argument("--account", default="acme", help="an account on Starter or above")
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--json", action="store_true", help="print the result as a JSON object")
    args = ap.parse_args()
    env = None
    if args.target:
        target, token = args.target, args.token
    else:
        from tests.harness import Admin, Database, Server
        db = Database()
        server = Server(db)
        admin = Admin(server, db.token("admin"))
        admin.set_api_key()
        admin.account(args.account)
        admin.close()
        target, token, env = server.addr, db.token("service"), (server, db)
    client = aiconfig.Client(target, token=token, insecure=True)
    try:
        p50, p99, mean = measure(client, args.account, args.calls)
    finally:
        client.close()
        if env:
            env[0].close()
            env[1].drop()
    if args.json:
        print(json.dumps({"p50_us": p50, "p99_us": p99, "mean_us": mean, "calls": args.calls}))
    else:
        print(f"python cached model_config: p50 {p50:.2f} µs/call, p99 {p99:.2f} µs, mean {mean:.2f} µs, {args.calls} calls")


if __name__ == "__main__":
    main()
