"""python3 -m tests (from clients/python): every test, verbose; the exit
status is 1 if any failed or none ran, so make and CI see it."""

import sys
import unittest

suite = unittest.defaultTestLoader.discover("tests", top_level_dir=".")
result = unittest.TextTestRunner(verbosity=2).run(suite)
if result.testsRun == 0:
    print("no tests ran", file=sys.stderr)
sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
