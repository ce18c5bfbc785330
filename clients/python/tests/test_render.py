import json
import unittest

import aiconfig
from aiconfig.render import _go_quote, placeholders
from tests.harness import ROOT

TABLE = ROOT / "internal" / "resolve" / "testdata" / "render.json"


class RenderTableTest(unittest.TestCase):
    """The cases the server's renderer runs (internal/resolve), here."""

    def test_table(self):
        cases = json.loads(TABLE.read_text())["cases"]
        self.assertGreaterEqual(len(cases), 10)
        for case in cases:
            with self.subTest(case["name"]):
                self.assertNotEqual("want" in case, "error" in case, "a case has either want or error")
                if "want" in case:
                    self.assertEqual(aiconfig.render(case["text"], case["declared"], case["vars"]), case["want"])
                    continue
                with self.assertRaises(aiconfig.InvalidArgumentError) as cm:
                    aiconfig.render(case["text"], case["declared"], case["vars"])
                e = cm.exception
                self.assertEqual(e.reason, case["error"]["reason"])
                self.assertEqual([tuple(v) for v in e.field_violations],
                                 [(v["field"], v["description"]) for v in case["error"]["violations"]])
                self.assertEqual(e.message, "invalid request: " + "; ".join(
                    f'{v["field"]}: {v["description"]}' for v in case["error"]["violations"]))


class GoQuoteTest(unittest.TestCase):
    def test_as_go_quotes(self):
        # Expected values are Go's strconv.Quote of the same strings.
        for s, want in [
            ("plain", '"plain"'),
            ('q"b\\s', '"q\\"b\\\\s"'),
            ("\n\t\r\a\b\f\v", '"\\n\\t\\r\\a\\b\\f\\v"'),
            ("\x00\x1f\x7f", '"\\x00\\x1f\\x7f"'),
            ("naïve ☕ 日本", '"naïve ☕ 日本"'),
            ("\u00a0\u200b", '"\\u00a0\\u200b"'),
            ("\U000e0001", '"\\U000e0001"'),
        ]:
            self.assertEqual(_go_quote(s), want)

    def test_placeholders_in_order_of_first_use(self):
        self.assertEqual(placeholders("{{b}} {{a}} {{b}} {{ c }} {{{d}}}"), ["b", "a", " c ", "d"])


if __name__ == "__main__":
    unittest.main()
