"""The client's writes (SPEC section 17): a fresh idempotency key per
write, the same key on every retry of it."""

import concurrent.futures
import threading
import unittest

import grpc

import aiconfig
from aiconfig.client import IDEMPOTENCY_KEY
from aiconfig.v1 import account_pb2, common_pb2
from tests.harness import free_port
from tests.test_client import Env, account


class _FlakyAccounts:
    """A gRPC server with AccountService.UpsertAccount only, which answers
    UNAVAILABLE to the first `fail` attempts of each request, as a server
    whose answer was lost would look to the client; it records each
    attempt's idempotency key."""

    def __init__(self, fail):
        self.fail = fail
        self.attempts = []  # (idempotency key or None, request)
        self.lock = threading.Lock()
        self.server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.unary_unary_rpc_method_handler(
            self.upsert, request_deserializer=account_pb2.UpsertAccountRequest.FromString,
            response_serializer=account_pb2.Account.SerializeToString)
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("aiconfig.v1.AccountService", {"UpsertAccount": handler}),))
        self.addr = f"127.0.0.1:{free_port()}"
        self.server.add_insecure_port(self.addr)
        self.server.start()

    def upsert(self, req, context):
        md = dict(context.invocation_metadata())
        with self.lock:
            self.attempts.append((md.get(IDEMPOTENCY_KEY), req))
            n = sum(1 for _, r in self.attempts if r == req)
        if n <= self.fail:
            context.abort(grpc.StatusCode.UNAVAILABLE, "connection lost")
        return account_pb2.Account(id=req.account.id, name=req.account.name, plan=req.account.plan, revision=41 + n)

    def close(self):
        self.server.stop(None)


class IdempotencyKeyTest(unittest.TestCase):
    def flaky(self, fail):
        s = _FlakyAccounts(fail)
        self.addCleanup(s.close)
        c = aiconfig.Client(s.addr, insecure=True, cache_size=0, timeout=5)
        self.addCleanup(c.close)
        return s, c

    def test_a_retry_sends_the_same_key(self):
        s, c = self.flaky(fail=2)
        a = c.upsert_account("acme", "Acme", "PLAN_GROWTH")
        self.assertEqual(a, aiconfig.Account(id="acme", name="Acme", plan="PLAN_GROWTH", revision=44,
                                             default_author_profile_id="", default_content_strategy_id=""))
        keys = [k for k, _ in s.attempts]
        self.assertEqual(len(keys), 3)
        self.assertEqual(len(set(keys)), 1, keys)
        self.assertRegex(keys[0], r"^[0-9a-f]{32}$")
        self.assertEqual(s.attempts[0][1].account.plan, common_pb2.PLAN_GROWTH)

        # The next write has a key of its own.
        c.upsert_account("beta", "Beta", common_pb2.PLAN_FREE)
        self.assertEqual(len(s.attempts), 6)
        self.assertEqual(len({k for k, _ in s.attempts[3:]}), 1)
        self.assertNotEqual(s.attempts[3][0], keys[0])

    def test_the_retries_end(self):
        s, c = self.flaky(fail=10)
        with self.assertRaises(aiconfig.UnavailableError):
            c.upsert_account("acme", "Acme", "PLAN_STARTER")
        self.assertEqual(len(s.attempts), 3)  # the client's three attempts
        self.assertEqual(len({k for k, _ in s.attempts}), 1)

    def test_a_key_of_the_callers(self):
        s, c = self.flaky(fail=1)
        c.upsert_account("acme", "Acme", "PLAN_STARTER", idempotency_key="billing-event-1234")
        self.assertEqual([k for k, _ in s.attempts], ["billing-event-1234"] * 2)
        for bad in ("", "x" * 129, "caf\u00e9", "tab\there"):
            with self.assertRaises(aiconfig.InvalidArgumentError) as e:
                c.upsert_account("acme", "Acme", "PLAN_STARTER", idempotency_key=bad)
            self.assertEqual(e.exception.field_violations[0].field, IDEMPOTENCY_KEY)
        self.assertEqual(len(s.attempts), 2)  # refused here, never sent

    def test_a_plan_outside_the_four_is_refused_here(self):
        s, c = self.flaky(fail=0)
        for bad in ("enterprise", "PLAN_UNSPECIFIED", 0, -1, "", True, None):
            with self.assertRaises(aiconfig.InvalidArgumentError, msg=repr(bad)) as e:
                c.upsert_account("acme", "Acme", bad)
            self.assertEqual(e.exception.field_violations[0].field, "account.plan")
        self.assertEqual(s.attempts, [])


class UpsertAccountTest(unittest.TestCase):
    """Against a real aiconfigd, with a SERVICE token."""

    @classmethod
    def setUpClass(cls):
        cls.env = Env()

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_upsert_then_downgrade(self):
        c = self.env.in_step()
        acme = account("acme")
        a = c.upsert_account(acme, "Acme Ltd", "PLAN_STARTER")
        self.assertEqual((a.id, a.name, a.plan), (acme, "Acme Ltd", "PLAN_STARTER"))
        self.assertGreater(a.revision, 0)
        self.env.admin.set_temperature(acme, 0.2)
        self.assertEqual(c.model_config(acme, "generate_content").temperature, 0.2)

        for _ in range(20):  # each write returns after the feed brought it: the next read sees it
            b = c.upsert_account(acme, "Acme Ltd", "PLAN_FREE")
            self.assertEqual(b.plan, "PLAN_FREE")
            self.assertGreater(b.revision, a.revision)
            self.assertGreaterEqual(c.stats()["revision"], b.revision)
            cfg = c.model_config(acme, "generate_content")
            self.assertEqual((cfg.plan, cfg.temperature, cfg.overrides_suppressed), ("PLAN_FREE", 0.7, True))
            a = c.upsert_account(acme, "Acme Ltd", "PLAN_STARTER")
            self.assertEqual(c.model_config(acme, "generate_content").temperature, 0.2)

    def test_an_account_token_may_not(self):
        acme = account("acme")
        self.env.admin.account(acme)
        c = self.env.client(token=self.env.db.token("account", acme))
        with self.assertRaises(aiconfig.PermissionDeniedError) as e:
            c.upsert_account(acme, "Acme", "PLAN_SCALE")
        self.assertEqual(e.exception.reason, aiconfig.Reason.ROLE_NOT_ALLOWED)


if __name__ == "__main__":
    unittest.main()
