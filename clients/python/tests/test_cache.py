"""The cache's rules without a server (the twin of client/cache_test.go)."""

import unittest

from aiconfig import _cache
from aiconfig.v1 import change_pb2

ACME_MODEL = ("acme", _cache.MODEL_CONFIG, "generate_content")
ACME_PROMPT = ("acme", _cache.EFFECTIVE_PROMPT, "clustering")
BETA_MODEL = ("beta", _cache.MODEL_CONFIG, "generate_content")
ACME_CONTEXT = ("acme", _cache.GENERATION_CONTEXT, ("generate_content", "acme-voice", ""))


def progress(rev):
    return change_pb2.Change(revision=rev, progress=True)


def change(rev, kind, account=""):
    return change_pb2.Change(revision=rev, kind=kind, account_id=account)


def in_step(size=10):
    c = _cache.Cache(size)
    c.apply(progress(10))
    return c


def store(c, key, value):
    c.finish(c.begin(key[0]), key, value)


class CacheTest(unittest.TestCase):
    def test_a_load_racing_an_invalidation_is_not_stored(self):
        cases = {
            "its account changed": lambda c: c.apply(change(11, change_pb2.CHANGE_KIND_ACCOUNT, "acme")),
            "a global change": lambda c: c.apply(change(11, change_pb2.CHANGE_KIND_GLOBAL)),
            "a catalog change": lambda c: c.apply(change(11, change_pb2.CHANGE_KIND_CATALOG)),
            "several accounts changed": lambda c: c.apply(change(11, change_pb2.CHANGE_KIND_ACCOUNT)),
            "a kind newer than this client": lambda c: c.apply(change(11, 99)),
            "the feed broke and came back": lambda c: (c.leave(), c.apply(progress(11))),
            "the feed restarted": lambda c: (c.leave(), c.restart(20), c.apply(progress(20))),
        }
        for name, meanwhile in cases.items():
            with self.subTest(name):
                c = in_step()
                t = c.begin("acme")
                meanwhile(c)
                c.finish(t, ACME_MODEL, "old answer")
                self.assertIsNone(c.get(ACME_MODEL), "an answer loaded before the change was stored")
                store(c, ACME_MODEL, "new answer")
                self.assertEqual(c.get(ACME_MODEL), "new answer", "the next load was not kept")

    def test_an_invalidation_drops_exactly_its_account(self):
        c = in_step()
        for k in (ACME_MODEL, ACME_PROMPT, ACME_CONTEXT, BETA_MODEL):
            store(c, k, k[2])
        self.assertIsNone(c.get(("acme", _cache.GENERATION_CONTEXT, ("generate_content", "", ""))),
                          "a context is keyed by its profile and strategy too")
        t = c.begin("beta")
        c.apply(change(11, change_pb2.CHANGE_KIND_ACCOUNT, "acme"))
        c.apply(change(12, change_pb2.CHANGE_KIND_TOKEN))
        beta_prompt = ("beta", _cache.EFFECTIVE_PROMPT, "ideas")
        c.finish(t, beta_prompt, "x")
        self.assertIsNone(c.get(ACME_MODEL))
        self.assertIsNone(c.get(ACME_PROMPT))
        self.assertIsNone(c.get(ACME_CONTEXT))
        self.assertIsNotNone(c.get(BETA_MODEL))
        self.assertIsNotNone(c.get(beta_prompt))
        self.assertEqual(c.position(), 12)

    def test_no_account_no_entry(self):
        # An ACCOUNT token's own answers name no account: no change event
        # would drop them.
        c = in_step()
        key = ("", _cache.GENERATION_CONTEXT, ("generate_content", "", ""))
        store(c, key, "x")
        self.assertIsNone(c.get(key))
        self.assertEqual(c.stats()["entries"], 0)

    def test_nothing_is_fresh_out_of_step(self):
        c = _cache.Cache(10)
        self.assertIsNone(c.begin("acme"), "a load before the first progress event may be stored")
        c.apply(change(5, change_pb2.CHANGE_KIND_ACCOUNT, "beta"))
        self.assertIsNone(c.begin("acme"), "a load during the replay may be stored")
        c.apply(progress(5))
        store(c, ACME_MODEL, "a")
        self.assertEqual(c.get(ACME_MODEL), "a")
        c.leave()
        self.assertIsNone(c.get(ACME_MODEL), "served as fresh with the feed down")
        self.assertEqual(c.fallback(ACME_MODEL, 60), "a")
        self.assertIsNone(c.fallback(ACME_MODEL, 0), "a fallback past max_stale")
        c.apply(progress(6))
        self.assertEqual(c.get(ACME_MODEL), "a", "resuming in step did not make the entry fresh again")

    def test_bounded(self):
        c = in_step(3)
        for n in "abcde":
            store(c, (n, _cache.MODEL_CONFIG, "f"), n)
            if n == "c":
                c.get(("a", _cache.MODEL_CONFIG, "f"))  # a is used again: b and c go before it
        self.assertEqual(c.stats()["entries"], 3)
        for n in "ade":
            self.assertIsNotNone(c.get((n, _cache.MODEL_CONFIG, "f")), f"{n} was evicted")
        self.assertEqual(len(c._by_account), 3)
        self.assertEqual(len(c._loads), 0)


if __name__ == "__main__":
    unittest.main()
