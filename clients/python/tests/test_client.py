"""The client against real aiconfigd processes (see harness.py)."""

import io
import logging
import random
import threading
import time
import unittest

import grpc

import aiconfig
from aiconfig.errors import from_rpc_error
from aiconfig.v1 import (change_pb2, change_pb2_grpc, common_pb2, config_pb2, config_pb2_grpc, prompt_pb2,
                         token_pb2, token_pb2_grpc)
from tests.harness import API_KEY, Admin, Database, Server, wait_for

GET_MODEL_CONFIG = "GetModelConfig"
GET_EFFECTIVE_PROMPT = "GetEffectivePrompt"
GET_GENERATION_CONTEXT = "GetGenerationContext"


class Env:
    """A database, a replica, an admin, and clients with a service token."""

    def __init__(self):
        self.db = Database()
        self.server = Server(self.db)
        self.admin_token = self.db.token("admin")
        self.service_token = self.db.token("service")
        self.admin = Admin(self.server, self.admin_token)
        self.admin.set_api_key()
        self.clients = []
        self.others = []

    def client(self, **kw):
        kw.setdefault("token", self.service_token)
        c = aiconfig.Client(self.server.addr, insecure=True, **kw)
        self.clients.append(c)
        return c

    def in_step(self, **kw):
        """A client whose feed is in step (its first read starts it)."""
        c = self.client(**kw)
        try:
            c.model_config("no-such-account", "generate_content")
        except aiconfig.NotFoundError:
            pass
        wait_for("the client's feed to be in step", lambda: c.stats().get("in_step"))
        return c

    def replica(self):
        s = Server(self.db)
        self.others.append(s)
        return s

    def close(self):
        for c in self.clients:
            c.close()
        self.admin.close()
        for s in [self.server] + self.others:
            s.close()
        self.db.drop()


def account(prefix="acct"):
    return f"{prefix}-{random.randrange(1 << 30)}"


class ClientTest(unittest.TestCase):
    """Tests that share one replica (each with accounts of its own)."""

    @classmethod
    def setUpClass(cls):
        cls.env = Env()

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def setUp(self):
        self.acme, self.beta = account("acme"), account("beta")
        self.env.admin.account(self.acme)
        self.env.admin.account(self.beta)

    def test_a_cached_read_makes_no_call(self):
        c, server = self.env.in_step(), self.env.server
        before = server.handled(GET_MODEL_CONFIG)
        cfg = c.model_config(self.acme, "generate_content")
        self.assertEqual(cfg.api_key, API_KEY)
        self.assertEqual(cfg.integration, "INTEGRATION_OPENAI")
        self.assertEqual(cfg.plan, "PLAN_STARTER")
        self.assertEqual(cfg.sources["model"], "SOURCE_GLOBAL")
        for _ in range(100):
            self.assertIs(c.model_config(self.acme, "generate_content"), cfg)
        self.assertEqual(server.handled(GET_MODEL_CONFIG) - before, 1)

        before = server.handled(GET_EFFECTIVE_PROMPT)
        for _ in range(50):
            p = c.effective_prompt(self.acme, "clustering")
        self.assertEqual(p.variables, ("keywords",))
        self.assertEqual(server.handled(GET_EFFECTIVE_PROMPT) - before, 1)
        self.assertEqual(c.stats()["entries"], 2)

    def test_a_write_drops_only_its_account(self):
        c, server = self.env.in_step(), self.env.server
        for a in (self.acme, self.beta):
            c.model_config(a, "generate_content")
            c.effective_prompt(a, "clustering")
        calls = lambda: server.handled(GET_MODEL_CONFIG) + server.handled(GET_EFFECTIVE_PROMPT)  # noqa: E731
        rev = self.env.admin.set_temperature(self.acme, 0.3)
        wait_for("the write to reach the client", lambda: c.stats()["revision"] >= rev)
        before = calls()
        self.assertEqual(c.model_config(self.beta, "generate_content").temperature, 0.7)
        c.effective_prompt(self.beta, "clustering")
        self.assertEqual(calls() - before, 0, "beta's answers should have stayed cached")
        self.assertEqual(c.model_config(self.acme, "generate_content").temperature, 0.3)
        self.assertEqual(c.model_config(self.acme, "generate_content").sources["temperature"], "SOURCE_ACCOUNT")
        self.assertEqual(calls() - before, 1)

        self.env.admin.customize(self.acme, "clustering", "Acme groups these: {{keywords}}")
        wait_for("the customization to reach the client",
                 lambda: c.effective_prompt(self.acme, "clustering").source == "SOURCE_ACCOUNT")
        self.assertEqual(c.render_prompt(self.acme, "clustering", {"keywords": "a, b"}), "Acme groups these: a, b")

    def test_the_generation_context_is_cached_and_exact(self):
        env, server = self.env, self.env.server
        c = env.in_step()
        calls = lambda: server.handled(GET_GENERATION_CONTEXT)  # noqa: E731
        direct = Admin(server, env.service_token)

        def server_answer(account_id, profile=""):
            return aiconfig.GenerationContext.from_pb(direct.config.GetGenerationContext(
                config_pb2.GetGenerationContextRequest(account_id=account_id, function="generate_content",
                                                       author_profile_id=profile), metadata=direct.md, timeout=5))

        try:
            before = calls()
            g = c.generation_context(self.acme, "generate_content")
            self.assertEqual(g.api_key, API_KEY)
            self.assertEqual(g.prompt.prompt_type, "content_generation")
            self.assertEqual((g.model_config.integration, g.author_profile.source), ("INTEGRATION_OPENAI", "SOURCE_GLOBAL"))
            self.assertTrue(g.content_strategy.article_types)
            for _ in range(100):
                self.assertIs(c.generation_context(self.acme, "generate_content"), g)
            # Another profile is another entry; so is another account.
            named = c.generation_context(self.acme, "generate_content", author_profile_id="friendly-guide")
            self.assertEqual(named.author_profile.id, "friendly-guide")
            c.generation_context(self.beta, "generate_content")
            self.assertEqual(calls() - before, 3)
            self.assertEqual(g, server_answer(self.acme))
            self.assertEqual(named, server_answer(self.acme, "friendly-guide"))

            # Customizing acme's profile drops acme's contexts, not beta's.
            rev = env.admin.set_tone(self.acme, g.author_profile.id, "dry, exact")
            wait_for("the write to reach the client", lambda: c.stats()["revision"] >= rev)
            before = calls()
            c.generation_context(self.beta, "generate_content")
            self.assertEqual(calls() - before, 0, "beta's context should have stayed cached")
            g = c.generation_context(self.acme, "generate_content")
            self.assertEqual((g.author_profile.tone, g.author_profile.is_customized), ("dry, exact", True))
            self.assertEqual(calls() - before, 1)
            self.assertEqual(g, server_answer(self.acme))
        finally:
            direct.close()

    def test_a_global_write_drops_everything(self):
        c = self.env.in_step()
        c.model_config(self.acme, "generate_content")
        c.model_config(self.beta, "generate_content")
        self.env.admin.prompts.UpsertGlobalPrompt(prompt_pb2.UpsertGlobalPromptRequest(prompt=prompt_pb2.GlobalPrompt(
            prompt_type="negative_prompt", text="No text, no watermarks, no blur.", description="What images must avoid")),
            metadata=self.env.admin.md)
        wait_for("the global write to drop everything", lambda: c.stats()["entries"] == 0)

    def test_errors_carry_their_reason(self):
        env = self.env
        c = env.in_step()
        cases = [
            (env.client(token=None, cache_size=0), "model_config", (self.acme, "generate_content"),
             aiconfig.UnauthenticatedError, aiconfig.Reason.TOKEN_MISSING),
            (env.client(token="aic_not-a-token", cache_size=0), "model_config", (self.acme, "generate_content"),
             aiconfig.UnauthenticatedError, aiconfig.Reason.TOKEN_INVALID),
            (env.client(token=env.db.token("account", self.acme), cache_size=0), "model_config", (self.beta, "generate_content"),
             aiconfig.PermissionDeniedError, aiconfig.Reason.ACCOUNT_SCOPE),
            (c, "model_config", ("nobody", "generate_content"), aiconfig.NotFoundError, aiconfig.Reason.ACCOUNT_NOT_FOUND),
            (c, "model_config", (self.acme, "write_poems"), aiconfig.InvalidArgumentError, aiconfig.Reason.UNKNOWN_FUNCTION),
            (c, "effective_prompt", (self.acme, "haiku"), aiconfig.NotFoundError, aiconfig.Reason.PROMPT_TYPE_NOT_FOUND),
            (c, "model_config", (self.acme, "generate_images"), aiconfig.FailedPreconditionError,
             aiconfig.Reason.API_KEY_NOT_CONFIGURED),
            (c, "render_prompt", (self.acme, "clustering", {}), aiconfig.InvalidArgumentError, aiconfig.Reason.VALIDATION_FAILED),
            (c, "generation_context", (self.acme, "generate_content", "no-such-profile"), aiconfig.NotFoundError,
             aiconfig.Reason.AUTHOR_PROFILE_NOT_FOUND),
            (c, "generation_context", (self.acme, "generate_content", "", "no-such-strategy"), aiconfig.NotFoundError,
             aiconfig.Reason.CONTENT_STRATEGY_NOT_FOUND),
            (c, "generation_context", (self.acme, "write_poems"), aiconfig.InvalidArgumentError,
             aiconfig.Reason.UNKNOWN_FUNCTION),
        ]
        for client, method, args, cls, reason in cases:
            with self.subTest(reason):
                with self.assertRaises(cls) as cm:
                    getattr(client, method)(*args)
                self.assertEqual(cm.exception.reason, reason, cm.exception)
        with self.assertRaises(aiconfig.NotFoundError) as cm:
            c.model_config("nobody", "generate_content")
        self.assertEqual(cm.exception.metadata, {"account_id": "nobody"})
        with self.assertRaises(aiconfig.InvalidArgumentError) as cm:
            c.model_config(self.acme, "write_poems")
        self.assertEqual(cm.exception.field_violations[0].field, "function")
        with self.assertRaises(aiconfig.InvalidArgumentError) as cm:
            c.render_prompt(self.acme, "clustering", {})
        self.assertIn("{{keywords}}", cm.exception.field_violations[0].description)
        entries = c.stats()["entries"]
        with self.assertRaises(aiconfig.NotFoundError) as cm:
            c.generation_context(self.acme, "generate_content", content_strategy_id="no-such-strategy")
        self.assertEqual(cm.exception.metadata.get("content_strategy_id"), "no-such-strategy")
        self.assertIn("no-such-strategy", cm.exception.message)
        self.assertEqual(c.stats()["entries"], entries, "a failure is not cached")

        # Other RPCs, on stubs of the generated modules, decoded by from_rpc_error.
        free = account("free")
        env.admin.account(free, common_pb2.PLAN_FREE)
        svc_md = (("authorization", "Bearer " + env.service_token),)
        other = [
            (lambda: config_pb2_grpc.ConfigServiceStub(env.admin.channel).GetGlobalSettings(
                config_pb2.GetGlobalSettingsRequest(), metadata=svc_md), aiconfig.Reason.ROLE_NOT_ALLOWED),
            (lambda: env.admin.prompts.CustomizePrompt(prompt_pb2.CustomizePromptRequest(
                account_id=free, prompt_type="clustering", text="{{keywords}}!"), metadata=env.admin.md),
             aiconfig.Reason.PLAN_UPGRADE_REQUIRED),
            (lambda: env.admin.config.GetIntegrationOverride(config_pb2.GetIntegrationOverrideRequest(
                account_id=self.beta, integration=common_pb2.INTEGRATION_ANTHROPIC), metadata=env.admin.md),
             aiconfig.Reason.OVERRIDE_NOT_FOUND),
            (lambda: env.admin.config.UpsertIntegrationOverride(config_pb2.UpsertIntegrationOverrideRequest(
                override=config_pb2.IntegrationOverride(account_id=self.beta, integration=common_pb2.INTEGRATION_OPENAI,
                                                        model="gpt-99")), metadata=env.admin.md),
             aiconfig.Reason.MODEL_NOT_ALLOWED),
            (lambda: env.admin.prompts.CustomizePrompt(prompt_pb2.CustomizePromptRequest(
                account_id=self.beta, prompt_type="clustering", text="{{keywords}}!", expected_revision=1),
                metadata=env.admin.md), aiconfig.Reason.REVISION_MISMATCH),
            (lambda: token_pb2_grpc.TokenServiceStub(env.admin.channel).RevokeToken(
                token_pb2.RevokeTokenRequest(id="no-such-token"), metadata=env.admin.md), aiconfig.Reason.TOKEN_NOT_FOUND),
            (lambda: env.admin.config.UpsertModel(config_pb2.UpsertModelRequest(model=config_pb2.Model(
                integration=common_pb2.INTEGRATION_OPENAI, model="gpt-4o-mini", display_name="GPT-4o mini", enabled=False,
                max_output_tokens=16384, min_temperature=0, max_temperature=2)), metadata=env.admin.md),
             aiconfig.Reason.MODEL_IN_USE),
        ]
        for call, reason in other:
            with self.subTest(reason):
                with self.assertRaises(grpc.RpcError) as cm:
                    call()
                self.assertEqual(from_rpc_error(cm.exception).reason, reason)
        with self.assertRaises(grpc.RpcError) as cm:
            other[1][0]()
        self.assertEqual(from_rpc_error(cm.exception).metadata["required_plan"], "PLAN_STARTER")

    def test_the_api_key_is_never_printed(self):
        logs, logger = io.StringIO(), logging.getLogger("aiconfig")
        handler, level = logging.StreamHandler(logs), logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        try:
            c = self.env.in_step()
            cfg = c.model_config(self.acme, "generate_content")
            self.assertEqual(cfg.api_key, API_KEY)
            job = c.generation_context(self.acme, "generate_content")
            self.assertEqual(job.api_key, API_KEY)
            logger.info("config %s %r; context %s %r", cfg, cfg, job, job)
            try:
                c.model_config(self.acme, "generate_images")
            except aiconfig.AiconfigError as e:
                err = f"{e} {e!r} {e.message} {e.metadata}"
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
        for name, text in {"str": str(cfg), "repr": repr(cfg), "context str": str(job), "context repr": repr(job),
                           "error": err, "logs": logs.getvalue(), "client": repr(c)}.items():
            self.assertNotIn(API_KEY, text, name)
            self.assertNotIn("SECRET", text, name)
            self.assertNotIn(self.env.service_token, text, name)
        self.assertIn(cfg.model, repr(cfg))
        self.assertIn(cfg.model, repr(job))

    def test_an_account_token_reads_without_caching(self):
        # ACCOUNT tokens may not watch the feed: every read asks the server.
        c = self.env.client(token=self.env.db.token("account", self.acme))
        before = self.env.server.handled(GET_MODEL_CONFIG)
        for _ in range(3):
            self.assertEqual(c.model_config(self.acme, "generate_content").api_key, "")
        self.assertEqual(self.env.server.handled(GET_MODEL_CONFIG) - before, 3)
        self.assertEqual(c.stats()["entries"], 0)
        self.assertFalse(c.stats()["in_step"])

    def test_render_matches_the_server(self):
        c = self.env.in_step()
        for variables in [{"keywords": "seo audit\nlink building <b>&</b> {{keywords}} \\1 $1"}, {"keywords": ""}, {},
                          {"keywords": "x", "keyword": "typo"}]:
            with self.subTest(variables=variables):
                try:
                    want = self.env.admin.prompts.RenderPrompt(prompt_pb2.RenderPromptRequest(
                        account_id=self.acme, prompt_type="clustering", variables=variables), metadata=self.env.admin.md).text
                except grpc.RpcError as e:
                    server = from_rpc_error(e)
                    with self.assertRaises(aiconfig.AiconfigError) as cm:
                        c.render_prompt(self.acme, "clustering", variables)
                    mine = cm.exception
                    self.assertEqual((mine.code, mine.reason, mine.message, mine.field_violations),
                                     (server.code, server.reason, server.message, server.field_violations))
                else:
                    self.assertEqual(c.render_prompt(self.acme, "clustering", variables), want)

    def test_exact_under_concurrent_writes(self):
        # Readers race writers on two replicas; once the writes stop and the
        # feed has applied them, every cached answer is the database's.
        env = self.env
        other = Admin(env.replica(), env.admin_token)
        accounts = [self.acme, self.beta, account(), account()]
        for a in accounts[2:]:
            env.admin.account(a)
        c = env.in_step()
        stop, failures, reads = threading.Event(), [], [0]

        def reader():
            while not stop.is_set():
                a = random.choice(accounts)
                try:
                    c.model_config(a, "generate_content")
                    c.effective_prompt(a, "ideas")
                    c.generation_context(a, "generate_ideas", "friendly-guide")
                    reads[0] += 1
                except Exception as e:  # noqa: BLE001
                    failures.append(e)
                    return

        threads = [threading.Thread(target=reader) for _ in range(4)]
        for t in threads:
            t.start()
        last = 0
        try:
            for i in range(60):
                admin = (env.admin, other)[i % 2]
                a = random.choice(accounts)
                if i % 5 == 3:
                    last = max(last, admin.customize(a, "ideas", f"{a}'s ideas {i}: {{{{clusters}}}}"))
                elif i % 5 == 2:
                    last = max(last, admin.set_tone(a, "friendly-guide", f"tone {i}"))
                else:
                    last = max(last, admin.set_temperature(a, (i % 20) / 10))
            wait_for("the client to apply every write", lambda: c.stats()["revision"] >= last)
        finally:
            stop.set()
            for t in threads:
                t.join()
            other.close()
        self.assertEqual(failures, [])
        direct = Admin(env.server, env.service_token)
        try:
            for a in accounts:
                want = aiconfig.ModelConfig.from_pb(direct.config.GetModelConfig(
                    config_pb2.GetModelConfigRequest(account_id=a, function="generate_content"), metadata=direct.md))
                self.assertEqual(c.model_config(a, "generate_content"), want, a)
                want_p = aiconfig.EffectivePrompt.from_pb(direct.prompts.GetEffectivePrompt(
                    prompt_pb2.GetEffectivePromptRequest(account_id=a, prompt_type="ideas"), metadata=direct.md))
                self.assertEqual(c.effective_prompt(a, "ideas"), want_p, a)
                want_c = aiconfig.GenerationContext.from_pb(direct.config.GetGenerationContext(
                    config_pb2.GetGenerationContextRequest(account_id=a, function="generate_ideas",
                                                           author_profile_id="friendly-guide"), metadata=direct.md))
                self.assertEqual(c.generation_context(a, "generate_ideas", "friendly-guide"), want_c, a)
        finally:
            direct.close()
        self.assertGreater(reads[0], 0)


class OutageTest(unittest.TestCase):
    """The server killed and started again; the database made unreachable."""

    def setUp(self):
        self.env = Env()
        self.env.admin.account("acme")
        self.env.admin.account("beta")

    def tearDown(self):
        self.env.close()

    def test_the_server_down_and_back(self):
        env = self.env
        c = env.in_step(max_stale=3)
        self.assertEqual(c.model_config("acme", "generate_content").temperature, 0.7)

        env.server.kill()
        wait_for("the client to see the feed down", lambda: not c.stats()["in_step"])
        self.assertEqual(c.model_config("acme", "generate_content").temperature, 0.7, "the cached answer stands in")
        with self.assertRaises(aiconfig.UnavailableError):
            c.model_config("beta", "generate_content")
        self.assertGreater(c.stats()["stale_served"], 0)

        # A write during the outage, through another replica.
        other = Admin(env.replica(), env.admin_token)
        rev = other.set_temperature("acme", 0.2)
        other.close()
        self.assertEqual(c.model_config("acme", "generate_content").temperature, 0.7)

        env.server.start()
        wait_for("the feed to catch up", lambda: c.stats()["in_step"] and c.stats()["revision"] >= rev)
        self.assertEqual(c.model_config("acme", "generate_content").temperature, 0.2)
        self.assertEqual(c.stats()["restarts"], 0, "the feed should resume, not start over")

        # Past max_stale, cached answers stop standing in.
        env.server.kill()
        wait_for("the client to see the feed down", lambda: not c.stats()["in_step"])
        time.sleep(3)
        with self.assertRaises(aiconfig.UnavailableError):
            c.model_config("acme", "generate_content")

    def test_the_database_down(self):
        env = self.env
        c = env.in_step()
        c.model_config("acme", "generate_content")
        env.admin.account("gamma")  # the server does not hold it
        restore = env.db.outage()
        try:
            with self.assertRaises(aiconfig.UnavailableError) as cm:
                c.model_config("gamma", "generate_content")
            self.assertEqual(cm.exception.reason, aiconfig.Reason.STORE_UNAVAILABLE)
            # The server answers what it holds from memory; so does the client.
            self.assertEqual(c.model_config("acme", "generate_content").temperature, 0.7)
        finally:
            restore()


class CompactionTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.env.admin.account("acme")
        self.env.admin.account("beta")

    def tearDown(self):
        self.env.close()

    def test_a_compacted_feed_starts_over(self):
        env = self.env
        c = env.in_step()
        c.model_config("acme", "generate_content")
        c.model_config("beta", "generate_content")
        env.server.kill()
        wait_for("the client to see the feed down", lambda: not c.stats()["in_step"])
        other = Admin(env.replica(), env.admin_token)
        rev = other.set_temperature("acme", 0.4)
        other.close()
        through = env.db.compact()
        self.assertGreaterEqual(through, rev)

        env.server.start()
        wait_for("the feed to start over", lambda: c.stats()["in_step"] and c.stats()["restarts"] == 1)
        self.assertEqual(c.stats()["entries"], 0)
        self.assertGreaterEqual(c.stats()["revision"], through)
        before = env.server.handled(GET_MODEL_CONFIG)
        self.assertEqual(c.model_config("acme", "generate_content").temperature, 0.4)
        c.model_config("beta", "generate_content")
        self.assertEqual(env.server.handled(GET_MODEL_CONFIG) - before, 2, "both answers reloaded")

        # What the client saw, as any watcher sees it.
        stream = change_pb2_grpc.ChangeServiceStub(env.admin.channel).WatchChanges(
            change_pb2.WatchChangesRequest(from_revision=1), metadata=env.admin.md, timeout=5)
        with self.assertRaises(grpc.RpcError) as cm:
            next(iter(stream))
        e = from_rpc_error(cm.exception)
        self.assertIsInstance(e, aiconfig.OutOfRangeError)
        self.assertEqual((e.reason, e.metadata["oldest_revision"]), (aiconfig.Reason.REVISION_COMPACTED, str(through)))


if __name__ == "__main__":
    unittest.main()
