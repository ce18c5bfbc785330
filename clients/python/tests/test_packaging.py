"""pip install ./clients/python gives a package that imports on its own."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


@unittest.skipIf(subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode != 0,
                 "pip is not installed (apt-get install python3-pip)")
class PackagingTest(unittest.TestCase):
    def test_pip_install(self):
        target = tempfile.mkdtemp(prefix="aiconfig-pip-")
        build = tempfile.mkdtemp(prefix="aiconfig-src-")
        try:
            # A copy of the sources, so the build leaves nothing in the tree.
            src = Path(build) / "python"
            shutil.copytree(HERE, src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
            # No PyPI here: build with the installed setuptools, and the
            # dependencies are the system's grpcio and protobuf.
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                            "--no-index", "--target", target, str(src)], check=True, capture_output=True)
            out = subprocess.run(
                [sys.executable, "-c", "import aiconfig, aiconfig.django, aiconfig.v1.config_pb2_grpc, aiconfig._rpc.status_pb2; "
                                       "print(aiconfig.__file__); print(aiconfig.Client, aiconfig.Reason.TOKEN_MISSING)"],
                cwd=target, env=dict(os.environ, PYTHONPATH=target), check=True, capture_output=True, text=True).stdout
            self.assertTrue(out.startswith(target), out)
            self.assertIn("TOKEN_MISSING", out)
        finally:
            shutil.rmtree(target, ignore_errors=True)
            shutil.rmtree(build, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
