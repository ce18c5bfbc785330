"""Celery's prefork: a parent that used the client forks children that
each use it (gRPC cannot carry a channel or its threads across a fork)."""

import multiprocessing
import os
import select
import time
import unittest

from tests.harness import API_KEY, wait_for
from tests.test_client import GET_MODEL_CONFIG, Env

_client = None  # the worker module's client, as a Celery app would hold it


def _task(account):
    cfg = _client.model_config(account, "generate_content")
    text = _client.render_prompt(account, "clustering", {"keywords": "a, b"})
    return os.getpid(), cfg.api_key == API_KEY, cfg.temperature, text


class ForkTest(unittest.TestCase):
    def setUp(self):
        global _client
        self.env = Env()
        self.env.admin.account("acme")
        self.env.admin.set_temperature("acme", 0.5)
        _client = self.env.in_step()
        # The parent uses it: a channel, a feed thread and a cached answer.
        self.assertEqual(_client.model_config("acme", "generate_content").temperature, 0.5)

    def tearDown(self):
        self.env.close()

    def test_forked_children_use_the_client(self):
        before = self.env.server.handled(GET_MODEL_CONFIG)
        children = {}
        for _ in range(4):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: report, and leave without running the parent's cleanup
                os.close(r)
                code = 1
                try:
                    got = _task("acme")
                    ok = got[1] and got[2] == 0.5 and "a, b" in got[3] and _client.stats()["hits"] == 0
                    os.write(w, b"ok" if ok else repr(got).encode())
                    code = 0
                except BaseException as e:  # noqa: BLE001
                    os.write(w, repr(e).encode()[:500])
                finally:
                    os._exit(code)
            os.close(w)
            children[pid] = r
        deadline = time.monotonic() + 30
        for pid, r in children.items():
            ready, _, _ = select.select([r], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                for p in children:
                    try:
                        os.kill(p, 9)
                    except ProcessLookupError:
                        pass
                self.fail(f"child {pid} hung (a channel crossed the fork?)")
            out = os.read(r, 1000)
            os.close(r)
            _, status = os.waitpid(pid, 0)
            self.assertEqual(out, b"ok", f"child {pid}")
            self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        # Each child built its own channel and cache: one call each.
        self.assertEqual(self.env.server.handled(GET_MODEL_CONFIG) - before, 4)

        # The parent goes on: its cache kept, its feed resumed.
        self.assertEqual(_client.model_config("acme", "generate_content").temperature, 0.5)
        wait_for("the parent's feed to resume", lambda: _client.stats()["in_step"])
        rev = self.env.admin.set_temperature("acme", 0.6)
        wait_for("the parent to see a write", lambda: _client.model_config("acme", "generate_content").temperature == 0.6)
        self.assertGreaterEqual(_client.stats()["revision"], rev)

    def test_a_fork_pool(self):
        # multiprocessing's fork pool, as billiard (Celery) forks its workers.
        with multiprocessing.get_context("fork").Pool(3) as pool:
            results = pool.map_async(_task, ["acme"] * 12).get(timeout=60)
        self.assertEqual({r[1:] for r in results}, {(True, 0.5, results[0][3])})
        self.assertGreater(len({r[0] for r in results}), 1, "the tasks ran in several processes")
        self.assertEqual(_client.model_config("acme", "generate_content").temperature, 0.5)


if __name__ == "__main__":
    unittest.main()
