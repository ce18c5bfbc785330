"""A real Celery prefork worker (Debian's python3-celery, filesystem
broker) whose parent called the client before forking its pool: 1,000
tasks, each a read in a child, all correct (issue 21, defect 10)."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from tests.harness import API_KEY, wait_for
from tests.test_client import GET_MODEL_CONFIG, Env

try:
    import celery  # noqa: F401
except ImportError:  # pragma: no cover
    celery = None

TASKS = 1000
DEADLINE = 75  # seconds for the worker to start and run every task


@unittest.skipIf(celery is None, "celery is not installed (Debian: apt-get install python3-celery)")
class CeleryPreforkTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.env.admin.account("acme")
        self.env.admin.set_temperature("acme", 0.5)
        self.dir = tempfile.mkdtemp(prefix="aiconfig-celery-")
        for d in ("queue", "processed", "results"):
            os.mkdir(os.path.join(self.dir, d))
        here = Path(__file__).resolve().parents[1]
        self.environ = dict(os.environ, AICONFIG_CELERY_DIR=self.dir, AICONFIG_TARGET=self.env.server.addr,
                            AICONFIG_TOKEN=self.env.service_token, AICONFIG_ACCOUNT="acme", AICONFIG_WARM_UP="1",
                            AICONFIG_EXPECTED_KEY=API_KEY,
                            PYTHONPATH=os.pathsep.join(filter(None, [str(here), os.environ.get("PYTHONPATH")])))
        self.log = open(os.path.join(self.dir, "worker.log"), "w+")
        self.worker = None
        self.saved_environ = dict(os.environ)

    def tearDown(self):
        os.environ.clear()
        os.environ.update(self.saved_environ)
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.env.close()

    def worker_log(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-3000:]

    def test_a_prefork_worker_after_a_warm_up_in_its_parent(self):
        started = time.monotonic()
        # The producer: this process, with the worker's app (its own client
        # is never called here). Every task is queued before the worker
        # starts: kombu's filesystem transport may read a message file
        # still being written (JSONDecodeError in the worker).
        os.environ.update({k: v for k, v in self.environ.items() if k.startswith("AICONFIG_")})
        os.environ["AICONFIG_WARM_UP"] = "0"
        from tests import celery_worker

        results = [celery_worker.temperature.delay("acme") for _ in range(TASKS)]
        self.assertEqual(self.env.server.handled(GET_MODEL_CONFIG), 0)

        # The worker's parent imports the module, whose warm-up call runs
        # there, before the prefork pool forks its two children.
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.celery_worker", "worker", "--pool", "prefork",
             "--concurrency", "2", "--loglevel", "WARNING", "--without-heartbeat", "--without-gossip",
             "--without-mingle"],
            env=self.environ, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

        answers = []
        for r in results:
            left = DEADLINE - (time.monotonic() - started)
            if left <= 0 or self.worker.poll() is not None:
                self.fail(f"{len(answers)}/{TASKS} tasks done in {DEADLINE} s; worker log:\n{self.worker_log()}")
            try:
                answers.append(r.get(timeout=left, interval=0.02))
            except Exception as e:  # noqa: BLE001
                self.fail(f"task {len(answers)} failed: {e!r}; worker log:\n{self.worker_log()}")
        elapsed = time.monotonic() - started

        self.assertEqual(len(answers), TASKS)
        wrong = [a for a in answers if a[1:] != [0.5, True]]
        self.assertEqual(wrong, [], "wrong answers")
        self.assertGreaterEqual(len({a[0] for a in answers}), 2, "the tasks ran in both children")
        # The warm-up happened in the parent, which must then have forked.
        self.assertNotIn(self.worker.pid, {a[0] for a in answers})

        # A warm shutdown ends: no child hung on an inherited lock.
        os.kill(self.worker.pid, signal.SIGTERM)
        try:
            self.worker.wait(20)
        except subprocess.TimeoutExpired:
            self.fail(f"the worker did not stop within 20 s of SIGTERM; log:\n{self.worker_log()}")
        log = self.worker_log()
        for bad in ("handshaker shutdown", "Traceback", "SIGSEGV", "SIGABRT", "exited with"):
            self.assertNotIn(bad, log)
        print(f"\n  {TASKS} tasks in {elapsed:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
