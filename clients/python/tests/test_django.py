"""aiconfig.django, the drop-in for the platform's call sites (SPEC 18),
under real Django: the committed legacy project (testdata/django) is
migrated into a temporary SQLite database, seeded, dumped with manage.py
dumpdata, and imported with aiconfigd import-django; the drop-in's answers
are then held to the legacy code's (system.legacy) over the same rows."""

import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
from collections import Counter
from pathlib import Path

import aiconfig
from tests.harness import BIN, ROOT, Database, Server, wait_for
from tests.test_client import Env, account

DJANGO_PROJECT = ROOT / "testdata" / "django"
MODELS = ["system.GlobalIntegrationSettings", "system.IntegrationSettings", "system.GlobalAIPrompt",
          "system.AIPrompt", "accounts.Account", "billing.Plan"]
MAPPING = "plans: {enterprise: PLAN_SCALE}\n"
# Keys in the seeded legacy rows: the platform's, and one an account put in
# its override (never imported).
ACCOUNT_OWN_KEY = "sk-account-own-key-DO-NOT-IMPORT-7777"


def _manage(db_path, *args, **kw):
    return subprocess.run([sys.executable, str(DJANGO_PROJECT / "manage.py"), *args], cwd=str(DJANGO_PROJECT),
                          env=dict(os.environ, AICONFIG_LEGACY_DB=db_path, DJANGO_SETTINGS_MODULE="legacy.settings"),
                          check=True, capture_output=True, text=True, **kw)


_django_db = None


def _django(db_path):
    """Sets up Django on the legacy project, once per process (Django's
    settings are global); the database is the first caller's."""
    global _django_db
    if _django_db is None:
        sys.path.insert(0, str(DJANGO_PROJECT))
        os.environ["DJANGO_SETTINGS_MODULE"] = "legacy.settings"
        os.environ["AICONFIG_LEGACY_DB"] = db_path
        import django
        django.setup()
        _django_db = db_path
    return _django_db


def _same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9)
    return a == b


class DropInTest(unittest.TestCase):
    """The legacy project's rows in Django and, imported, in aiconfig."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="aiconfig-django-")
        db_path = str(Path(cls.tmp.name) / "legacy.sqlite3")
        _manage(db_path, "migrate", "--run-syncdb")
        _manage(db_path, "seed_legacy")
        dump = Path(cls.tmp.name) / "dump.json"
        dump.write_text(_manage(db_path, "dumpdata", *MODELS).stdout)
        mapping = Path(cls.tmp.name) / "mapping.yaml"
        mapping.write_text(MAPPING)

        probe = subprocess.run([str(BIN), "import-django", "--help"], capture_output=True, text=True)
        if "unexpected argument import-django" in probe.stderr:  # before the import-django branch is merged
            raise unittest.SkipTest(f"{BIN} has no import-django command")
        cls.db = Database()
        imported = subprocess.run([str(BIN), "import-django", "--apply", "--allow-unknown", "--mapping",
                                   str(mapping), str(dump)], env=cls.db.env, capture_output=True, text=True)
        cls.import_output = imported.stdout + imported.stderr
        if imported.returncode != 0:
            raise RuntimeError(f"aiconfigd import-django failed: {cls.import_output[-3000:]}")
        cls.server = Server(cls.db)
        cls.service_token = cls.db.token("service")

        if _django(db_path) != db_path:
            raise RuntimeError("Django is already set up on another database in this process")
        from django.test import override_settings
        import aiconfig.django as dj
        cls.dj = dj
        cls.settings = {"TARGET": cls.server.addr, "TOKEN": cls.service_token, "INSECURE": True}
        cls.override = override_settings(AICONFIG=cls.settings)
        cls.override.enable()

    @classmethod
    def tearDownClass(cls):
        cls.override.disable()  # setting_changed: the shared client closes
        cls.server.close()
        cls.db.drop()
        cls.tmp.cleanup()

    def setUp(self):
        from accounts.models import Account
        from billing.models import Plan
        from system import legacy
        from system.models import AIPrompt, GlobalAIPrompt, GlobalIntegrationSettings, IntegrationSettings
        self.Account, self.Plan, self.legacy = Account, Plan, legacy
        self.AIPrompt, self.GlobalAIPrompt = AIPrompt, GlobalAIPrompt
        self.GlobalIntegrationSettings, self.IntegrationSettings = GlobalIntegrationSettings, IntegrationSettings

    def acct(self, slug):
        return self.Account.objects.select_related("plan").get(slug=slug)

    def settings_with(self, **kw):
        from django.test import override_settings
        o = override_settings(AICONFIG=dict(self.settings, **kw))
        o.enable()
        self.addCleanup(o.disable)

    # The reads, account by account.

    def test_model_config_is_the_legacy_answer_but_for_the_explained_differences(self):
        gs = self.GlobalIntegrationSettings.get_instance()
        globals_ = {"model": gs.openai_model, "temperature": gs.openai_temperature,
                    "max_tokens": gs.openai_max_tokens, "image_size": gs.dalle_size,
                    "image_quality": gs.dalle_quality, "image_style": gs.dalle_style}
        accounts = list(self.Account.objects.select_related("plan").order_by("pk"))
        self.assertGreaterEqual(len(accounts), 40)
        diffs = {}
        for acc in accounts:
            for fn in self.legacy.FUNCTIONS:
                want = self.legacy.get_model_config(function_name=fn, account=acc)
                got = self.dj.get_model_config(function_name=fn, account=acc)
                self.assertEqual(set(got), set(want), (acc.slug, fn))
                for f in want:
                    if not _same(want[f], got[f]):
                        diffs[(acc.slug, fn, f)] = (want[f], got[f])

        # What the note's rules explain, from the legacy rows: a Free
        # account's override (the legacy code applies it; aiconfig keeps it
        # suppressed), and the two the fixture holds on purpose: a model
        # the catalog no longer has, and max_tokens above the model's limit.
        explained = {}
        for row in self.IntegrationSettings.objects.select_related("account__plan"):
            if row.account.plan.slug != "free":
                continue
            image = row.integration_type == gs.default_image_provider
            if not image and row.integration_type != gs.default_text_provider:
                continue
            for f, v in row.config.items():
                if f in globals_ and v is not None and not _same(v, globals_[f]):
                    for fn in self.legacy.IMAGE_FUNCTIONS if image else self.legacy.TEXT_FUNCTIONS:
                        explained[(row.account.slug, fn, f)] = "free_override_suppressed"
        for fn in self.legacy.TEXT_FUNCTIONS:
            explained[("starter-too-many-tokens", fn, "max_tokens")] = "above_catalog_limit"
            explained[("growth-retired-model", fn, "model")] = "model_not_in_catalog"
        self.assertIn(("free-with-override", "generate_content", "temperature"), explained)

        unexplained = {k: v for k, v in diffs.items() if k not in explained}
        self.assertEqual(unexplained, {}, "differences no rule explains (legacy, aiconfig)")
        self.assertEqual(sorted(set(explained) - set(diffs)), [], "explained differences that did not happen")
        by_reason = Counter(explained.values())
        self.assertEqual(set(by_reason), {"free_override_suppressed", "above_catalog_limit", "model_not_in_catalog"})
        # And aiconfig's side of each is what the rule says.
        for (slug, fn, f), reason in explained.items():
            legacy_value, mine = diffs[(slug, fn, f)]
            if reason in ("free_override_suppressed", "model_not_in_catalog"):
                self.assertTrue(_same(mine, globals_[f]), (slug, fn, f, mine))
            else:
                self.assertTrue(0 < mine < legacy_value, (slug, fn, f, mine))

        c = self.dj.client()
        free = c.model_config(self.dj.account_id(self.acct("free-with-override")), "generate_content")
        self.assertTrue(free.overrides_suppressed)
        self.assertEqual(free.plan, "PLAN_FREE")
        # "enterprise" was mapped to Scale by the import's mapping.
        self.assertEqual(c.model_config(self.dj.account_id(self.acct("enterprise-legacy")), "generate_content").plan,
                         "PLAN_SCALE")
        # The key an account put in its override was never imported: the
        # worker gets the platform's, as the legacy code gave it.
        keyed = self.dj.get_model_config("generate_content", self.acct("starter-own-key"))
        self.assertEqual(keyed["api_key"], gs.openai_api_key)
        self.assertEqual(self.dj.get_model_config("generate_images", self.acct("starter-own-key"))["api_key"],
                         gs.dalle_api_key)
        for key in (ACCOUNT_OWN_KEY, gs.openai_api_key, gs.dalle_api_key, gs.anthropic_api_key):
            self.assertNotIn(key, self.import_output)
            self.assertNotIn(key, repr(keyed))

    def test_effective_prompt_is_the_legacy_answer_but_for_the_explained_differences(self):
        types = list(self.GlobalAIPrompt.objects.values_list("prompt_type", flat=True))
        self.assertEqual(len(types), 6)
        diffs = {}
        for acc in self.Account.objects.select_related("plan").order_by("pk"):
            for pt in types:
                want = self.AIPrompt.get_effective_prompt(account=acc, prompt_type=pt)
                got = self.dj.get_effective_prompt(account=acc, prompt_type=pt)
                self.assertIsInstance(got, str)
                if want != got:
                    diffs[(acc.slug, pt)] = (want, got)

        # A Free account's customization (stored, suppressed), and a
        # non-customized row whose default_prompt is stale, which the legacy
        # code serves and aiconfig replaces by the current global text.
        current = dict(self.GlobalAIPrompt.objects.values_list("prompt_type", "prompt_value"))
        explained = {}
        for row in self.AIPrompt.objects.select_related("account__plan"):
            key = (row.account.slug, row.prompt_type)
            if row.is_customized and row.account.plan.slug == "free" and row.prompt_value != current[row.prompt_type]:
                explained[key] = "free_customization_suppressed"
            elif not row.is_customized and row.default_prompt != current[row.prompt_type]:
                explained[key] = "stale_default_prompt"
        self.assertEqual(explained[("free-with-override", "ideas")], "free_customization_suppressed")
        self.assertEqual(explained[("starter-not-customized", "content_generation")], "stale_default_prompt")

        self.assertEqual({k: v for k, v in diffs.items() if k not in explained}, {},
                         "differences no rule explains (legacy, aiconfig)")
        self.assertEqual(sorted(set(explained) - set(diffs)), [])
        for (slug, pt), (_, mine) in diffs.items():
            self.assertEqual(mine, current[pt], (slug, pt))
        # The stale customized default is no difference (the customization
        # applies on both sides) but aiconfig says its default changed.
        stale = self.dj.client().effective_prompt(self.dj.account_id(self.acct("growth-stale-custom")),
                                                  "content_generation")
        self.assertEqual((stale.source, stale.is_customized, stale.default_changed), ("SOURCE_ACCOUNT", True, True))

    def test_account_ids(self):
        acc = self.acct("scale-plain")
        self.assertEqual(self.dj.account_id(acc), str(acc.pk))
        want = self.dj.get_model_config("generate_content", acc)
        self.assertEqual(self.dj.get_model_config("generate_content", acc.pk), want)
        self.assertEqual(self.dj.get_model_config("generate_content", str(acc.pk)), want)
        self.settings_with(ACCOUNT_ID=lambda a: a.pk)
        self.assertEqual(self.dj.get_model_config("generate_content", acc), want)
        # Another id than the import's: aiconfig has no such account.
        self.settings_with(ACCOUNT_ID="slug")
        with self.assertRaises(aiconfig.NotFoundError) as e:
            self.dj.get_model_config("generate_content", acc)
        self.assertEqual(e.exception.reason, aiconfig.Reason.ACCOUNT_NOT_FOUND)
        with self.assertRaises(aiconfig.InvalidArgumentError):
            self.dj.get_model_config("generate_content", self.Account(name="unsaved"))

    # Shadow mode.

    def test_shadow_reports_a_difference(self):
        growth = self.acct("growth-images")
        row = self.IntegrationSettings.objects.get(account=growth, integration_type="openai")
        before = dict(row.config)
        get_model_config = self.dj.shadow(self.legacy.get_model_config)
        totals = self.dj.shadow_stats()["model_config"]

        self.assertEqual(get_model_config("generate_content", growth)["model"], "gpt-4.1")
        self.assertEqual(get_model_config.stats()["matched"], 1)

        # The legacy row moves on after the import: the shadow sees it.
        row.config = dict(before, temperature=0.55)
        row.save()
        self.addCleanup(lambda: self.IntegrationSettings.objects.filter(pk=row.pk).update(config=before))
        with self.assertLogs("aiconfig.django", logging.WARNING) as logs:
            got = get_model_config(function_name="generate_content", account=growth)
        self.assertEqual(got, self.legacy.get_model_config("generate_content", growth))  # the legacy answer
        self.assertEqual(got["temperature"], 0.55)
        self.assertEqual(len(logs.output), 1, logs.output)
        self.assertIn("temperature differs: legacy 0.55, aiconfig 0.3", logs.output[0])
        self.assertIn(f"account={str(growth.pk)!r}", logs.output[0])
        stats = get_model_config.stats()
        self.assertEqual((stats["calls"], stats["sampled"], stats["matched"], stats["different"], stats["errors"]),
                         (2, 2, 1, 1, 0))
        self.assertEqual(stats["fields"], {"temperature": 1})
        self.assertEqual(self.dj.shadow_stats()["model_config"]["fields"].get("temperature", 0),
                         totals["fields"].get("temperature", 0) + 1)

        # A key that differs is counted and named, never printed.
        gs = self.GlobalIntegrationSettings.get_instance()
        old_key, new_key = gs.openai_api_key, "sk-rotated-only-in-legacy-0000SECRET"
        gs.openai_api_key = new_key
        gs.save()
        self.addCleanup(lambda: self.GlobalIntegrationSettings.objects.filter(pk=1).update(openai_api_key=old_key))
        with self.assertLogs("aiconfig.django", logging.WARNING) as logs:
            self.assertEqual(get_model_config("generate_ideas", growth)["api_key"], new_key)
        text = "\n".join(logs.output)
        self.assertIn("api_key differs", text)
        self.assertNotIn(new_key, text)
        self.assertNotIn(old_key, text)
        self.assertEqual(get_model_config.stats()["fields"], {"temperature": 2, "api_key": 1})

    def test_shadow_of_prompts(self):
        scale = self.acct("scale-anthropic")
        get_effective_prompt = self.dj.shadow(self.AIPrompt.get_effective_prompt)
        custom = get_effective_prompt(account=scale, prompt_type="content_generation")
        self.assertIn("house voice", custom)
        self.assertEqual(get_effective_prompt.stats()["matched"], 1)
        row = self.AIPrompt.objects.get(account=scale, prompt_type="content_generation")
        self.AIPrompt.objects.filter(pk=row.pk).update(prompt_value=row.prompt_value + " Edited in Django.")
        self.addCleanup(lambda: self.AIPrompt.objects.filter(pk=row.pk).update(prompt_value=row.prompt_value))
        with self.assertLogs("aiconfig.django", logging.WARNING) as logs:
            self.assertTrue(get_effective_prompt(scale, "content_generation").endswith("Edited in Django."))
        self.assertIn("text differs", logs.output[0])
        self.assertEqual(get_effective_prompt.stats()["fields"], {"text": 1})

    def test_shadow_samples(self):
        acc = self.acct("scale-plain")
        never = self.dj.shadow(self.legacy.get_model_config, sample=0)
        for _ in range(50):
            never("generate_content", acc)
        self.assertEqual((never.stats()["calls"], never.stats()["sampled"]), (50, 0))
        half = self.dj.shadow(sample=0.5)(self.legacy.get_model_config)
        for _ in range(400):
            half("generate_content", acc)
        s = half.stats()
        self.assertEqual(s["calls"], 400)
        self.assertTrue(100 < s["sampled"] < 300, s)  # binomial(400, 0.5): outside is ~1e-23
        self.assertEqual(s["matched"], s["sampled"])
        for bad in (-0.1, 1.5, float("nan"), "1"):
            with self.assertRaises(ValueError):
                self.dj.shadow(self.legacy.get_model_config, sample=bad)

    def test_shadow_survives_aiconfig_down(self):
        acc = self.acct("growth-images")
        self.settings_with(TARGET="127.0.0.1:1", OPTIONS={"timeout": 0.5})
        get_model_config = self.dj.shadow(self.legacy.get_model_config)
        with self.assertLogs("aiconfig.django", logging.WARNING) as logs:
            for _ in range(3):
                self.assertEqual(get_model_config("generate_content", acc),
                                 self.legacy.get_model_config("generate_content", acc))
        s = get_model_config.stats()
        self.assertEqual((s["calls"], s["errors"], s["different"], s["error_reasons"]), (3, 3, 0, {"UNAVAILABLE": 3}))
        self.assertEqual(len(logs.output), 1, logs.output)  # once, not per call
        self.assertIn("the legacy answer stands", logs.output[0])

    # The plan.

    def test_sync_account_of_a_downgrade(self):
        from django.db.models.signals import post_save
        acc = self.acct("growth-images")
        growth, free = self.Plan.objects.get(slug="growth"), self.Plan.objects.get(slug="free")
        self.assertEqual(self.dj.get_model_config("generate_content", acc)["model"], "gpt-4.1")
        self.assertEqual(self.dj.get_model_config("generate_images", acc)["image_quality"], "hd")

        def receiver(sender, instance, **kw):
            self.dj.sync_account(instance)

        post_save.connect(receiver, sender=self.Account, weak=False, dispatch_uid="test-sync")
        self.addCleanup(post_save.disconnect, sender=self.Account, dispatch_uid="test-sync")

        def restore():
            acc.plan = growth
            acc.save()
        self.addCleanup(restore)

        acc.plan = free
        acc.save()
        gs = self.GlobalIntegrationSettings.get_instance()
        # sync_account returned once this process's cache had the change:
        # the very next read ignores every override.
        self.assertEqual(self.dj.get_model_config("generate_content", acc),
                         {"api_key": gs.openai_api_key, "model": gs.openai_model,
                          "temperature": gs.openai_temperature, "max_tokens": gs.openai_max_tokens})
        self.assertEqual(self.dj.get_model_config("generate_images", acc)["image_quality"], gs.dalle_quality)
        cfg = self.dj.client().model_config(str(acc.pk), "generate_content")
        self.assertEqual((cfg.plan, cfg.overrides_suppressed), ("PLAN_FREE", True))

        # The upgrade brings them back (they were kept).
        restore()
        self.assertEqual(self.dj.get_model_config("generate_content", acc)["model"], "gpt-4.1")
        # A write by another process (the console, another worker) reaches
        # this cache through the change feed alone.
        other = aiconfig.Client(self.server.addr, token=self.service_token, insecure=True, cache_size=0)
        self.addCleanup(other.close)
        other.upsert_account(str(acc.pk), acc.name, "PLAN_FREE")
        wait_for("another process's downgrade to reach the drop-in's cache",
                 lambda: self.dj.get_model_config("generate_content", acc)["model"] == gs.openai_model)
        self.dj.sync_account(acc)
        self.assertEqual(self.dj.get_model_config("generate_content", acc)["model"], "gpt-4.1")

    def test_sync_account_of_a_plan_aiconfig_lacks(self):
        acc = self.acct("enterprise-legacy")
        with self.assertRaises(self.dj.UnknownPlanError) as e:
            self.dj.sync_account(acc)
        self.assertIn("'enterprise'", str(e.exception))
        self.assertIn('AICONFIG["PLAN"]', str(e.exception))
        self.assertEqual(e.exception.metadata, {"account_id": str(acc.pk), "plan": "enterprise"})
        self.assertIsInstance(e.exception, aiconfig.InvalidArgumentError)

        self.settings_with(PLAN={"enterprise": "PLAN_SCALE"})
        a = self.dj.sync_account(acc)
        self.assertEqual((a.id, a.name, a.plan), (str(acc.pk), "Enterprise Legacy", "PLAN_SCALE"))
        self.settings_with(PLAN=lambda account: "PLAN_GROWTH" if account.status == "active" else "PLAN_FREE")
        self.assertEqual(self.dj.sync_account(acc).plan, "PLAN_GROWTH")
        self.addCleanup(lambda: self.dj.client().upsert_account(str(acc.pk), acc.name, "PLAN_SCALE"))
        with self.assertRaises(TypeError):
            self.dj.sync_account(acc.pk)

    def test_settings_are_checked(self):
        self.settings_with(TARGETS="typo:1")
        with self.assertRaises(self.dj.ConfigurationError) as e:
            self.dj.get_model_config("generate_content", 1)
        self.assertIn("TARGETS", str(e.exception))
        # One class for a setup that cannot work, the client's and the drop-in's.
        self.assertIs(self.dj.ConfigurationError, aiconfig.ConfigurationError)
        self.assertIsInstance(e.exception, aiconfig.FailedPreconditionError)


# The parts that need no Django, with Django hidden.
_WITHOUT_DJANGO = textwrap.dedent("""
    import json, logging, os, sys
    sys.modules["django"] = None  # as if Django were not installed
    import aiconfig.django as dj
    try:
        import django
        raise SystemExit("django importable")
    except ImportError:
        pass

    class Acct:  # anything with a pk
        def __init__(self, pk):
            self.pk = pk

    out = {}
    out["by_text"] = dj.get_model_config("generate_content", os.environ["ACME"])
    out["by_number"] = dj.get_model_config(function_name="generate_ideas", account=int(os.environ["NUMBERED"]))
    out["by_pk"] = dj.get_model_config("generate_content", Acct(int(os.environ["NUMBERED"])))
    out["prompt"] = dj.get_effective_prompt(os.environ["ACME"], "clustering")

    # A forked child (Celery's prefork) uses the shared client too: its
    # own channel, not the parent's.
    shared = dj.client()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            got = dj.get_model_config("generate_content", os.environ["ACME"])
            os.write(w, json.dumps([dj.client() is shared, got]).encode())
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.waitpid(pid, 0)
    out["child"] = json.loads(b"".join(chunks) or b"null")

    def get_model_config(function_name, account):  # the legacy code, elsewhere
        return {"api_key": os.environ["API_KEY"], "model": "gpt-4o", "temperature": 0.5, "max_tokens": 3000,
                "organization_token": "tok-legacy-only"}
    logging.basicConfig(level=logging.WARNING)
    shadowed = dj.shadow(get_model_config)
    out["shadow_answer"] = shadowed("generate_content", os.environ["ACME"])
    out["shadow"] = shadowed.stats()

    os.environ["AICONFIG_TARGET"] = "127.0.0.1:1"  # nothing listens
    dj.reset()
    out["down_answer"] = shadowed("generate_content", os.environ["ACME"])
    out["down"] = shadowed.stats()
    print(json.dumps(out))
""")


class WithoutDjangoTest(unittest.TestCase):
    def test_without_django(self):
        env = Env()
        self.addCleanup(env.close)
        acme, numbered = account("acme"), "4242"
        env.admin.account(acme)
        env.admin.account(numbered)
        env.admin.set_temperature(acme, 0.25)
        from tests.harness import API_KEY
        run = subprocess.run(
            [sys.executable, "-c", _WITHOUT_DJANGO], cwd=str(Path(__file__).resolve().parents[1]),
            env=dict({k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
                     AICONFIG_TARGET=env.server.addr, AICONFIG_TOKEN=env.service_token, AICONFIG_INSECURE="1",
                     ACME=acme, NUMBERED=numbered, API_KEY=API_KEY),
            capture_output=True, text=True, timeout=60)  # a hung fork fails here
        self.assertEqual(run.returncode, 0, run.stderr[-3000:])
        out = json.loads(run.stdout)
        self.assertEqual(out["by_text"], {"api_key": API_KEY, "model": "gpt-4o-mini", "temperature": 0.25,
                                          "max_tokens": 4000})
        self.assertEqual(out["by_number"], dict(out["by_text"], temperature=0.7))
        self.assertEqual(out["by_pk"]["temperature"], 0.7)
        self.assertIn("{{keywords}}", out["prompt"])
        self.assertEqual(out["child"], [True, out["by_text"]])
        self.assertEqual(out["shadow_answer"]["model"], "gpt-4o")
        self.assertEqual(out["shadow"]["fields"], {"model": 1, "temperature": 1, "max_tokens": 1,
                                                   "organization_token": 1})
        self.assertEqual(out["down_answer"], out["shadow_answer"])
        self.assertEqual((out["down"]["errors"], out["down"]["error_reasons"]), (1, {"UNAVAILABLE": 1}))
        self.assertIn("model differs: legacy 'gpt-4o', aiconfig 'gpt-4o-mini'", run.stderr)
        self.assertIn("max_tokens differs: legacy 3000, aiconfig 4000", run.stderr)
        self.assertIn("organization_token differs\n", run.stderr)  # named like a secret: no values
        self.assertNotIn("tok-legacy-only", run.stderr)
        self.assertNotIn(API_KEY, run.stderr)


if __name__ == "__main__":
    unittest.main()
