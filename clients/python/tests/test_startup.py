"""A worker's first minutes: the client on its TLS default against a
plaintext server (issue 21, defect 9), and a read made right after the
client was built, then an outage (defect 8)."""

import pickle
import time
import unittest

import grpc

import aiconfig
from tests.harness import API_KEY, wait_for
from tests.test_client import GET_MODEL_CONFIG, Env


class StartupTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.env.admin.account("acme")

    def tearDown(self):
        self.env.close()

    def test_tls_against_a_plaintext_server_is_a_configuration_error(self):
        c = aiconfig.Client(self.env.server.addr, token=self.env.service_token)  # TLS, the default
        self.env.clients.append(c)
        started = time.monotonic()
        with self.assertRaises(aiconfig.ConfigurationError) as cm:
            c.model_config("acme", "generate_content")
        e = cm.exception
        # Not retryable: Celery's autoretry_for=(UnavailableError,) must not loop on it.
        self.assertNotIsInstance(e, aiconfig.UnavailableError)
        self.assertIsInstance(e, aiconfig.AiconfigError)
        self.assertEqual(e.code, grpc.StatusCode.FAILED_PRECONDITION)
        self.assertIn("insecure=True", str(e))
        self.assertIn("plaintext", str(e))
        self.assertLess(time.monotonic() - started, 5)
        # Picklable (Celery sends a task's error to another process).
        back = pickle.loads(pickle.dumps(e))
        self.assertIs(type(back), aiconfig.ConfigurationError)
        self.assertEqual(str(back), str(e))

        # A server that is down stays UNAVAILABLE (retryable), TLS or not.
        self.env.server.kill()
        down = aiconfig.Client(self.env.server.addr, token=self.env.service_token, timeout=1)
        self.env.clients.append(down)
        with self.assertRaises(aiconfig.UnavailableError):
            down.model_config("acme", "generate_content")

    def test_a_read_right_after_construction_outlives_the_server(self):
        env = self.env
        env.admin.set_temperature("acme", 0.4)
        c = env.client(max_stale=60)
        # The very first read of the process, before anything waited for the feed.
        self.assertEqual(c.model_config("acme", "generate_content").temperature, 0.4)
        self.assertEqual(env.server.handled(GET_MODEL_CONFIG), 1)
        self.assertEqual(c.stats()["entries"], 1, "the first answer was not kept")

        env.server.kill()
        wait_for("the client to see the feed down", lambda: not c.stats()["in_step"])
        cfg = c.model_config("acme", "generate_content")
        self.assertEqual((cfg.temperature, cfg.api_key), (0.4, API_KEY), "the cached answer stands in")
        self.assertGreater(c.stats()["stale_served"], 0)

    def test_the_first_answer_kept_is_exact(self):
        # Kept only because the feed was in step when the load began: a
        # write after it drops it, as any other.
        env = self.env
        env.admin.set_temperature("acme", 0.4)
        c = env.client()
        self.assertEqual(c.model_config("acme", "generate_content").temperature, 0.4)
        rev = env.admin.set_temperature("acme", 0.9)
        wait_for("the client to apply the write", lambda: c.stats()["revision"] >= rev)
        self.assertEqual(c.model_config("acme", "generate_content").temperature, 0.9)


if __name__ == "__main__":
    unittest.main()
