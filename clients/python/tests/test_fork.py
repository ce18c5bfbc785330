"""Celery's prefork: a parent that used the client forks children that
each use it (gRPC cannot carry a channel or its threads across a fork)."""

import multiprocessing
import os
import select
import threading
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
        # A deadline for a machine under load (40 children starting at once
        # on two cores): a call that fails here is slow, not broken.
        _client = self.env.in_step(timeout=10)
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

    def _fork_children(self, n, between=None):
        """Forks n children that each read once; returns what went wrong
        (crashes, hangs past a deadline, wrong or failed answers), by child."""
        children = {}
        for i in range(n):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    os.close(r)
                    cfg = _client.model_config("acme", "generate_content")
                    os.write(w, b"ok" if cfg.temperature == 0.5 and cfg.api_key == API_KEY else b"wrong answer")
                    code = 0
                except BaseException as e:  # noqa: BLE001
                    os.write(w, repr(e).encode()[:300])
                finally:
                    os._exit(code)
            os.close(w)
            children[pid] = (i, r)
            if between:
                between()
        problems = []
        deadline = time.monotonic() + 30  # a hung child would never answer
        for pid, (i, r) in children.items():
            ready, _, _ = select.select([r], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                os.kill(pid, 9)
            out = os.read(r, 1000) if ready else b"hung past the deadline"
            os.close(r)
            _, status = os.waitpid(pid, 0)
            if os.WIFSIGNALED(status) and ready:
                out = f"killed by signal {os.WTERMSIG(status)}".encode()
            if out != b"ok":
                problems.append((i, out.decode(errors="replace")))
        return problems

    def test_forty_children_of_a_parent_that_called(self):
        # The warm-up call is in setUp; a second client that never called
        # is there too, as a worker module may hold several.
        self.assertEqual(self._fork_children(40), [])

    def test_forty_forks_while_a_parent_thread_calls(self):
        stop = threading.Event()
        calls, errors = [0], []

        def loop():
            while not stop.is_set():
                try:
                    # Not from the cache: a call is in flight at most forks.
                    _client._proc.cache.restart(_client._proc.cache.position())
                    _client.model_config("acme", "generate_content")
                    calls[0] += 1
                except Exception as e:  # noqa: BLE001
                    errors.append(e)

        threads = [threading.Thread(target=loop, daemon=True) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            wait_for("the parent's threads to call", lambda: calls[0] > 5)
            problems = self._fork_children(40, between=lambda: time.sleep(0.01))
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        self.assertEqual(problems, [])
        self.assertEqual(errors, [], "the parent's calls failed around the forks")
        self.assertGreater(calls[0], 40)

    def test_a_fork_pool(self):
        # multiprocessing's fork pool, as billiard (Celery) forks its workers.
        with multiprocessing.get_context("fork").Pool(3) as pool:
            results = pool.map_async(_task, ["acme"] * 12).get(timeout=60)
        self.assertEqual({r[1:] for r in results}, {(True, 0.5, results[0][3])})
        self.assertGreater(len({r[0] for r in results}), 1, "the tasks ran in several processes")
        self.assertEqual(_client.model_config("acme", "generate_content").temperature, 0.5)


if __name__ == "__main__":
    unittest.main()
